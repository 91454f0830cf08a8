"""The policy engine: `evaluate` a transfer, `evaluate_reply` a beneficiary's answer.

Order of evaluation (profile evaluation; EU TFR Art. 14-16):

1. IVMS101 validation failed: outbound BLOCK (our payload), inbound REPAIR with the
   validator's code; nothing else is evaluated, config rules included.
2. Every active profile: value the transfer in the profile's currency (missing, stale or
   unconvertible valuation: above every threshold, `POLICY.VALUATION_MISSING`), pick its
   data rule, check the payload (outbound always: it is our data; inbound only from a VASP),
   and decide whether self-hosted ownership evidence is required.
3. Combine: applicable if any profile applies; required data is the conjunction;
   evidence if any requires it; ACCEPTED release if any says so; shortest reply timeout and
   maximum wait (then the counterparty's own settings replace them); REJECT_OR_RETURN
   inbound timeout if any says so; REVIEW outbound timeout if any says so; retention per 7.
4. The built-in outcome. Outbound: own data missing -> BLOCK; VASP in the directory ->
   SEND, known but not in it -> REVIEW; unknown (no VASP named or found, destination not
   declared) -> REVIEW (`COUNTERPARTY.UNKNOWN`); self-hosted -> REVIEW while evidence is
   required and absent, else CLEAR; nothing applicable -> CLEAR. Inbound: beneficiary
   address not ours -> REJECT (51); name mismatch -> review or REJECT (54); EU counterparty
   past the repeat-incomplete limit -> REJECT (50); data missing -> the profiles'
   `inbound_missing` (HOLD -> REPAIR with 154, or 153 when only transaction fields are
   missing; when failing profiles disagree HOLD wins over REJECT over REVIEW, because asking
   for the data is the step every regime allows first); evidence -> REVIEW; else ACCEPT.
5. Config rules, in order: the first whose `when` holds replaces the built-in outcome and
   is recorded as `rule:<name>`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from travelgate._pb.ivms101 import identity_pb2
from travelgate.transfers._decision import REASON_CODES, Action, Decision, Reason
from travelgate.transfers._facts import (
    BeneficiaryMatch,
    CounterpartyKind,
    Direction,
    IvmsFailure,
    TransferFacts,
    Valuation,
)
from travelgate.transfers._holds import HoldState
from travelgate.transfers._items import Item
from travelgate.transfers._outcomes import Outcome
from travelgate.transfers._policy import Condition, Policy, PolicyRule
from travelgate.transfers._profiles import (
    InboundMissing,
    Profile,
    ReleaseLevel,
    TimeoutInbound,
    TimeoutOutbound,
)
from travelgate.transfers._rules import RuleCheck, check_rule, data_rule

__all__ = ["ReplyVerdict", "evaluate", "evaluate_reply", "value_in"]

_USD = "USD"


def value_in(
    valuation: Valuation | None, currency: str, policy: Policy, now: datetime
) -> Decimal | None:
    """The valuation in `currency`, or None when it is missing, stale or not convertible.

    Stale means taken more than `policy.valuation_max_age` before `now`, or as far after
    it (a clock that far ahead is as suspect as an old price). Conversion goes through the
    static USD rates of `policy.fx`, exactly, with Decimal arithmetic.
    """
    if valuation is None:
        return None
    age = now - valuation.as_of
    if age > policy.valuation_max_age or -age > policy.valuation_max_age:
        return None
    money = valuation.value
    if money.currency == currency:
        return money.amount
    rate_from = Decimal(1) if money.currency == _USD else policy.fx.get(money.currency)
    rate_to = Decimal(1) if currency == _USD else policy.fx.get(currency)
    if rate_from is None or rate_to is None:
        return None
    return money.amount * rate_from / rate_to


@dataclass(frozen=True)
class _ProfileResult:
    profile: Profile
    applicable: bool
    check: RuleCheck | None
    valuation_missing: bool
    evidence_required: bool


def _profile_results(facts: TransferFacts, policy: Policy) -> list[_ProfileResult]:
    vasp = facts.counterparty_kind is CounterpartyKind.VASP
    outbound = facts.direction is Direction.OUTBOUND
    # Outbound we check our own payload whatever the counterparty (we must hold the data);
    # inbound, only a VASP sends data.
    check_data = outbound or vasp
    tx = facts.transaction
    results: list[_ProfileResult] = []
    for profile in policy.profiles:
        threshold = profile.threshold if profile.threshold is not None else Decimal(0)
        limit = profile.self_hosted_evidence_above
        needs_value = threshold > 0 or (not vasp and limit is not None and limit > 0)
        value = (
            value_in(facts.valuation, profile.currency, policy, facts.now) if needs_value else None
        )
        valuation_missing = False
        if threshold == 0:
            rule_id: str | None = profile.full
        elif value is None:
            rule_id, valuation_missing = profile.full, True
        else:
            rule_id = profile.full if profile.comparison.meets(value, threshold) else profile.below
        evidence = False
        if not vasp and limit is not None:
            if limit == 0:
                evidence = True
            elif value is None:
                evidence, valuation_missing = True, True
            else:
                evidence = value > limit
        check = None
        if rule_id is not None and check_data:
            rule = data_rule(
                rule_id,
                facts.direction,
                eu_outbound_mode=policy.eu_outbound_mode,
                eu_inbound_mode=policy.eu_inbound_mode,
            )
            check = check_rule(
                rule,
                facts.identity,
                originator_address=tx.originator_address,
                beneficiary_address=tx.beneficiary_address,
                amount_present=tx.amount is not None and tx.amount > 0,
                exec_date_present=tx.timestamp is not None,
                account_from_transaction=policy.account_from_transaction,
                originator_lei_held=facts.originator_lei_held,
                beneficiary_lei_held=facts.beneficiary_lei_held,
                # Outbound to a self-hosted address there is no beneficiary VASP to name.
                check_vasps=None if vasp or not outbound else (Item.OVASP,),
            )
        results.append(
            _ProfileResult(profile, rule_id is not None, check, valuation_missing, evidence)
        )
    return results


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _ids(results: Iterable[_ProfileResult]) -> str:
    return "profile:" + "+".join(r.profile.id for r in results)


@dataclass(frozen=True)
class _Settings:
    reply_timeout: timedelta
    max_wait: timedelta
    release_level: ReleaseLevel
    timeout_outbound: TimeoutOutbound
    timeout_inbound: TimeoutInbound
    retention: timedelta
    delete_after_retention: bool


def _settings(basis: list[_ProfileResult], facts: TransferFacts, policy: Policy) -> _Settings:
    profiles = [r.profile for r in basis]
    reply_timeout = min(p.reply_timeout for p in profiles)
    max_wait = min(p.max_wait for p in profiles)
    own = policy.counterparty_settings(facts.counterparty)
    if own is not None:
        reply_timeout = own.reply_timeout or reply_timeout
        max_wait = own.max_wait or max_wait
    max_wait = max(max_wait, reply_timeout)
    release = (
        ReleaseLevel.ACCEPTED
        if any(p.release_level is ReleaseLevel.ACCEPTED for p in profiles)
        else ReleaseLevel.SENT
    )
    timeout_out = (
        TimeoutOutbound.REVIEW
        if any(p.timeout_outbound is TimeoutOutbound.REVIEW for p in profiles)
        else TimeoutOutbound.EXPIRE
    )
    timeout_in = (
        TimeoutInbound.REJECT_OR_RETURN
        if any(p.timeout_inbound is TimeoutInbound.REJECT_OR_RETURN for p in profiles)
        else TimeoutInbound.REVIEW
    )
    # Longest retention wins, but a delete-after-retention (EU) profile caps it (7).
    retention = max(p.retention for p in profiles)
    capped = [p.retention for p in profiles if p.delete_after_retention]
    if capped:
        retention = min(retention, min(capped))
    return _Settings(
        reply_timeout,
        max_wait,
        release,
        timeout_out,
        timeout_in,
        retention,
        bool(capped),
    )


@dataclass
class _Outcome:
    action: Action
    rule: str
    reason: str
    code: int | None = None
    retry: bool | None = None


def _matches(
    cond: Condition, facts: TransferFacts, policy: Policy, *, sufficient: bool, applicable: bool
) -> tuple[bool, bool]:
    """(matches, used a missing valuation)."""
    if cond.direction is not None and facts.direction is not cond.direction:
        return False, False
    if cond.counterparty is not None and facts.counterparty_kind not in cond.counterparty:
        return False, False
    if cond.counterparty_name is not None and (
        facts.counterparty is None
        or facts.counterparty.strip().lower() not in cond.counterparty_name
    ):
        return False, False
    checks = (
        (cond.in_directory, facts.in_directory),
        (cond.payload_sufficient, sufficient),
        (cond.evidence_recorded, facts.evidence_recorded),
        (cond.applicable, applicable),
    )
    if any(want is not None and want is not have for want, have in checks):
        return False, False
    if cond.asset is not None and facts.transaction.asset.strip().upper() not in cond.asset:
        return False, False
    if cond.network is not None and facts.transaction.network.strip().upper() not in cond.network:
        return False, False
    if cond.currency is None:
        return True, False
    value = value_in(facts.valuation, cond.currency, policy, facts.now)
    if value is None:
        # Fail safe: an unknown value is "large", never "small".
        return cond.value_below is None, cond.value_below is None
    if cond.value_above is not None and not value > cond.value_above:
        return False, False
    if cond.value_at_least is not None and not value >= cond.value_at_least:
        return False, False
    if cond.value_below is not None and not value < cond.value_below:
        return False, False
    return True, False


def _first_rule(
    facts: TransferFacts, policy: Policy, *, sufficient: bool, applicable: bool
) -> tuple[PolicyRule, bool] | None:
    for rule in policy.rules:
        hit, used_missing = _matches(
            rule.when, facts, policy, sufficient=sufficient, applicable=applicable
        )
        if hit:
            return rule, used_missing
    return None


_INBOUND_MISSING_ORDER = (InboundMissing.HOLD, InboundMissing.REJECT, InboundMissing.REVIEW)


def evaluate(facts: TransferFacts, policy: Policy) -> Decision:
    """Decide what happens to a transfer under `policy` (see the module docstring)."""
    results = _profile_results(facts, policy)
    applicable = [r for r in results if r.applicable]
    settings = _settings(applicable or results, facts, policy)
    outbound = facts.direction is Direction.OUTBOUND
    vasp = facts.counterparty_kind is CounterpartyKind.VASP
    versions = tuple(r.profile.label for r in results)

    def decide(
        outcome: _Outcome,
        reasons: Iterable[str],
        missing: tuple[str, ...] = (),
        *,
        sufficient: bool,
        evidence: bool,
    ) -> Decision:
        return Decision(
            direction=facts.direction,
            applicable=bool(applicable),
            action=outcome.action,
            rule=outcome.rule,
            reason=outcome.reason,
            reasons=_dedupe([outcome.reason, *reasons]),
            missing=missing,
            error_code=outcome.code if not outbound else None,
            retry=outcome.retry if not outbound else None,
            payload_sufficient=sufficient,
            evidence_required=evidence,
            reply_timeout=settings.reply_timeout,
            max_wait=settings.max_wait,
            release_level=settings.release_level,
            timeout_outbound=settings.timeout_outbound,
            timeout_inbound=settings.timeout_inbound,
            retention=settings.retention,
            delete_after_retention=settings.delete_after_retention,
            profiles=tuple(r.profile.id for r in applicable),
            profile_versions=versions,
        )

    if facts.ivms_error is not None:
        failure = facts.ivms_error
        action = Action.BLOCK if outbound else Action.REPAIR
        return decide(
            _Outcome(action, "ivms101", Reason.IVMS_INVALID, failure.code, True),
            (),
            sufficient=False,
            evidence=False,
        )

    checks = [r.check for r in applicable if r.check is not None]
    originator = _dedupe(m for c in checks for m in c.originator)
    beneficiary = _dedupe(m for c in checks for m in c.beneficiary)
    vasps = _dedupe(m for c in checks for m in c.vasps)
    transaction = _dedupe(m for c in checks for m in c.transaction)
    missing = originator + beneficiary + vasps + transaction
    sufficient = not missing
    data_reasons = [
        reason
        for reason, found in (
            (Reason.ORIGINATOR_DATA_MISSING, originator),
            (Reason.BENEFICIARY_DATA_MISSING, beneficiary),
            (Reason.VASP_DATA_MISSING, vasps),
            (Reason.TRANSACTION_DATA_MISSING, transaction),
        )
        if found
    ]
    reasons: list[str] = []
    if any(r.valuation_missing for r in results):
        reasons.append(Reason.VALUATION_MISSING)
    reasons.extend(data_reasons)
    failing = [r for r in applicable if r.check is not None and not r.check.ok]
    evidence_by = [r for r in results if r.evidence_required]
    evidence_missing = bool(evidence_by) and not facts.evidence_recorded
    if evidence_missing:
        reasons.append(Reason.SELF_HOSTED_EVIDENCE_REQUIRED)
    deciding = _ids(applicable or results)

    outcome: _Outcome
    if outbound:
        if not sufficient:
            outcome = _Outcome(Action.BLOCK, _ids(failing), Reason.OWN_DATA_MISSING)
        elif vasp and not facts.in_directory:
            outcome = _Outcome(Action.REVIEW, deciding, Reason.COUNTERPARTY_UNREACHABLE)
        elif facts.counterparty_kind is CounterpartyKind.UNKNOWN:
            # An address nobody could attribute may belong to a VASP we would owe the data
            # to: a person decides, whatever the value.
            outcome = _Outcome(Action.REVIEW, deciding, Reason.COUNTERPARTY_UNKNOWN)
        elif not vasp and evidence_missing:
            outcome = _Outcome(
                Action.REVIEW, _ids(evidence_by), Reason.SELF_HOSTED_EVIDENCE_REQUIRED
            )
        elif not applicable:
            outcome = _Outcome(Action.CLEAR, deciding, Reason.NOT_APPLICABLE)
        else:
            outcome = _Outcome(Action.SEND if vasp else Action.CLEAR, deciding, Reason.COMPLETE)
    else:
        eu = [r for r in applicable if r.profile.delete_after_retention]
        limit = policy.repeat_incomplete_limit
        if facts.beneficiary_match is BeneficiaryMatch.UNKNOWN_ADDRESS:
            reason = Reason.UNKNOWN_BENEFICIARY
            outcome = _Outcome(Action.REJECT, deciding, reason, REASON_CODES[reason], False)
        elif facts.beneficiary_match is BeneficiaryMatch.NAME_MISMATCH:
            reason = Reason.BENEFICIARY_NAME_MISMATCH
            if policy.name_mismatch is Action.REJECT:
                outcome = _Outcome(Action.REJECT, deciding, reason, REASON_CODES[reason], False)
            else:
                outcome = _Outcome(Action.REVIEW, deciding, reason)
        elif eu and limit is not None and facts.counterparty_warnings >= limit:
            reason = Reason.REPEAT_INCOMPLETE_COUNTERPARTY
            outcome = _Outcome(Action.REJECT, _ids(eu), reason, REASON_CODES[reason], False)
        elif not applicable:
            outcome = _Outcome(Action.ACCEPT, deciding, Reason.NOT_APPLICABLE)
        elif not sufficient:
            first = data_reasons[0]
            only_tx = data_reasons == [Reason.TRANSACTION_DATA_MISSING]
            code = REASON_CODES[Reason.TRANSACTION_DATA_MISSING if only_tx else first]
            wanted = {r.profile.inbound_missing for r in failing}
            mode = next(m for m in _INBOUND_MISSING_ORDER if m in wanted)
            if mode is InboundMissing.HOLD:
                outcome = _Outcome(Action.REPAIR, _ids(failing), first, code, True)
            elif mode is InboundMissing.REJECT:
                outcome = _Outcome(Action.REJECT, _ids(failing), first, code, False)
            else:
                outcome = _Outcome(Action.REVIEW, _ids(failing), first)
        elif not vasp and evidence_missing:
            outcome = _Outcome(
                Action.REVIEW, _ids(evidence_by), Reason.SELF_HOSTED_EVIDENCE_REQUIRED
            )
        else:
            outcome = _Outcome(Action.ACCEPT, deciding, Reason.COMPLETE)

    found = _first_rule(facts, policy, sufficient=sufficient, applicable=bool(applicable))
    if found is not None:
        rule, used_missing_value = found
        if used_missing_value:
            reasons.append(Reason.VALUATION_MISSING)
        reasons.insert(0, outcome.reason)
        retry = {Action.REPAIR: True, Action.REJECT: False}.get(rule.action)
        outcome = _Outcome(rule.action, rule.id, rule.reason, rule.code, retry)
    return decide(outcome, reasons, missing, sufficient=sufficient, evidence=bool(evidence_by))


@dataclass(frozen=True)
class ReplyVerdict:
    """What a beneficiary's reply does to an outbound hold."""

    outcome: Outcome
    target: HoldState | None
    """The state to move to, or None to stay (resend, re-key, COMPLETED echo)."""
    sufficient: bool
    """The reply reaches the release level with the data the profiles require: only then
    is `target` `cleared`."""
    reason: str
    missing: tuple[str, ...] = ()


_PEER_TARGETS: dict[Outcome, HoldState | None] = {
    Outcome.REVIEW: HoldState.REVIEW,
    Outcome.REJECTED: HoldState.REJECTED,
    # Repair: a person (or the node, when it has the data) fixes it; the resend moves the
    # hold review -> awaiting_reply again (EU TFR Art. 14-16).
    Outcome.REPAIR: HoldState.REVIEW,
    Outcome.INVALID: HoldState.REVIEW,
    Outcome.REKEY: None,
    Outcome.RESEND: None,
    Outcome.COMPLETED: None,
}


def evaluate_reply(
    facts: TransferFacts,
    policy: Policy,
    decision: Decision,
    outcome: Outcome,
    *,
    identity: identity_pb2.IdentityPayload | None = None,
    identity_error: IvmsFailure | None = None,
) -> ReplyVerdict:
    """Decide what a classified reply means for the hold made from `facts`/`decision`.

    Release level ACCEPTED (default): only an ACCEPTED reply whose identity is valid
    (`identity_error` is None) and carries the beneficiary data every applicable profile
    requires clears the hold; anything short of that goes to review. PENDING keeps the
    hold waiting (`awaiting_reply`; move the deadline with `extend_deadline`).
    Release level SENT: an ACCEPTED or PENDING reply clears, since delivering our data was
    the whole duty and it was checked before sending. At either level a reply whose
    identity failed IVMS101 validation (`identity_error`) goes to review.
    """
    reason = f"REPLY.{outcome.value.upper()}"
    if outcome in _PEER_TARGETS:
        return ReplyVerdict(outcome, _PEER_TARGETS[outcome], False, reason)
    if identity_error is not None:
        # Whatever the release level, a reply whose identity does not validate is no basis
        # for releasing funds.
        return ReplyVerdict(outcome, HoldState.REVIEW, False, Reason.IVMS_INVALID)
    sent_is_enough = decision.release_level is ReleaseLevel.SENT
    if outcome is Outcome.PENDING:
        if sent_is_enough:
            return ReplyVerdict(outcome, HoldState.CLEARED, True, reason)
        return ReplyVerdict(outcome, HoldState.AWAITING_REPLY, False, reason)
    # ACCEPTED
    if sent_is_enough:
        return ReplyVerdict(outcome, HoldState.CLEARED, True, reason)
    reply_facts = replace(facts, identity=identity, ivms_error=None)
    wanted = set(decision.profiles)
    missing = _dedupe(
        m
        for r in _profile_results(reply_facts, policy)
        if r.profile.id in wanted and r.check is not None
        for m in r.check.beneficiary
    )
    if missing:
        return ReplyVerdict(
            outcome, HoldState.REVIEW, False, Reason.BENEFICIARY_DATA_MISSING, missing
        )
    return ReplyVerdict(outcome, HoldState.CLEARED, True, reason)
