"""Builders of minimal IVMS101 protobuf payloads and transfer facts for the transfers tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from travelgate._pb.ivms101 import enum_pb2, identity_pb2, ivms101_pb2
from travelgate.transfers import (
    Money,
    TransactionRecord,
    TransferFacts,
    Valuation,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def address(*, country: str = "DE", line: bool = True) -> ivms101_pb2.Address:
    return ivms101_pb2.Address(
        address_type=enum_pb2.ADDRESS_TYPE_CODE_HOME,
        address_line=["Hauptstrasse 1, Berlin"] if line else [],
        country=country,
    )


def natural(
    *,
    name: bool = True,
    address_: bool = False,
    natid: int | None = None,
    custid: bool = False,
    dobpob: bool = False,
) -> ivms101_pb2.Person:
    """A natural person with exactly the asked items (`natid` is an identifier type code)."""
    person = ivms101_pb2.NaturalPerson()
    if name:
        person.name.name_identifiers.add(
            primary_identifier="Doe",
            secondary_identifier="Jane",
            name_identifier_type=enum_pb2.NATURAL_PERSON_NAME_TYPE_CODE_LEGL,
        )
    else:
        # A name that exists but is not a legal name does not satisfy NAME.
        person.name.name_identifiers.add(
            primary_identifier="JD",
            name_identifier_type=enum_pb2.NATURAL_PERSON_NAME_TYPE_CODE_ALIA,
        )
    if address_:
        person.geographic_addresses.append(address())
    if natid is not None:
        person.national_identification.national_identifier = "X1234567"
        person.national_identification.national_identifier_type = natid  # type: ignore[assignment]
        person.national_identification.country_of_issue = "DE"
    if custid:
        person.customer_identification = "cust-1"
    if dobpob:
        person.date_and_place_of_birth.date_of_birth = "1980-01-01"
        person.date_and_place_of_birth.place_of_birth = "Berlin"
    return ivms101_pb2.Person(natural_person=person)


PASSPORT = enum_pb2.NATIONAL_IDENTIFIER_TYPE_CODE_CCPT
LEIX = enum_pb2.NATIONAL_IDENTIFIER_TYPE_CODE_LEIX
RAID = enum_pb2.NATIONAL_IDENTIFIER_TYPE_CODE_RAID


def legal(
    *,
    name: bool = True,
    address_: bool = False,
    natid: int | None = None,
    custid: bool = False,
) -> ivms101_pb2.Person:
    person = ivms101_pb2.LegalPerson()
    person.name.name_identifiers.add(
        legal_person_name="Acme GmbH",
        legal_person_name_identifier_type=(
            enum_pb2.LEGAL_PERSON_NAME_TYPE_CODE_LEGL
            if name
            else enum_pb2.LEGAL_PERSON_NAME_TYPE_CODE_TRAD
        ),
    )
    if address_:
        person.geographic_addresses.append(address())
    if natid is not None:
        person.national_identification.national_identifier = (
            "529900T8BM49AURSDO55" if natid == LEIX else "HRB 1234"
        )
        person.national_identification.national_identifier_type = natid  # type: ignore[assignment]
        if natid != LEIX:
            person.national_identification.registration_authority = "RA000242"
    if custid:
        person.customer_number = "cust-9"
    return ivms101_pb2.Person(legal_person=person)


def vasp(name: str) -> ivms101_pb2.Person:
    person = ivms101_pb2.LegalPerson()
    person.name.name_identifiers.add(
        legal_person_name=name,
        legal_person_name_identifier_type=enum_pb2.LEGAL_PERSON_NAME_TYPE_CODE_LEGL,
    )
    return ivms101_pb2.Person(legal_person=person)


FULL = natural(address_=True, natid=PASSPORT, custid=True, dobpob=True)
"""A natural person carrying every item."""


def payload(
    originators: Sequence[ivms101_pb2.Person] = (FULL,),
    beneficiaries: Sequence[ivms101_pb2.Person] = (natural(),),
    *,
    originator_accounts: Sequence[str] = ("bc1qorig",),
    beneficiary_accounts: Sequence[str] = ("bc1qbene",),
    ovasp: bool = True,
    bvasp: bool = True,
) -> identity_pb2.IdentityPayload:
    msg = identity_pb2.IdentityPayload(
        originator=identity_pb2.Originator(
            originator_persons=list(originators), account_numbers=list(originator_accounts)
        ),
        beneficiary=identity_pb2.Beneficiary(
            beneficiary_persons=list(beneficiaries), account_numbers=list(beneficiary_accounts)
        ),
    )
    if ovasp:
        msg.originating_vasp.originating_vasp.CopyFrom(vasp("Alice VASP"))
    if bvasp:
        msg.beneficiary_vasp.beneficiary_vasp.CopyFrom(vasp("Bob VASP"))
    return msg


def record(
    *,
    amount: str | None = "0.5",
    originator_address: str = "",
    beneficiary_address: str = "",
    timestamp: datetime | None = NOW,
) -> TransactionRecord:
    return TransactionRecord(
        amount=None if amount is None else Decimal(amount),
        asset="BTC",
        network="bitcoin",
        originator_address=originator_address,
        beneficiary_address=beneficiary_address,
        timestamp=timestamp,
    )


def value(amount: str, currency: str = "USD", *, as_of: datetime = NOW) -> Valuation:
    return Valuation(Money(Decimal(amount), currency), as_of)


def facts(
    direction: str = "outbound",
    *,
    identity: identity_pb2.IdentityPayload | None = None,
    valuation: Valuation | None = None,
    kind: str = "vasp",
    counterparty: str | None = "bob.example",
    in_directory: bool = True,
    transaction: TransactionRecord | None = None,
    no_valuation: bool = False,
    no_identity: bool = False,
    **extra: object,
) -> TransferFacts:
    return TransferFacts(
        direction=direction,  # type: ignore[arg-type]  # converted by TransferFacts
        identity=None if no_identity else payload() if identity is None else identity,
        transaction=record() if transaction is None else transaction,
        valuation=None if no_valuation else value("100") if valuation is None else valuation,
        counterparty_kind=kind,  # type: ignore[arg-type]
        counterparty=counterparty,
        in_directory=in_directory,
        now=NOW,
        **extra,  # type: ignore[arg-type]
    )
