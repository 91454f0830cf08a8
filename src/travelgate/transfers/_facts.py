"""The inputs of a policy decision: one transfer as the node sees it.

Values are checked on construction (exact `Decimal` money, aware datetimes, known enum
values) so that the engine never has to doubt them; a bad value is a programming error of
the caller and raises `InvalidFactsError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from travelgate._pb.ivms101 import identity_pb2
from travelgate.errors import InvalidFactsError

__all__ = [
    "BeneficiaryMatch",
    "CounterpartyKind",
    "Direction",
    "InvalidFactsError",
    "IvmsFailure",
    "Money",
    "TransactionRecord",
    "TransferFacts",
    "Valuation",
]


class Direction(StrEnum):
    OUTBOUND = "outbound"
    """We are the originating VASP (a withdrawal)."""
    INBOUND = "inbound"
    """We are the beneficiary VASP (a deposit)."""


class CounterpartyKind(StrEnum):
    VASP = "vasp"
    SELF_HOSTED = "self-hosted"
    UNKNOWN = "unknown"
    """No VASP found for the address: handled like a self-hosted address (EU TFR Art. 14-16)."""


class BeneficiaryMatch(StrEnum):
    """Inbound: how the beneficiary of the payload matched our customers."""

    MATCHED = "matched"
    UNKNOWN_ADDRESS = "unknown-address"
    NAME_MISMATCH = "name-mismatch"


def _aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidFactsError(f"{what} must be an aware datetime")


def _decimal(value: object, what: str, *, negative_ok: bool = False) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidFactsError(f"{what} must be a finite Decimal, not {type(value).__name__}")
    if not negative_ok and value < 0:
        raise InvalidFactsError(f"{what} must not be negative")


@dataclass(frozen=True)
class Money:
    """An exact amount of a fiat currency (ISO 4217 code, upper case)."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        _decimal(self.amount, "Money.amount")
        if not (len(self.currency) == 3 and self.currency.isascii() and self.currency.isupper()):
            raise InvalidFactsError(f"not an ISO 4217 currency code: {self.currency!r}")


@dataclass(frozen=True)
class Valuation:
    """The fiat value of a transfer and when it was taken.

    For linked transfers the caller passes the aggregated value (profile evaluation; FATF INR.16).
    """

    value: Money
    as_of: datetime

    def __post_init__(self) -> None:
        _aware(self.as_of, "Valuation.as_of")


@dataclass(frozen=True)
class TransactionRecord:
    """The transaction record that travels beside IVMS101 (TRISA `Transaction`).

    `amount` is the exact amount in asset units; `timestamp` is the execution date (for an
    outbound transfer not yet broadcast, the time the withdrawal was requested).
    """

    amount: Decimal | None
    asset: str
    network: str
    originator_address: str = ""
    beneficiary_address: str = ""
    txid: str = ""
    timestamp: datetime | None = None

    def __post_init__(self) -> None:
        if self.amount is not None:
            _decimal(self.amount, "TransactionRecord.amount")
        if self.timestamp is not None:
            _aware(self.timestamp, "TransactionRecord.timestamp")


@dataclass(frozen=True)
class IvmsFailure:
    """IVMS101 validation failed: the TRISA code and message of its rejection."""

    code: int
    message: str


@dataclass(frozen=True)
class TransferFacts:
    """Everything the engine needs to decide about one transfer."""

    direction: Direction
    identity: identity_pb2.IdentityPayload | None
    transaction: TransactionRecord
    valuation: Valuation | None
    counterparty_kind: CounterpartyKind
    counterparty: str | None
    """The counterparty VASP's name (TRISA common name); None when unknown or self-hosted."""
    in_directory: bool
    """The counterparty VASP was found in our directory and can be reached."""
    now: datetime
    evidence_recorded: bool = False
    """Ownership evidence for the self-hosted address is on record."""
    ivms_error: IvmsFailure | None = None
    """Set when the identity failed IVMS101 validation: policy evaluation stops."""
    beneficiary_match: BeneficiaryMatch | None = None
    """Inbound only: the result of matching the beneficiary against our customers."""
    originator_lei_held: bool = False
    """We hold an LEI for the (legal-person) originator: R-EU outbound requires sending it."""
    beneficiary_lei_held: bool = False
    """The customer supplied an LEI for the (legal-person) beneficiary."""
    counterparty_warnings: int = 0
    """Inbound: warnings already given to this counterparty for incomplete data (EU)."""

    def __post_init__(self) -> None:
        # Accept plain strings for the enums; store the enum members.
        try:
            object.__setattr__(self, "direction", Direction(self.direction))
            object.__setattr__(self, "counterparty_kind", CounterpartyKind(self.counterparty_kind))
            if self.beneficiary_match is not None:
                object.__setattr__(
                    self, "beneficiary_match", BeneficiaryMatch(self.beneficiary_match)
                )
        except ValueError as exc:
            raise InvalidFactsError(str(exc)) from None
        _aware(self.now, "TransferFacts.now")
        if self.identity is not None and not isinstance(
            self.identity, identity_pb2.IdentityPayload
        ):
            raise InvalidFactsError("identity must be an ivms101.IdentityPayload message")
