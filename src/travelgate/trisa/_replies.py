"""Payloads the gateway answers with: echoes, Pending records, completed identities.

Every non-error reply carries the full identity payload, because the goal of the exchange
is that both VASPs end up holding identical data (TRISA reply envelopes); the beneficiary side
fills in its own part (our customer, our VASP) when it accepts (TRISA synchronous transfers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from travelgate import envelope as env
from travelgate._pb.ivms101 import enum_pb2, identity_pb2, ivms101_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2


@dataclass(frozen=True)
class VaspInfo:
    """Our own VASP identity as it appears in payloads (originatingVASP / beneficiaryVASP)."""

    name: str
    legal_name: str
    country: str
    lei: str = ""

    def legal_person(self) -> ivms101_pb2.Person:
        person = ivms101_pb2.Person()
        legal = person.legal_person
        legal.name.name_identifiers.add(
            legal_person_name=self.legal_name,
            legal_person_name_identifier_type=enum_pb2.LEGAL_PERSON_NAME_TYPE_CODE_LEGL,
        )
        legal.country_of_registration = self.country
        if self.lei:
            legal.national_identification.national_identifier = self.lei
            legal.national_identification.national_identifier_type = (
                enum_pb2.NATIONAL_IDENTIFIER_TYPE_CODE_LEIX
            )
        return person


def payload_digest(payload: api_pb2.Payload) -> str:
    """Content digest of a payload, for logical-duplicate detection (TRISA duplicate envelopes)."""
    return hashlib.sha256(payload.SerializeToString(deterministic=True)).hexdigest()


def echo(payload: api_pb2.Payload, *, received_at: str | None = None) -> api_pb2.Payload:
    """The same payload with `received_at` set (kept if the sender already set it)."""
    reply = api_pb2.Payload()
    reply.CopyFrom(payload)
    if not reply.received_at:
        reply.received_at = received_at or env.format_timestamp()
    return reply


def with_identity(
    payload: api_pb2.Payload, identity: identity_pb2.IdentityPayload
) -> api_pb2.Payload:
    reply = api_pb2.Payload()
    reply.CopyFrom(payload)
    reply.identity.CopyFrom(env.pack(identity))
    return reply


def completed_identity(
    identity: identity_pb2.IdentityPayload,
    *,
    customer_person: ivms101_pb2.Person | None,
    address: str,
    vasp: VaspInfo,
) -> identity_pb2.IdentityPayload:
    """The beneficiary's answer: our customer and our VASP filled in where missing."""
    result = identity_pb2.IdentityPayload()
    result.CopyFrom(identity)
    beneficiary = result.beneficiary
    if customer_person is not None:
        # Our KYC record is authoritative for our own customer: it replaces what the
        # originator typed (often just a name), so both sides hold the verified identity.
        del beneficiary.beneficiary_persons[:]
        beneficiary.beneficiary_persons.add().CopyFrom(customer_person)
    if address and address not in beneficiary.account_numbers:
        beneficiary.account_numbers.append(address)
    if not result.beneficiary_vasp.HasField("beneficiary_vasp"):
        result.beneficiary_vasp.beneficiary_vasp.CopyFrom(vasp.legal_person())
    return result


def pending_payload(
    payload: api_pb2.Payload,
    *,
    envelope_id: str,
    received_by: str,
    message: str,
    not_before: timedelta,
    not_after: timedelta,
    now: datetime | None = None,
) -> api_pb2.Payload:
    """A PENDING reply: the identity received and a Pending record with the reply window."""
    now = now or datetime.now(UTC)
    received_at = env.format_timestamp(now)
    parts = env.check_payload(payload)
    pending = transaction_pb2.Pending(
        envelope_id=envelope_id,
        received_by=received_by,
        received_at=received_at,
        message=message,
        reply_not_before=env.format_timestamp_seconds(now + not_before),
        reply_not_after=env.format_timestamp_seconds(now + not_after),
    )
    pending.transaction.CopyFrom(parts.underlying_transaction)
    return env.make_payload(
        parts.identity, pending, sent_at=payload.sent_at, received_at=received_at
    )


def transaction_payload(
    payload: api_pb2.Payload, *, txid: str = "", received_at: str = ""
) -> api_pb2.Payload:
    """A payload carrying a Transaction again (after a Pending), optionally with the txid."""
    parts = env.check_payload(payload)
    transaction = transaction_pb2.Transaction()
    transaction.CopyFrom(parts.underlying_transaction)
    if txid:
        transaction.txid = txid
        if not transaction.timestamp:
            transaction.timestamp = env.format_timestamp_seconds(datetime.now(UTC))
    return env.make_payload(
        parts.identity,
        transaction,
        sent_at=payload.sent_at,
        received_at=received_at or payload.received_at,
    )


def resumed_payload(stored: bytes, *, txid: str = "") -> api_pb2.Payload:
    """A conversation's stored payload as a Transaction payload again (after a Pending),
    with the txid once broadcast: what the next message of the exchange carries."""
    payload = api_pb2.Payload()
    payload.ParseFromString(stored)
    return transaction_payload(payload, txid=txid)


def beneficiary_address(parts: env.PayloadParts) -> str:
    """The address the beneficiary is paid at: the transaction's, else the first account."""
    address = parts.underlying_transaction.beneficiary
    if address:
        return address
    accounts = parts.identity.beneficiary.account_numbers
    return accounts[0] if accounts else ""


def natural_names(person: ivms101_pb2.Person) -> set[str]:
    """Normalized LEGL names of a person, for comparing what a sender typed with our KYC."""
    names: set[str] = set()
    if person.HasField("natural_person"):
        for name in person.natural_person.name.name_identifiers:
            names.add(_normal(f"{name.secondary_identifier} {name.primary_identifier}"))
            names.add(_normal(f"{name.primary_identifier} {name.secondary_identifier}"))
    elif person.HasField("legal_person"):
        for legal in person.legal_person.name.name_identifiers:
            names.add(_normal(legal.legal_person_name))
    names.discard("")
    return names


def _normal(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.casefold().replace(",", " ").replace(".", " ").split())


def names_match(given: ivms101_pb2.Person, ours: ivms101_pb2.Person) -> bool:
    """Whether a beneficiary person the originator sent names our customer."""
    return bool(natural_names(given) & natural_names(ours))


def person_from_json(person: Mapping[str, Any]) -> ivms101_pb2.Person:
    """An IVMS101 Person in the standard JSON shape (our customer records) as protobuf."""
    from travelgate import ivms101

    return ivms101.person_to_protobuf(dict(person))
