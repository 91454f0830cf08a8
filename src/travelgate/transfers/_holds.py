"""The withdrawal hold state machine (originator side).

A hold moves `held -> awaiting_reply -> cleared -> released` and can leave the happy path
through `review`, `rejected`, `expired` or `canceled` (EU TFR Art. 14-16: no transfer
before the data is exchanged). The table below is the only place that says which moves
are legal; the store and the API ask `transition()` and never compare states themselves.

Choices made beyond the brief's table, with their reasons:

* `awaiting_reply -> awaiting_reply` is legal: a PENDING reply keeps the hold waiting and
  moves its deadline (TRISA reply outcomes), which the store records as a transition.
* `held -> expired` is not legal: a deadline only exists once something was sent.
* `review -> review` is not legal: a second reason to review is added to the audit trail,
  the state does not change.
* `cleared` can still be `canceled` (the withdrawal service withdrew the request before
  broadcast) but no longer `rejected` or `expired`: once cleared, the exchange is over and
  only the broadcast (`released`) or a cancellation can follow.
"""

from __future__ import annotations

from enum import StrEnum

from travelgate.errors import IllegalTransitionError

__all__ = [
    "FINAL_STATES",
    "TRANSITIONS",
    "HoldState",
    "IllegalTransitionError",
    "is_final",
    "is_legal",
    "transition",
]


class HoldState(StrEnum):
    """States of a withdrawal hold; the values are what the store and the API show."""

    HELD = "held"
    AWAITING_REPLY = "awaiting_reply"
    CLEARED = "cleared"
    RELEASED = "released"
    REVIEW = "review"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELED = "canceled"


_S = HoldState

TRANSITIONS: dict[HoldState, frozenset[HoldState]] = {
    _S.HELD: frozenset({_S.AWAITING_REPLY, _S.CLEARED, _S.REVIEW, _S.REJECTED, _S.CANCELED}),
    _S.AWAITING_REPLY: frozenset(
        {_S.AWAITING_REPLY, _S.CLEARED, _S.REVIEW, _S.REJECTED, _S.EXPIRED, _S.CANCELED}
    ),
    _S.REVIEW: frozenset({_S.AWAITING_REPLY, _S.CLEARED, _S.REJECTED, _S.CANCELED, _S.EXPIRED}),
    _S.CLEARED: frozenset({_S.RELEASED, _S.CANCELED}),
    _S.RELEASED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.EXPIRED: frozenset(),
    _S.CANCELED: frozenset(),
}
"""Legal moves: `TRANSITIONS[current]` is the set of states `current` may move to."""

FINAL_STATES: frozenset[HoldState] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


def is_final(state: HoldState | str) -> bool:
    """True for `released`, `rejected`, `expired` and `canceled`: nothing follows them."""
    return HoldState(state) in FINAL_STATES


def is_legal(current: HoldState | str, target: HoldState | str) -> bool:
    """Whether `current -> target` is an edge of the state machine."""
    return HoldState(target) in TRANSITIONS[HoldState(current)]


def transition(current: HoldState | str, target: HoldState | str) -> HoldState:
    """Return `target` as a `HoldState` if the move is legal, else raise.

    Raises `IllegalTransitionError` for a move the table does not allow and `ValueError`
    for a string that names no state.
    """
    cur, tgt = HoldState(current), HoldState(target)
    if tgt not in TRANSITIONS[cur]:
        raise illegal_transition(cur, tgt)
    return tgt


def illegal_transition(current: HoldState, target: HoldState) -> IllegalTransitionError:
    """The error for `current -> target`, saying what `current` allows instead."""
    if is_final(current):
        why = f"{current.value!r} is final"
    else:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current]))
        why = f"allowed from {current.value!r}: {allowed}"
    message = f"illegal hold transition {current.value} -> {target.value} ({why})"
    return IllegalTransitionError(message, current, target)
