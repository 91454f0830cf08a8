"""The conversation state machine: which state each kind of message leads to."""

from __future__ import annotations

import pytest

from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2
from travelgate.transfers import (
    CONVERSATION_FINAL_STATES,
    ConversationState,
    Outcome,
    conversation_state,
)


def test_values_are_the_stored_strings() -> None:
    # Stored in the database and shown by the API: they must never change.
    assert [state.value for state in ConversationState] == [
        "STARTED",
        "PENDING",
        "REVIEW",
        "REPAIR",
        "ACCEPTED",
        "REJECTED",
        "COMPLETED",
        "CANCELED",
    ]
    transfer_states = set(api_pb2.TransferState.keys())
    assert {s.value for s in ConversationState} - transfer_states == {"CANCELED"}


def test_final_states() -> None:
    assert {s.value for s in CONVERSATION_FINAL_STATES} == {"REJECTED", "COMPLETED", "CANCELED"}


@pytest.mark.parametrize(
    ("outcome", "state"),
    [
        (Outcome.ACCEPTED, ConversationState.ACCEPTED),
        (Outcome.PENDING, ConversationState.PENDING),
        (Outcome.REVIEW, ConversationState.REVIEW),
        (Outcome.REPAIR, ConversationState.REPAIR),
        (Outcome.COMPLETED, ConversationState.COMPLETED),
        (Outcome.REJECTED, ConversationState.REJECTED),
        (Outcome.REKEY, None),
        (Outcome.RESEND, None),
        (Outcome.INVALID, None),
    ],
)
def test_state_after_each_outcome(outcome: Outcome, state: ConversationState | None) -> None:
    assert conversation_state(outcome) is state


@pytest.mark.parametrize(
    "code", [errors_pb2.Error.CANCELED, errors_pb2.Error.COMPLIANCE_PERIOD_EXCEEDED]
)
def test_a_canceling_rejection_cancels(code: int) -> None:
    assert conversation_state(Outcome.REJECTED, error_code=code) is ConversationState.CANCELED


def test_other_rejections_reject() -> None:
    code = errors_pb2.Error.COMPLIANCE_CHECK_FAIL
    assert conversation_state(Outcome.REJECTED, error_code=code) is ConversationState.REJECTED
    # A code only cancels a rejection: a repair stays a repair.
    assert conversation_state(Outcome.REPAIR, error_code=errors_pb2.Error.CANCELED) is (
        ConversationState.REPAIR
    )
