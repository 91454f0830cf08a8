"""TRISA payload rules: required parts, accepted type URLs, timestamps, unpacking."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from google.protobuf import any_pb2
from google.protobuf.message import DecodeError, Message

from travelgate._pb.ivms101 import identity_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2
from travelgate.envelope._formats import is_timestamp
from travelgate.errors import (
    MissingFieldsError,
    UnparseableIdentityError,
    UnparseableTransactionError,
    ValidationError,
)

TYPE_PREFIX = "type.googleapis.com/"
IDENTITY_TYPE_URL = TYPE_PREFIX + identity_pb2.IdentityPayload.DESCRIPTOR.full_name


class TransactionKind(StrEnum):
    TRANSACTION = "Transaction"
    PENDING = "Pending"
    SUNRISE = "Sunrise"
    CONFIRMATION_RECEIPT = "ConfirmationReceipt"


_TRANSACTION_TYPES: dict[TransactionKind, type[Message]] = {
    TransactionKind.TRANSACTION: transaction_pb2.Transaction,
    TransactionKind.PENDING: transaction_pb2.Pending,
    TransactionKind.SUNRISE: transaction_pb2.Sunrise,
    TransactionKind.CONFIRMATION_RECEIPT: transaction_pb2.ConfirmationReceipt,
}
_TYPE_URLS = {
    TYPE_PREFIX + cls.DESCRIPTOR.full_name: kind for kind, cls in _TRANSACTION_TYPES.items()
}
_ACCEPTED = frozenset(
    {TransactionKind.TRANSACTION, TransactionKind.PENDING, TransactionKind.SUNRISE}
)

TransactionMessage = (
    transaction_pb2.Transaction
    | transaction_pb2.Pending
    | transaction_pb2.Sunrise
    | transaction_pb2.ConfirmationReceipt
)


@dataclass(frozen=True)
class PayloadParts:
    """A payload that passed the rules, with its Any values unpacked."""

    payload: api_pb2.Payload
    identity: identity_pb2.IdentityPayload
    kind: TransactionKind
    transaction: TransactionMessage

    @property
    def underlying_transaction(self) -> transaction_pb2.Transaction:
        """The on-chain Transaction, also for Pending/Sunrise wrappers."""
        if isinstance(self.transaction, transaction_pb2.Transaction):
            return self.transaction
        if isinstance(self.transaction, transaction_pb2.ConfirmationReceipt):
            return transaction_pb2.Transaction()
        return self.transaction.transaction


def pack(message: identity_pb2.IdentityPayload | TransactionMessage) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def make_payload(
    identity: identity_pb2.IdentityPayload,
    transaction: TransactionMessage,
    *,
    sent_at: str,
    received_at: str = "",
) -> api_pb2.Payload:
    return api_pb2.Payload(
        identity=pack(identity),
        transaction=pack(transaction),
        sent_at=sent_at,
        received_at=received_at,
    )


def check_payload(
    payload: api_pb2.Payload, *, accept_confirmation_receipt: bool = False
) -> PayloadParts:
    """Apply the payload rules in the spec's order (steps 19-20), raising the first failure.

    `accept_confirmation_receipt` lets a reply from a legacy peer through (it then reads
    like Pending); a Transfer request never carries one.
    """
    if not payload.HasField("identity"):
        raise MissingFieldsError("payload has no identity")
    if not payload.HasField("transaction"):
        raise MissingFieldsError("payload has no transaction")
    if not payload.sent_at:
        raise MissingFieldsError("payload has no sent_at")
    if payload.identity.type_url != IDENTITY_TYPE_URL:
        raise UnparseableIdentityError(f"identity must be {IDENTITY_TYPE_URL}")
    kind = _TYPE_URLS.get(payload.transaction.type_url)
    accepted = _ACCEPTED | (
        {TransactionKind.CONFIRMATION_RECEIPT} if accept_confirmation_receipt else set()
    )
    if kind is None or kind not in accepted:
        names = ", ".join(
            TYPE_PREFIX + _TRANSACTION_TYPES[k].DESCRIPTOR.full_name for k in sorted(accepted)
        )
        raise UnparseableTransactionError(f"transaction must be one of {names}")
    if not is_timestamp(payload.sent_at):
        raise ValidationError("sent_at is not an RFC 3339 timestamp with a time zone")
    if payload.received_at and not is_timestamp(payload.received_at):
        raise ValidationError("received_at is not an RFC 3339 timestamp with a time zone")
    identity = identity_pb2.IdentityPayload()
    try:
        identity.ParseFromString(payload.identity.value)
    except DecodeError:
        raise UnparseableIdentityError(
            "identity does not decode as ivms101.IdentityPayload"
        ) from None
    transaction = cast(TransactionMessage, _TRANSACTION_TYPES[kind]())
    try:
        transaction.ParseFromString(payload.transaction.value)
    except DecodeError:
        raise UnparseableTransactionError(f"transaction does not decode as {kind.value}") from None
    return PayloadParts(payload, identity, kind, transaction)
