"""Every edge of the hold state machine, legal and illegal."""

from __future__ import annotations

import itertools

import pytest

from travelgate.errors import TravelgateError
from travelgate.transfers import (
    FINAL_STATES,
    TRANSITIONS,
    HoldState,
    IllegalTransitionError,
    is_final,
    is_legal,
    transition,
)

S = HoldState
LEGAL: set[tuple[HoldState, HoldState]] = {
    (S.HELD, S.AWAITING_REPLY),
    (S.HELD, S.CLEARED),
    (S.HELD, S.REVIEW),
    (S.HELD, S.REJECTED),
    (S.HELD, S.CANCELED),
    (S.AWAITING_REPLY, S.AWAITING_REPLY),
    (S.AWAITING_REPLY, S.CLEARED),
    (S.AWAITING_REPLY, S.REVIEW),
    (S.AWAITING_REPLY, S.REJECTED),
    (S.AWAITING_REPLY, S.EXPIRED),
    (S.AWAITING_REPLY, S.CANCELED),
    (S.REVIEW, S.AWAITING_REPLY),
    (S.REVIEW, S.CLEARED),
    (S.REVIEW, S.REJECTED),
    (S.REVIEW, S.CANCELED),
    (S.REVIEW, S.EXPIRED),
    (S.CLEARED, S.RELEASED),
    (S.CLEARED, S.CANCELED),
}
ALL_PAIRS = list(itertools.product(HoldState, repeat=2))


def test_state_values_are_exactly_the_architecture_names() -> None:
    assert [s.value for s in HoldState] == [
        "held",
        "awaiting_reply",
        "cleared",
        "released",
        "review",
        "rejected",
        "expired",
        "canceled",
    ]


def test_table_is_exactly_the_expected_edges() -> None:
    edges = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert edges == LEGAL
    assert set(TRANSITIONS) == set(HoldState)


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_legal_transition_returns_target(current: HoldState, target: HoldState) -> None:
    assert transition(current, target) is target
    assert transition(current.value, target.value) is target
    assert is_legal(current, target)


@pytest.mark.parametrize(("current", "target"), [p for p in ALL_PAIRS if p not in LEGAL])
def test_illegal_transition_raises(current: HoldState, target: HoldState) -> None:
    assert not is_legal(current, target)
    with pytest.raises(IllegalTransitionError) as info:
        transition(current, target)
    assert info.value.current is current
    assert info.value.target is target
    assert f"{current.value} -> {target.value}" in str(info.value)
    assert isinstance(info.value, TravelgateError)


def test_final_states() -> None:
    assert {S.RELEASED, S.REJECTED, S.EXPIRED, S.CANCELED} == FINAL_STATES
    for state in HoldState:
        assert is_final(state) is (state in FINAL_STATES)
        assert is_final(state) is (not TRANSITIONS[state])


def test_error_message_explains_final_and_allowed() -> None:
    with pytest.raises(IllegalTransitionError, match="'released' is final"):
        transition(S.RELEASED, S.CANCELED)
    with pytest.raises(IllegalTransitionError, match="allowed from 'cleared': canceled, released"):
        transition(S.CLEARED, S.REJECTED)


def test_unknown_state_name_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="blocked"):
        transition("held", "blocked")


def test_every_state_is_reachable_from_held() -> None:
    seen, todo = {S.HELD}, [S.HELD]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(HoldState)


def test_released_only_after_cleared() -> None:
    assert [a for a, b in LEGAL if b is S.RELEASED] == [S.CLEARED]
