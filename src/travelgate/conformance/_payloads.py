"""The payloads the suite sends: one valid transfer, and the parts its defective cousins use.

The valid transfer is what a careful originator sends (TRISA sealing, sync transfers): a complete
originator (name, address, date and place of birth), the beneficiary the operator named,
our own VASP as originating VASP, and a Transaction without txid.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from travelgate import envelope as env
from travelgate._pb.ivms101 import enum_pb2, identity_pb2, ivms101_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2

ORIGINATOR_ADDRESS = "bc1qconformance0originator00000000000000"
ORIGINATOR_NAME = ("Tester", "Conformance")
# When the operator names no customer of the peer, a peer answers the valid transfer with a
# (legitimate) refusal and the cases that need an acceptance are skipped, saying so.
DEFAULT_BENEFICIARY_ADDRESS = "bc1qconformance0beneficiary0000000000000"
DEFAULT_BENEFICIARY_NAME = ("Doe", "Jane")
AMOUNT = 0.0001
NETWORK = "BTC"


@dataclass(frozen=True)
class Parties:
    """Who the test transfers are between."""

    beneficiary_address: str
    beneficiary_name: tuple[str, str] = DEFAULT_BENEFICIARY_NAME
    vasp_legal_name: str = "Conformance Tester"
    vasp_country: str = "GB"


def unknown_address() -> str:
    """An address no VASP controls, fresh per call so no two cases share one."""
    return f"bc1qconformance0nobody{secrets.token_hex(8)}"


def natural_person(surname: str, given: str, *, complete: bool) -> ivms101_pb2.Person:
    person = ivms101_pb2.Person()
    natural = person.natural_person
    natural.name.name_identifiers.add(
        primary_identifier=surname,
        secondary_identifier=given,
        name_identifier_type=enum_pb2.NATURAL_PERSON_NAME_TYPE_CODE_LEGL,
    )
    if complete:
        natural.geographic_addresses.add(
            address_type=enum_pb2.ADDRESS_TYPE_CODE_HOME,
            street_name="Test Street",
            building_number="1",
            post_code="EC1A 1AA",
            town_name="London",
            country="GB",
        )
        natural.date_and_place_of_birth.date_of_birth = "1980-01-31"
        natural.date_and_place_of_birth.place_of_birth = "London"
        natural.country_of_residence = "GB"
    return person


def legal_person(name: str, country: str) -> ivms101_pb2.Person:
    person = ivms101_pb2.Person()
    legal = person.legal_person
    legal.name.name_identifiers.add(
        legal_person_name=name,
        legal_person_name_identifier_type=enum_pb2.LEGAL_PERSON_NAME_TYPE_CODE_LEGL,
    )
    legal.country_of_registration = country
    return person


def identity(parties: Parties, address: str) -> identity_pb2.IdentityPayload:
    result = identity_pb2.IdentityPayload()
    originator = result.originator
    originator.originator_persons.add().CopyFrom(natural_person(*ORIGINATOR_NAME, complete=True))
    originator.account_numbers.append(ORIGINATOR_ADDRESS)
    beneficiary = result.beneficiary
    beneficiary.beneficiary_persons.add().CopyFrom(
        natural_person(*parties.beneficiary_name, complete=False)
    )
    beneficiary.account_numbers.append(address)
    result.originating_vasp.originating_vasp.CopyFrom(
        legal_person(parties.vasp_legal_name, parties.vasp_country)
    )
    return result


def invalid_identity(parties: Parties, address: str) -> identity_pb2.IdentityPayload:
    """Well-formed protobuf, invalid IVMS101: a country that is not an ISO 3166 code.

    The same defect as the reference's own `payload/identity.json` (TRISA reference test vectors).
    """
    result = identity(parties, address)
    person = result.originator.originator_persons[0].natural_person
    person.geographic_addresses[0].country = "United Kingdom"
    return result


def transaction(address: str) -> transaction_pb2.Transaction:
    return transaction_pb2.Transaction(
        originator=ORIGINATOR_ADDRESS,
        beneficiary=address,
        amount=AMOUNT,
        network=NETWORK,
        asset_type=NETWORK,
    )


def valid_payload(parties: Parties, *, address: str | None = None) -> api_pb2.Payload:
    """A transfer request (STARTED) to `address` (default: the operator's beneficiary)."""
    address = address or parties.beneficiary_address
    return env.make_payload(
        identity(parties, address), transaction(address), sent_at=env.format_timestamp()
    )
