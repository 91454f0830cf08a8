"""The beneficiary form of a sunrise page: fields in, an IVMS101 Person out, and every
IVMS101 violation shown next to the field it concerns.

The counterparty enters (or confirms) the beneficiary as a natural or a legal person; the
Person is validated with the same rules as every other identity (`person_violations`),
under the peer's profile, so what a sunrise acceptance records is as valid as what a
TRISA reply carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from travelgate.service import person_violations

NATURAL = "natural"
LEGAL = "legal"
FIELDS = (
    "kind",
    "family_name",
    "given_names",
    "legal_name",
    "date_of_birth",
    "place_of_birth",
    "country",
    "street",
    "building",
    "postcode",
    "town",
    "address_country",
)
MAX_FIELD = 200
# Where an IVMS101 path lands on the form (the first prefix that matches wins).
_FIELD_OF_PATH = (
    (".primaryIdentifier", "family_name"),
    (".secondaryIdentifier", "given_names"),
    (".legalPersonName", "legal_name"),
    (".name", "family_name"),
    (".dateOfBirth", "date_of_birth"),
    (".placeOfBirth", "place_of_birth"),
    ("countryOfResidence", "country"),
    ("countryOfRegistration", "country"),
    (".streetName", "street"),
    (".buildingNumber", "building"),
    (".postCode", "postcode"),
    (".townName", "town"),
    ("].country", "address_country"),
    ("geographicAddress", "street"),
)


@dataclass
class BeneficiaryForm:
    """What the counterparty typed, and the problems found with it, by field."""

    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def form_from_person(person: Mapping[str, Any] | None, fallback_name: str) -> BeneficiaryForm:
    """The form pre-filled with the beneficiary as the originator sent it."""
    values = dict.fromkeys(FIELDS, "")
    values["kind"] = NATURAL
    if person and "legalPerson" in person:
        legal = person["legalPerson"]
        values["kind"] = LEGAL
        names = legal.get("name", {}).get("nameIdentifier", [{}])
        values["legal_name"] = str(names[0].get("legalPersonName", "")) if names else ""
        values["country"] = str(legal.get("countryOfRegistration", ""))
        _address(values, legal)
    elif person and "naturalPerson" in person:
        natural = person["naturalPerson"]
        names = natural.get("name", {}).get("nameIdentifier", [{}])
        first = names[0] if names else {}
        values["family_name"] = str(first.get("primaryIdentifier", ""))
        values["given_names"] = str(first.get("secondaryIdentifier", ""))
        birth = natural.get("dateAndPlaceOfBirth") or {}
        values["date_of_birth"] = str(birth.get("dateOfBirth", ""))
        values["place_of_birth"] = str(birth.get("placeOfBirth", ""))
        values["country"] = str(natural.get("countryOfResidence", ""))
        _address(values, natural)
    else:
        # A bare name is not split: IVMS101 puts an unstructured legal name in full in
        # the primary identifier, and the counterparty corrects it if it must.
        values["family_name"] = fallback_name
    return BeneficiaryForm(values)


def _address(values: dict[str, str], person: Mapping[str, Any]) -> None:
    addresses = person.get("geographicAddress") or []
    if not addresses:
        return
    first = addresses[0]
    values["street"] = str(first.get("streetName", ""))
    values["building"] = str(first.get("buildingNumber", ""))
    values["postcode"] = str(first.get("postCode", ""))
    values["town"] = str(first.get("townName", ""))
    values["address_country"] = str(first.get("country", ""))


def read_form(posted: Mapping[str, str]) -> BeneficiaryForm:
    """The posted fields, trimmed; length and choice problems already noted."""
    form = BeneficiaryForm({name: " ".join(str(posted.get(name, "")).split()) for name in FIELDS})
    if form.values["kind"] not in (NATURAL, LEGAL):
        form.add("kind", "choose a natural person or a legal person")
    for name, value in form.values.items():
        if len(value) > MAX_FIELD:
            form.add(name, f"at most {MAX_FIELD} characters")
    for name in ("country", "address_country"):
        form.values[name] = form.values[name].upper()
    return form


def person_of(form: BeneficiaryForm) -> dict[str, Any]:
    """The IVMS101 Person (standard JSON) the form describes; empty fields are left out."""
    v = form.values
    address = {
        key: v[name]
        for key, name in (
            ("streetName", "street"),
            ("buildingNumber", "building"),
            ("postCode", "postcode"),
            ("townName", "town"),
            ("country", "address_country"),
        )
        if v[name]
    }
    if v["kind"] == LEGAL:
        legal: dict[str, Any] = {
            "name": {
                "nameIdentifier": [
                    {"legalPersonName": v["legal_name"], "legalPersonNameIdentifierType": "LEGL"}
                ]
            }
        }
        if address:
            legal["geographicAddress"] = [{"addressType": "BIZZ", **address}]
        if v["country"]:
            legal["countryOfRegistration"] = v["country"]
        return {"legalPerson": legal}
    name: dict[str, str] = {"primaryIdentifier": v["family_name"], "nameIdentifierType": "LEGL"}
    if v["given_names"]:
        name["secondaryIdentifier"] = v["given_names"]
    natural: dict[str, Any] = {"name": {"nameIdentifier": [name]}}
    if address:
        natural["geographicAddress"] = [{"addressType": "HOME", **address}]
    if v["date_of_birth"] or v["place_of_birth"]:
        natural["dateAndPlaceOfBirth"] = {
            "dateOfBirth": v["date_of_birth"],
            "placeOfBirth": v["place_of_birth"],
        }
    if v["country"]:
        natural["countryOfResidence"] = v["country"]
    return {"naturalPerson": natural}


def validate_form(form: BeneficiaryForm, profile: str) -> dict[str, Any] | None:
    """The Person when the form is valid IVMS101 under `profile`; else None, with every
    violation noted next to its field (those of no field under `kind`)."""
    if not form.valid:
        return None
    person = person_of(form)
    for violation in person_violations(person, "beneficiary", profile):
        form.add(_field_of(violation["path"]), f"{violation['message']} ({violation['rule']})")
    return person if form.valid else None


def _field_of(path: str) -> str:
    for fragment, name in _FIELD_OF_PATH:
        if fragment in path:
            return name
    return "kind"
