"""Deadlines of a hold: the reply window, its extension by PENDING, and what a timeout does.

A hold that has sent its envelope waits `reply_timeout` (EU TFR Art. 14-16). A
PENDING reply carrying `reply_not_after` moves the deadline to that time, never earlier
than the current one and never past `started + max_wait` (the peer cannot keep our
customer's withdrawal waiting for ever). When the deadline passes, the profile's outbound
timeout outcome applies: REVIEW (a person decides) or EXPIRE (the hold ends, the peer is
told with COMPLIANCE_PERIOD_EXCEEDED, the withdrawal is credited back). Inbound holds time
out to REJECT (before settlement), RETURN (after) or REVIEW.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from travelgate._pb.trisa.api.v1beta1 import errors_pb2
from travelgate.transfers._decision import Reason
from travelgate.transfers._holds import HoldState, illegal_transition, transition
from travelgate.transfers._profiles import TimeoutInbound, TimeoutOutbound

__all__ = [
    "InboundTimeoutAction",
    "TimeoutOutcome",
    "extend_deadline",
    "inbound_timeout",
    "is_due",
    "outbound_timeout",
    "reply_deadline",
]


def reply_deadline(started: datetime, reply_timeout: timedelta) -> datetime:
    """When an unanswered exchange started at `started` times out."""
    return started + reply_timeout


def extend_deadline(
    deadline: datetime,
    *,
    started: datetime,
    reply_not_after: datetime | None,
    max_wait: timedelta,
) -> datetime:
    """The deadline after a PENDING reply (TRISA reply outcomes).

    `reply_not_after` None (not given or unparseable) leaves the deadline unchanged; an
    earlier time than the current deadline does not shorten it; the result is capped at
    `started + max_wait`, though never moved before the current deadline.
    """
    if reply_not_after is None:
        return deadline
    cap = started + max_wait
    return max(deadline, min(reply_not_after, cap))


def is_due(deadline: datetime, now: datetime) -> bool:
    """True once `now` has reached the deadline."""
    return now >= deadline


@dataclass(frozen=True)
class TimeoutOutcome:
    """What an outbound timeout does to a hold."""

    state: HoldState | None
    """The new state; None when the hold already is where the timeout would put it."""
    reason: Reason = Reason.REPLY_TIMEOUT
    peer_code: int | None = None
    """TRISA code of the error-only envelope (retry=false) that ends the exchange, if any."""


_WAITING = frozenset({HoldState.AWAITING_REPLY, HoldState.REVIEW})


def outbound_timeout(current: HoldState, timeout: TimeoutOutbound) -> TimeoutOutcome:
    """Apply the outbound timeout outcome to a hold in `current`.

    Only `awaiting_reply` and `review` holds have a running deadline; anything else raises
    `IllegalTransitionError` (a timer that fires late for a hold that moved on).
    """
    current = HoldState(current)
    target = HoldState.EXPIRED if timeout is TimeoutOutbound.EXPIRE else HoldState.REVIEW
    if current not in _WAITING:
        raise illegal_transition(current, target)
    if target is HoldState.EXPIRED:
        state = transition(current, target)
        return TimeoutOutcome(state, peer_code=errors_pb2.Error.COMPLIANCE_PERIOD_EXCEEDED)
    if current is HoldState.REVIEW:
        return TimeoutOutcome(None)
    return TimeoutOutcome(transition(current, target))


class InboundTimeoutAction(StrEnum):
    REJECT = "reject"
    """The deposit has not arrived on chain: error envelope 198, retry=false."""
    RETURN = "return"
    """The deposit arrived: instruct the deposit service to send it back."""
    REVIEW = "review"


def inbound_timeout(timeout: TimeoutInbound, *, settled: bool) -> InboundTimeoutAction:
    """What to do with an unrepaired deposit when its window closes (EU TFR Art. 14-16)."""
    if timeout is TimeoutInbound.REVIEW:
        return InboundTimeoutAction.REVIEW
    return InboundTimeoutAction.RETURN if settled else InboundTimeoutAction.REJECT
