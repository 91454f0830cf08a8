"""Valid TRISA payloads for tests, built with the generated protobuf classes."""

from __future__ import annotations

from support.nodes import ALICE_ADDRESS, BOB_ADDRESS
from travelgate import envelope as env
from travelgate._pb.ivms101 import enum_pb2, identity_pb2, ivms101_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2

LEGL = enum_pb2.NATURAL_PERSON_NAME_TYPE_CODE_LEGL


def natural_person(surname: str, given: str, *, full: bool = True) -> ivms101_pb2.Person:
    result = ivms101_pb2.Person()
    natural = result.natural_person
    natural.name.name_identifiers.add(
        primary_identifier=surname, secondary_identifier=given, name_identifier_type=LEGL
    )
    if full:
        natural.geographic_addresses.add(
            address_type=enum_pb2.ADDRESS_TYPE_CODE_HOME,
            street_name="High Street",
            building_number="1",
            town_name="London",
            country="GB",
        )
        natural.date_and_place_of_birth.date_of_birth = "1980-01-31"
        natural.date_and_place_of_birth.place_of_birth = "London"
        natural.country_of_residence = "GB"
    return result


def vasp(legal_name: str) -> ivms101_pb2.Person:
    result = ivms101_pb2.Person()
    legal = result.legal_person
    legal.name.name_identifiers.add(
        legal_person_name=legal_name,
        legal_person_name_identifier_type=enum_pb2.LEGAL_PERSON_NAME_TYPE_CODE_LEGL,
    )
    legal.country_of_registration = "GB"
    return result


def identity(
    *,
    beneficiary: tuple[str, str] | None = ("Jones", "Bob"),
    beneficiary_address: str = BOB_ADDRESS,
) -> identity_pb2.IdentityPayload:
    result = identity_pb2.IdentityPayload()
    result.originator.originator_persons.add().CopyFrom(natural_person("Smith", "Alice"))
    result.originator.account_numbers.append(ALICE_ADDRESS)
    if beneficiary is not None:
        result.beneficiary.beneficiary_persons.add().CopyFrom(
            natural_person(*beneficiary, full=False)
        )
    result.beneficiary.account_numbers.append(beneficiary_address)
    result.originating_vasp.originating_vasp.CopyFrom(vasp("Alice VASP Ltd"))
    return result


def transfer_payload(
    *,
    beneficiary_address: str = BOB_ADDRESS,
    beneficiary: tuple[str, str] | None = ("Jones", "Bob"),
    amount: float = 0.5,
) -> api_pb2.Payload:
    transaction = transaction_pb2.Transaction(
        originator=ALICE_ADDRESS,
        beneficiary=beneficiary_address,
        amount=amount,
        network="BTC",
        asset_type="BTC",
    )
    return env.make_payload(
        identity(beneficiary=beneficiary, beneficiary_address=beneficiary_address),
        transaction,
        sent_at=env.format_timestamp(),
    )
