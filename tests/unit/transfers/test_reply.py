"""evaluate_reply and the rule that nothing is cleared before a policy-sufficient reply."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from travelgate._pb.ivms101 import identity_pb2
from travelgate._pb.trisa.api.v1beta1 import errors_pb2
from travelgate.transfers import (
    Action,
    HoldState,
    IvmsFailure,
    Outcome,
    Policy,
    Reason,
    ReleaseLevel,
    TransferFacts,
    classify_reply,
    evaluate,
    evaluate_reply,
    is_final,
    is_legal,
    outbound_timeout,
    parse_policy,
    transition,
)

from ._build import facts, natural, payload, record, value

C = errors_pb2.Error
GOOD_REPLY = payload()
NAMELESS_REPLY = payload(beneficiaries=[natural(name=False)])
BAD_IVMS = IvmsFailure(C.VALIDATION_ERROR, "IVMS101 standard: 1 error(s): C8 at x")


def policy_for(release: ReleaseLevel) -> Policy:
    return parse_policy(
        {
            "profiles": ["FATF-R16", "EU-TFR"],
            "profile": {
                "FATF-R16": {"release_level": release.value},
                "EU-TFR": {"release_level": release.value},
            },
        }
    )


ACCEPTED_POLICY = policy_for(ReleaseLevel.ACCEPTED)
SENT_POLICY = policy_for(ReleaseLevel.SENT)


def verdict(
    outcome: Outcome,
    policy: Policy = ACCEPTED_POLICY,
    f: TransferFacts | None = None,
    **kw: object,
) -> tuple[HoldState | None, bool, str, tuple[str, ...]]:
    f = facts() if f is None else f
    decision = evaluate(f, policy)
    assert decision.action is Action.SEND
    v = evaluate_reply(f, policy, decision, outcome, **kw)  # type: ignore[arg-type]
    assert v.outcome is outcome
    return v.target, v.sufficient, v.reason, v.missing


def test_accepted_with_sufficient_identity_clears() -> None:
    assert verdict(Outcome.ACCEPTED, identity=GOOD_REPLY) == (
        HoldState.CLEARED,
        True,
        "REPLY.ACCEPTED",
        (),
    )


def test_accepted_without_beneficiary_name_goes_to_review() -> None:
    target, sufficient, reason, missing = verdict(Outcome.ACCEPTED, identity=NAMELESS_REPLY)
    assert (target, sufficient, reason) == (
        HoldState.REVIEW,
        False,
        Reason.BENEFICIARY_DATA_MISSING,
    )
    assert missing == ("NAME@beneficiary.beneficiaryPersons[0]",)


def test_accepted_without_identity_goes_to_review() -> None:
    target, sufficient, _, missing = verdict(Outcome.ACCEPTED, identity=None)
    assert (target, sufficient) == (HoldState.REVIEW, False)
    assert "NAME@beneficiary.beneficiaryPersons" in missing


def test_accepted_with_invalid_identity_goes_to_review() -> None:
    target, sufficient, reason, _ = verdict(
        Outcome.ACCEPTED, identity=GOOD_REPLY, identity_error=BAD_IVMS
    )
    assert (target, sufficient, reason) == (HoldState.REVIEW, False, Reason.IVMS_INVALID)


def test_accepted_beneficiary_account_from_transaction() -> None:
    no_account = payload(beneficiary_accounts=())
    assert verdict(Outcome.ACCEPTED, identity=no_account)[0] is HoldState.REVIEW
    on_chain = facts(identity=no_account, transaction=record(beneficiary_address="bc1qbene"))
    assert verdict(Outcome.ACCEPTED, f=on_chain, identity=no_account)[0] is HoldState.CLEARED


def test_canadian_profile_wants_the_beneficiary_address() -> None:
    policy = parse_policy(
        {"profiles": ["CA-PCMLTFR"], "profile": {"CA-PCMLTFR": {"confirmed_by": "C. Officer"}}}
    )
    sent = payload([natural(address_=True)], [natural(address_=True)])
    f = facts(identity=sent, valuation=value("2000", "CAD"))
    assert verdict(Outcome.ACCEPTED, policy, f, identity=payload())[0] is HoldState.REVIEW
    assert verdict(Outcome.ACCEPTED, policy, f, identity=sent)[0] is HoldState.CLEARED


def test_pending_waits_unless_sent_is_enough() -> None:
    assert verdict(Outcome.PENDING)[:2] == (HoldState.AWAITING_REPLY, False)
    assert verdict(Outcome.PENDING, SENT_POLICY)[:2] == (HoldState.CLEARED, True)
    assert verdict(Outcome.ACCEPTED, SENT_POLICY, identity=None)[:2] == (HoldState.CLEARED, True)


@pytest.mark.parametrize("outcome", [Outcome.ACCEPTED, Outcome.PENDING])
def test_invalid_reply_identity_never_clears(outcome: Outcome) -> None:
    for policy in (ACCEPTED_POLICY, SENT_POLICY):
        target, sufficient, reason, _ = verdict(
            outcome, policy, identity=GOOD_REPLY, identity_error=BAD_IVMS
        )
        assert (target, sufficient, reason) == (HoldState.REVIEW, False, Reason.IVMS_INVALID)


@pytest.mark.parametrize(
    ("outcome", "target"),
    [
        (Outcome.REJECTED, HoldState.REJECTED),
        (Outcome.REPAIR, HoldState.REVIEW),
        (Outcome.REVIEW, HoldState.REVIEW),
        (Outcome.INVALID, HoldState.REVIEW),
        (Outcome.REKEY, None),
        (Outcome.RESEND, None),
        (Outcome.COMPLETED, None),
    ],
)
@pytest.mark.parametrize("policy", [ACCEPTED_POLICY, SENT_POLICY], ids=["accepted", "sent"])
def test_peer_outcomes(outcome: Outcome, target: HoldState | None, policy: Policy) -> None:
    got_target, sufficient, reason, _ = verdict(outcome, policy, identity=GOOD_REPLY)
    assert (got_target, sufficient) == (target, False)
    assert reason == f"REPLY.{outcome.value.upper()}"


def test_reply_to_a_not_applicable_hold_needs_no_data() -> None:
    policy = parse_policy({"profiles": ["US-BSA"]})
    f = facts(valuation=value("10"))
    decision = evaluate(f, policy)
    assert not decision.applicable
    v = evaluate_reply(f, policy, decision, Outcome.ACCEPTED, identity=None)
    assert (v.target, v.sufficient) == (HoldState.CLEARED, True)


# -- the walk ------------------------------------------------------------------------------------

STATES = [
    "UNSPECIFIED",
    "STARTED",
    "PENDING",
    "REVIEW",
    "REPAIR",
    "ACCEPTED",
    "COMPLETED",
    "REJECTED",
    None,
]
CODES = [0, C.UNAVAILABLE, C.REJECTED, C.UNKNOWN_WALLET_ADDRESS, C.INVALID_KEY, C.NO_SIGNING_KEY,
         C.MISSING_FIELDS, C.INCOMPLETE_IDENTITY, C.COMPLIANCE_PERIOD_EXCEEDED, C.CANCELED]  # fmt: skip
IDENTITIES: list[identity_pb2.IdentityPayload | None] = [GOOD_REPLY, NAMELESS_REPLY, None]


@dataclass(frozen=True)
class Reply:
    state: str | None
    is_error: bool
    code: int
    retry: bool
    tx: str | None
    identity: identity_pb2.IdentityPayload | None
    invalid: bool


replies = st.builds(
    Reply,
    state=st.sampled_from(STATES),
    is_error=st.booleans(),
    code=st.sampled_from(CODES),
    retry=st.booleans(),
    tx=st.sampled_from(["Transaction", "Pending", "ConfirmationReceipt", None]),
    identity=st.sampled_from(IDENTITIES),
    invalid=st.booleans(),
)
events = st.one_of(
    replies,
    st.sampled_from(["timeout", "resend", "cancel", "release"]),
)


def _sufficient_by_hand(reply: Reply, outcome: Outcome, release: ReleaseLevel) -> bool:
    """The property, written independently of the engine."""
    if release is ReleaseLevel.SENT:
        return outcome in (Outcome.ACCEPTED, Outcome.PENDING) and not reply.invalid
    return outcome is Outcome.ACCEPTED and reply.identity is GOOD_REPLY and not reply.invalid


@settings(max_examples=300, deadline=None)
@given(
    release=st.sampled_from(list(ReleaseLevel)),
    expire=st.booleans(),
    walk=st.lists(events, max_size=12),
)
def test_walk_never_clears_without_a_sufficient_reply(
    release: ReleaseLevel, expire: bool, walk: list[Reply | str]
) -> None:
    policy = parse_policy(
        {
            "profiles": ["FATF-R16"],
            "profile": {
                "FATF-R16": {
                    "release_level": release.value,
                    "timeout_outbound": "EXPIRE" if expire else "REVIEW",
                }
            },
        }
    )
    f = facts()
    decision = evaluate(f, policy)
    assert decision.target_state is HoldState.AWAITING_REPLY
    state: HoldState = transition(HoldState.HELD, decision.target_state)
    for event in walk:
        if is_final(state):
            break
        before: HoldState = state
        if isinstance(event, Reply):
            outcome = classify_reply(
                event.state,
                is_error=event.is_error,
                error_code=event.code,
                retry=event.retry,
                transaction_type=event.tx,
            )
            v = evaluate_reply(
                f,
                policy,
                decision,
                outcome,
                identity=event.identity,
                identity_error=BAD_IVMS if event.invalid else None,
            )
            assert (v.target is HoldState.CLEARED) is v.sufficient
            assert v.sufficient is _sufficient_by_hand(event, outcome, release)
            if v.target is not None and is_legal(state, v.target):
                state = transition(state, v.target)
            if state is HoldState.CLEARED and before is not HoldState.CLEARED:
                assert v.sufficient
                assert event.is_error is False
        elif event == "timeout":
            if state in (HoldState.AWAITING_REPLY, HoldState.REVIEW):
                result = outbound_timeout(state, decision.timeout_outbound)
                state = result.state or state
        elif event == "resend":
            if state is HoldState.REVIEW:
                state = transition(state, HoldState.AWAITING_REPLY)
        elif event == "cancel":
            state = transition(state, HoldState.CANCELED)
        elif is_legal(state, HoldState.RELEASED):
            state = transition(state, HoldState.RELEASED)
        # Only a reply can clear a hold that was sent.
        if state is HoldState.CLEARED and before is not HoldState.CLEARED:
            assert isinstance(event, Reply)
        if state is HoldState.RELEASED:
            assert before is HoldState.CLEARED
