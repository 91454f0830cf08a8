"""IVMS101 persons made readable for a person: names, addresses, national ids, birth.

Works on the IVMS101 JSON encoding (`ivms101.person_from_protobuf`, customer records), so
what an officer reads is exactly what was exchanged; the raw document stays one click away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from travelgate import envelope as env
from travelgate import ivms101
from travelgate.errors import TravelgateError

# IVMS101 code lists, in words.
NAME_TYPES = {
    "ALIA": "alias",
    "BIRT": "name at birth",
    "MAID": "maiden name",
    "LEGL": "legal name",
    "MISC": "other name",
    "LOCL": "local name",
    "SHRT": "short name",
    "TRAD": "trading name",
}
ADDRESS_TYPES = {"HOME": "home", "BIZZ": "business", "GEOG": "geographic"}
ID_TYPES = {
    "ARNU": "alien registration number",
    "CCPT": "passport number",
    "RAID": "registration authority id",
    "DRLC": "driver's licence",
    "FIIN": "foreign investment id",
    "TXID": "tax id",
    "SOCS": "social security number",
    "IDCD": "identity card",
    "LEIX": "LEI",
    "MISC": "other id",
}
_ADDRESS_PARTS = (
    "department",
    "subDepartment",
    "buildingNumber",
    "streetName",
    "buildingName",
    "floor",
    "postBox",
    "room",
    "postCode",
    "townName",
    "townLocationName",
    "districtName",
    "countrySubDivision",
)


@dataclass(frozen=True)
class ReadablePerson:
    """One IVMS101 person, field by field, in words."""

    kind: str  # natural person | legal person
    names: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    national_ids: list[str] = field(default_factory=list)
    birth: str | None = None
    residence: str | None = None
    customer_number: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Party:
    """A side of a transfer: its persons, accounts and VASP."""

    title: str
    persons: list[ReadablePerson]
    accounts: list[str]
    vasp: ReadablePerson | None = None


def _name_lines(identifiers: Iterable[Mapping[str, Any]], legal: bool) -> list[str]:
    lines = []
    for entry in identifiers:
        if legal:
            text = str(entry.get("legalPersonName", ""))
            kind = entry.get("legalPersonNameIdentifierType", "")
        else:
            given = entry.get("secondaryIdentifier", "")
            text = " ".join(f"{given} {entry.get('primaryIdentifier', '')}".split())
            kind = entry.get("nameIdentifierType", "")
        if text:
            lines.append(f"{text} ({NAME_TYPES.get(str(kind), str(kind) or 'name')})")
    return lines


def _address_line(address: Mapping[str, Any]) -> str:
    lines = [str(line) for line in address.get("addressLine", []) or []]
    parts = [str(address[key]) for key in _ADDRESS_PARTS if address.get(key)]
    text = ", ".join([*lines, *parts, str(address.get("country", ""))]).strip(", ")
    kind = ADDRESS_TYPES.get(str(address.get("addressType", "")), "address")
    return f"{text} ({kind})"


def _national_id(entry: Mapping[str, Any]) -> str:
    kind = ID_TYPES.get(str(entry.get("nationalIdentifierType", "")), "id")
    where = entry.get("countryOfIssue") or entry.get("registrationAuthority")
    suffix = f", {where}" if where else ""
    return f"{kind}: {entry.get('nationalIdentifier', '')}{suffix}"


def readable_person(person: Mapping[str, Any]) -> ReadablePerson:
    natural = person.get("naturalPerson")
    if isinstance(natural, Mapping):
        name = natural.get("name") or {}
        birth = natural.get("dateAndPlaceOfBirth") or {}
        born = None
        if birth:
            born = " in ".join(
                str(part) for part in (birth.get("dateOfBirth"), birth.get("placeOfBirth")) if part
            )
        national = natural.get("nationalIdentification")
        return ReadablePerson(
            kind="natural person",
            names=_name_lines(name.get("nameIdentifier", []), legal=False)
            + _name_lines(name.get("localNameIdentifier", []), legal=False),
            addresses=[_address_line(a) for a in natural.get("geographicAddress", []) or []],
            national_ids=[_national_id(national)] if isinstance(national, Mapping) else [],
            birth=born,
            residence=natural.get("countryOfResidence"),
            customer_number=natural.get("customerIdentification"),
            raw=person,
        )
    legal = person.get("legalPerson")
    if isinstance(legal, Mapping):
        name = legal.get("name") or {}
        national = legal.get("nationalIdentification")
        return ReadablePerson(
            kind="legal person",
            names=_name_lines(name.get("nameIdentifier", []), legal=True),
            addresses=[_address_line(a) for a in legal.get("geographicAddress", []) or []],
            national_ids=[_national_id(national)] if isinstance(national, Mapping) else [],
            residence=legal.get("countryOfRegistration"),
            customer_number=legal.get("customerNumber"),
            raw=person,
        )
    return ReadablePerson(kind="unknown", raw=person)


def _person_json(message: Any) -> dict[str, Any] | None:
    try:
        return ivms101.person_from_protobuf(message)
    except (TravelgateError, ValueError):
        return None


def _readable_all(messages: Iterable[Any]) -> list[ReadablePerson]:
    found = [_person_json(message) for message in messages]
    return [readable_person(person) for person in found if person is not None]


def parties_of_payload(payload_bytes: bytes | None) -> list[Party]:
    """Originator and beneficiary of a stored (decrypted, sealed-at-rest) TRISA payload."""
    if payload_bytes is None:
        return []
    from travelgate._pb.trisa.api.v1beta1 import api_pb2

    payload = api_pb2.Payload()
    try:
        payload.ParseFromString(payload_bytes)
        parts = env.check_payload(payload, accept_confirmation_receipt=True)
    except (TravelgateError, ValueError):
        return []
    identity = parts.identity
    originating = _readable_all([identity.originating_vasp.originating_vasp])
    beneficiary_vasp = _readable_all([identity.beneficiary_vasp.beneficiary_vasp])
    return [
        Party(
            "Originator",
            _readable_all(identity.originator.originator_persons),
            list(identity.originator.account_numbers),
            originating[0] if originating and originating[0].names else None,
        ),
        Party(
            "Beneficiary",
            _readable_all(identity.beneficiary.beneficiary_persons),
            list(identity.beneficiary.account_numbers),
            beneficiary_vasp[0] if beneficiary_vasp and beneficiary_vasp[0].names else None,
        ),
    ]
