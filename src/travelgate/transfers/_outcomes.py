"""What a TRISA reply means for a withdrawal hold (TRISA TransferState, errors, legacy peers).

The node receives a reply (on its own Transfer RPC or as a callback) and calls
`classify_reply` with the envelope's visible facts; the answer says what kind of outcome it
is. Whether an *acceptance* is good enough to clear the hold is a policy question answered
by `evaluate_reply` in the engine, never here.
"""

from __future__ import annotations

from enum import StrEnum

from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2

__all__ = ["Outcome", "classify_reply"]

_Code = errors_pb2.Error.Code


class Outcome(StrEnum):
    """Kinds of reply, as the hold engine needs to tell them apart."""

    ACCEPTED = "accepted"
    """The beneficiary VASP accepted; clear only if the reply is policy-sufficient."""
    PENDING = "pending"
    """Decision later: keep waiting, move the deadline to `reply_not_after` (capped)."""
    REVIEW = "review"
    """The peer asks us to act (transfer_state REVIEW): route to compliance."""
    REJECTED = "rejected"
    """Error envelope with retry=false: never broadcast."""
    REPAIR = "repair"
    """Error envelope with retry=true: fix the data and resend, or review."""
    REKEY = "rekey"
    """INVALID_KEY / NO_SIGNING_KEY with retry=true: refresh the peer's key, re-seal, resend."""
    RESEND = "resend"
    """A service error (code below 50) with retry=true: resend later, like a transport failure."""
    COMPLETED = "completed"
    """Echo of our COMPLETED message: the exchange is closed."""
    INVALID = "invalid"
    """A reply that means nothing coherent (e.g. STARTED, error code 0): record and review."""


_PENDING_TYPES = frozenset({"Pending", "ConfirmationReceipt"})  # 6.3: legacy receipt = Pending
_STATE_NAMES = frozenset(api_pb2.TransferState.keys())
_KEY_CODES = frozenset({_Code.INVALID_KEY, _Code.NO_SIGNING_KEY})


def _state_name(transfer_state: str | int | None) -> str | None:
    if transfer_state is None or transfer_state == "":
        return "UNSPECIFIED"
    if isinstance(transfer_state, int):
        try:
            return api_pb2.TransferState.Name(transfer_state)  # type: ignore[arg-type]
        except ValueError:
            return None
    name = transfer_state.strip().upper()
    return name if name in _STATE_NAMES else None


def classify_reply(
    transfer_state: str | int | None,
    *,
    is_error: bool,
    error_code: int | None = None,
    retry: bool | None = None,
    transaction_type: str | None = None,
) -> Outcome:
    """Map a reply to an `Outcome`.

    `transfer_state` is the envelope's `TransferState` as a name ("ACCEPTED") or number;
    None or "" mean UNSPECIFIED (pre-v1.1 peers). `transaction_type` is the unpacked
    transaction message name: "Transaction", "Pending" (a legacy "ConfirmationReceipt"
    counts as Pending) or None. For an error envelope, `retry` decides between rejection
    and repair whatever the state says (TRISA error envelopes: retry=false is a rejection even with
    state 0), except that key problems ask for a re-key and service errors for a resend.
    Unknown state names or numbers give `INVALID`.
    """
    state = _state_name(transfer_state)
    if is_error:
        if not error_code or error_code not in _Code.values():
            return Outcome.INVALID
        if not retry:
            return Outcome.REJECTED
        if error_code in _KEY_CODES:
            return Outcome.REKEY
        if error_code < _Code.REJECTED:
            return Outcome.RESEND
        return Outcome.REPAIR
    if state is None:
        return Outcome.INVALID
    pending = transaction_type in _PENDING_TYPES
    if state == "UNSPECIFIED":
        # Legacy peers: the payload type carries the intent (TRISA TransferState).
        if pending:
            return Outcome.PENDING
        return Outcome.ACCEPTED if transaction_type == "Transaction" else Outcome.INVALID
    if state == "PENDING":
        return Outcome.PENDING
    if state == "ACCEPTED":
        # An "acceptance" that carries a Pending record is read as the weaker of the two.
        if pending:
            return Outcome.PENDING
        return Outcome.ACCEPTED if transaction_type == "Transaction" else Outcome.INVALID
    if state == "REVIEW":
        return Outcome.REVIEW
    if state == "COMPLETED":
        return Outcome.COMPLETED
    # STARTED cannot answer anything; REPAIR and REJECTED belong on error envelopes.
    return Outcome.INVALID
