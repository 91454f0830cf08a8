"""Decision codes: the stable, machine-readable vocabulary of what decided a hold's state.

A hold's `decision` in the API is `{"code", "reason", "rule", "trisa_code"}`: `code` is one
of `DecisionCode`, `reason` free text for a person, `rule` who decided, `trisa_code` the
counterparty's TRISA error name when its answer carried one. Codes are only ever added,
never renamed: the exchange's services branch on them. The `POLICY.*` codes are the policy
engine's reasons (`Reason`), with the same spelling.
"""

from __future__ import annotations

from enum import StrEnum

from travelgate.transfers._decision import Decision

__all__ = ["DecisionCode", "decision_code"]


class DecisionCode(StrEnum):
    # The policy engine, when the hold is created.
    POLICY_COMPLETE = "POLICY.COMPLETE"
    """Every applicable profile is satisfied: the exchange goes ahead (or, to a self-hosted
    wallet, the hold clears)."""
    POLICY_NOT_APPLICABLE = "POLICY.NOT_APPLICABLE"
    """No profile applies (below every threshold): cleared without an exchange."""
    POLICY_OWN_DATA_MISSING = "POLICY.OWN_DATA_MISSING"
    """Our own customer's data misses what the profiles require: nothing is sent."""
    POLICY_SELF_HOSTED_EVIDENCE_REQUIRED = "POLICY.SELF_HOSTED_EVIDENCE_REQUIRED"
    """A self-hosted destination needs an ownership check before release."""
    POLICY_COUNTERPARTY_UNREACHABLE = "POLICY.COUNTERPARTY_UNREACHABLE"
    """The beneficiary VASP is not in our directory, or the outbox gave up delivering."""
    POLICY_VALUATION_MISSING = "POLICY.VALUATION_MISSING"
    """The fiat value was missing or stale where a threshold needed it."""
    POLICY_IVMS_INVALID = "POLICY.IVMS_INVALID"
    """The counterparty's identity failed IVMS101 validation."""
    POLICY_BENEFICIARY_DATA_MISSING = "POLICY.BENEFICIARY_DATA_MISSING"
    """The counterparty accepted but its beneficiary data misses what the profiles require."""
    POLICY_RULE = "POLICY.RULE"
    """A `[[policy.rules]]` entry decided (`rule` names it, `reason` is its text)."""
    COUNTERPARTY_UNKNOWN = "COUNTERPARTY.UNKNOWN"
    """No VASP was named or found for the address, and the destination was not declared."""
    # The exchange with the counterparty.
    EXCHANGE_DELIVERED = "EXCHANGE.DELIVERED"
    """Our envelope was delivered: the hold waits for the counterparty's reply."""
    REPLY_ACCEPTED = "REPLY.ACCEPTED"
    REPLY_PENDING = "REPLY.PENDING"
    REPLY_REJECTED = "REPLY.REJECTED"
    REPLY_REVIEW = "REPLY.REVIEW"
    REPLY_REPAIR = "REPLY.REPAIR"
    REPLY_INVALID = "REPLY.INVALID"
    TIMEOUT = "TIMEOUT"
    """The counterparty did not answer within the reply window."""
    # People and the withdrawal service.
    REVIEW_ACCEPTED = "REVIEW.ACCEPTED"
    """A person accepted: the exchange resumes, or, where none is possible, the hold clears
    (the reason says which)."""
    REVIEW_REJECTED = "REVIEW.REJECTED"
    CANCELED = "CANCELED"
    BROADCAST = "BROADCAST"


def decision_code(decision: Decision) -> DecisionCode:
    """The code of a policy engine decision: its reason, or POLICY.RULE for a config rule."""
    if decision.rule.startswith("rule:"):
        return DecisionCode.POLICY_RULE
    try:
        return DecisionCode(decision.reason)
    except ValueError:
        return DecisionCode.POLICY_RULE
