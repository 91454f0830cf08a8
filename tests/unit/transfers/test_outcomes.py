"""classify_reply: TRISA reply outcomes (with 6.2 and 7.1 for legacy peers)."""

from __future__ import annotations

import pytest

from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2
from travelgate.transfers import Outcome, classify_reply

C = errors_pb2.Error


@pytest.mark.parametrize(
    ("state", "tx", "expected"),
    [
        ("ACCEPTED", "Transaction", Outcome.ACCEPTED),
        ("UNSPECIFIED", "Transaction", Outcome.ACCEPTED),
        (None, "Transaction", Outcome.ACCEPTED),
        ("", "Transaction", Outcome.ACCEPTED),
        (0, "Transaction", Outcome.ACCEPTED),
        (api_pb2.ACCEPTED, "Transaction", Outcome.ACCEPTED),
        ("accepted", "Transaction", Outcome.ACCEPTED),
        ("PENDING", "Pending", Outcome.PENDING),
        ("PENDING", "Transaction", Outcome.PENDING),
        ("UNSPECIFIED", "Pending", Outcome.PENDING),
        (None, "ConfirmationReceipt", Outcome.PENDING),
        ("ACCEPTED", "Pending", Outcome.PENDING),
        ("REVIEW", "Transaction", Outcome.REVIEW),
        ("REVIEW", "Pending", Outcome.REVIEW),
        ("COMPLETED", "Transaction", Outcome.COMPLETED),
        ("STARTED", "Transaction", Outcome.INVALID),
        ("REPAIR", "Transaction", Outcome.INVALID),
        ("REJECTED", "Transaction", Outcome.INVALID),
        ("ACCEPTED", None, Outcome.INVALID),
        ("UNSPECIFIED", None, Outcome.INVALID),
        ("UNSPECIFIED", "Sunrise", Outcome.INVALID),
        ("NOPE", "Transaction", Outcome.INVALID),
        (42, "Transaction", Outcome.INVALID),
    ],
)
def test_payload_replies(state: str | int | None, tx: str | None, expected: Outcome) -> None:
    assert classify_reply(state, is_error=False, transaction_type=tx) is expected


@pytest.mark.parametrize(
    ("state", "code", "retry", "expected"),
    [
        ("REJECTED", C.REJECTED, False, Outcome.REJECTED),
        ("UNSPECIFIED", C.UNKNOWN_WALLET_ADDRESS, False, Outcome.REJECTED),
        (None, C.HIGH_RISK, None, Outcome.REJECTED),
        # retry decides, whatever the advisory state says (TRISA error envelopes)
        ("REPAIR", C.MISSING_FIELDS, False, Outcome.REJECTED),
        ("REJECTED", C.INCOMPLETE_IDENTITY, True, Outcome.REPAIR),
        ("REPAIR", C.MISSING_FIELDS, True, Outcome.REPAIR),
        (None, C.VALIDATION_ERROR, True, Outcome.REPAIR),
        ("REPAIR", C.INVALID_KEY, True, Outcome.REKEY),
        ("REPAIR", C.NO_SIGNING_KEY, True, Outcome.REKEY),
        ("REJECTED", C.INVALID_KEY, False, Outcome.REJECTED),
        ("REPAIR", C.UNAVAILABLE, True, Outcome.RESEND),
        ("REPAIR", C.INTERNAL_ERROR, True, Outcome.RESEND),
        ("REJECTED", C.COMPLIANCE_PERIOD_EXCEEDED, False, Outcome.REJECTED),
        ("REJECTED", C.CANCELED, False, Outcome.REJECTED),
        ("REJECTED", 0, False, Outcome.INVALID),
        ("REJECTED", None, False, Outcome.INVALID),
        ("REJECTED", 77, False, Outcome.INVALID),
    ],
)
def test_error_replies(
    state: str | None, code: int | None, retry: bool | None, expected: Outcome
) -> None:
    assert classify_reply(state, is_error=True, error_code=code, retry=retry) is expected


def test_outcome_values() -> None:
    assert {o.value for o in Outcome} == {
        "accepted",
        "pending",
        "review",
        "rejected",
        "repair",
        "rekey",
        "resend",
        "completed",
        "invalid",
    }
