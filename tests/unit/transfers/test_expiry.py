"""Deadlines, PENDING extensions capped by max_wait, and timeout outcomes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from travelgate._pb.trisa.api.v1beta1 import errors_pb2
from travelgate.transfers import (
    HoldState,
    IllegalTransitionError,
    InboundTimeoutAction,
    Reason,
    TimeoutInbound,
    TimeoutOutbound,
    evaluate,
    extend_deadline,
    inbound_timeout,
    is_due,
    outbound_timeout,
    parse_policy,
    reply_deadline,
)

from ._build import NOW, facts

H = timedelta(hours=1)
START = NOW
DEADLINE = START + 24 * H
MAX = 72 * H


def test_reply_deadline_from_decision() -> None:
    policy = parse_policy({"counterparty": {"bob.example": {"reply_timeout": "2h"}}})
    decision = evaluate(facts(), policy)
    assert reply_deadline(START, decision.reply_timeout) == START + 2 * H


@pytest.mark.parametrize(
    ("reply_not_after", "expected"),
    [
        (None, DEADLINE),
        (START + 48 * H, START + 48 * H),  # extends
        (START + 72 * H, START + 72 * H),  # exactly the cap
        (START + 100 * H, START + 72 * H),  # capped by max_wait
        (START + 1 * H, DEADLINE),  # never shortens
    ],
)
def test_extend_deadline(reply_not_after: object, expected: object) -> None:
    got = extend_deadline(
        DEADLINE,
        started=START,
        reply_not_after=reply_not_after,  # type: ignore[arg-type]
        max_wait=MAX,
    )
    assert got == expected


def test_extend_never_moves_before_current_deadline_even_with_small_cap() -> None:
    got = extend_deadline(DEADLINE, started=START, reply_not_after=START + 48 * H, max_wait=2 * H)
    assert got == DEADLINE


def test_repeated_pending_replies_stay_capped() -> None:
    deadline = DEADLINE
    for hours in (30, 50, 70, 90, 200):
        deadline = extend_deadline(
            deadline, started=START, reply_not_after=START + hours * H, max_wait=MAX
        )
        assert deadline <= START + MAX
    assert deadline == START + MAX


def test_is_due() -> None:
    assert not is_due(DEADLINE, DEADLINE - timedelta(microseconds=1))
    assert is_due(DEADLINE, DEADLINE)
    assert is_due(DEADLINE, DEADLINE + H)


def test_outbound_timeout_review() -> None:
    result = outbound_timeout(HoldState.AWAITING_REPLY, TimeoutOutbound.REVIEW)
    assert (result.state, result.reason, result.peer_code) == (
        HoldState.REVIEW,
        Reason.REPLY_TIMEOUT,
        None,
    )
    assert outbound_timeout(HoldState.REVIEW, TimeoutOutbound.REVIEW).state is None


@pytest.mark.parametrize("state", [HoldState.AWAITING_REPLY, HoldState.REVIEW])
def test_outbound_timeout_expire(state: HoldState) -> None:
    result = outbound_timeout(state, TimeoutOutbound.EXPIRE)
    assert result.state is HoldState.EXPIRED
    assert result.peer_code == errors_pb2.Error.COMPLIANCE_PERIOD_EXCEEDED


@pytest.mark.parametrize(
    "state",
    [s for s in HoldState if s not in (HoldState.AWAITING_REPLY, HoldState.REVIEW)],
)
@pytest.mark.parametrize("timeout", list(TimeoutOutbound))
def test_outbound_timeout_without_running_deadline_raises(
    state: HoldState, timeout: TimeoutOutbound
) -> None:
    with pytest.raises(IllegalTransitionError):
        outbound_timeout(state, timeout)


def test_decision_timeout_outcome_from_profiles() -> None:
    default = evaluate(facts(), parse_policy(None))
    assert outbound_timeout(HoldState.AWAITING_REPLY, default.timeout_outbound).state is (
        HoldState.REVIEW
    )
    expire = parse_policy({"profile": {"FATF-R16": {"timeout_outbound": "EXPIRE"}}})
    decision = evaluate(facts(), expire)
    assert outbound_timeout(HoldState.AWAITING_REPLY, decision.timeout_outbound).state is (
        HoldState.EXPIRED
    )


@pytest.mark.parametrize(
    ("timeout", "settled", "action"),
    [
        (TimeoutInbound.REJECT_OR_RETURN, False, InboundTimeoutAction.REJECT),
        (TimeoutInbound.REJECT_OR_RETURN, True, InboundTimeoutAction.RETURN),
        (TimeoutInbound.REVIEW, False, InboundTimeoutAction.REVIEW),
        (TimeoutInbound.REVIEW, True, InboundTimeoutAction.REVIEW),
    ],
)
def test_inbound_timeout(
    timeout: TimeoutInbound, settled: bool, action: InboundTimeoutAction
) -> None:
    assert inbound_timeout(timeout, settled=settled) is action
