"""The conversation state: where one exchange of envelopes with a peer stands.

A conversation (TRISA envelopes or a TRP inquiry, either role) carries the state of its
last meaningful message: the TRISA TransferState names, plus `CANCELED` for an exchange
the other side called off. The values are stored and shown by the API as they are.
`conversation_state()` is the only place that says which state a message leads to.
"""

from __future__ import annotations

from enum import StrEnum

from travelgate._pb.trisa.api.v1beta1 import errors_pb2
from travelgate.transfers._outcomes import Outcome

__all__ = ["CONVERSATION_FINAL_STATES", "ConversationState", "conversation_state"]


class ConversationState(StrEnum):
    """States of a conversation with a peer; the values are what the store keeps."""

    STARTED = "STARTED"
    PENDING = "PENDING"
    REVIEW = "REVIEW"
    REPAIR = "REPAIR"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"


CONVERSATION_FINAL_STATES: frozenset[ConversationState] = frozenset(
    {ConversationState.REJECTED, ConversationState.COMPLETED, ConversationState.CANCELED}
)
"""Nothing follows these: later messages are refused, and retention may purge them."""

# Error codes with which a VASP withdraws from the exchange rather than refusing it.
_CANCELING_CODES = frozenset(
    {errors_pb2.Error.CANCELED, errors_pb2.Error.COMPLIANCE_PERIOD_EXCEEDED}
)

_BY_OUTCOME = {
    Outcome.ACCEPTED: ConversationState.ACCEPTED,
    Outcome.PENDING: ConversationState.PENDING,
    Outcome.REVIEW: ConversationState.REVIEW,
    Outcome.REPAIR: ConversationState.REPAIR,
    Outcome.COMPLETED: ConversationState.COMPLETED,
}


def conversation_state(
    outcome: Outcome, *, error_code: int | None = None
) -> ConversationState | None:
    """The state a conversation moves to once a message meaning `outcome` is exchanged,
    whichever side said it; None keeps the state it has.

    A rejection whose `error_code` cancels the exchange ends it as `CANCELED`. A re-key or a
    resend, and a reply that means nothing coherent, change nothing: the same message is
    sent again or the reply is reviewed.
    """
    if outcome is Outcome.REJECTED:
        if error_code in _CANCELING_CODES:
            return ConversationState.CANCELED
        return ConversationState.REJECTED
    return _BY_OUTCOME.get(outcome)
