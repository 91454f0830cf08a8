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

__all__ = ["DECISION_CODE_MEANINGS", "DecisionCode", "decision_code", "reason_code"]


class DecisionCode(StrEnum):
    POLICY_COMPLETE = "POLICY.COMPLETE"
    POLICY_NOT_APPLICABLE = "POLICY.NOT_APPLICABLE"
    POLICY_OWN_DATA_MISSING = "POLICY.OWN_DATA_MISSING"
    POLICY_SELF_HOSTED_EVIDENCE_REQUIRED = "POLICY.SELF_HOSTED_EVIDENCE_REQUIRED"
    POLICY_COUNTERPARTY_UNREACHABLE = "POLICY.COUNTERPARTY_UNREACHABLE"
    POLICY_VALUATION_MISSING = "POLICY.VALUATION_MISSING"
    POLICY_IVMS_INVALID = "POLICY.IVMS_INVALID"
    POLICY_BENEFICIARY_DATA_MISSING = "POLICY.BENEFICIARY_DATA_MISSING"
    POLICY_RULE = "POLICY.RULE"
    POLICY_ORIGINATOR_DATA_MISSING = "POLICY.ORIGINATOR_DATA_MISSING"
    POLICY_VASP_DATA_MISSING = "POLICY.VASP_DATA_MISSING"
    POLICY_TRANSACTION_DATA_MISSING = "POLICY.TRANSACTION_DATA_MISSING"
    POLICY_UNKNOWN_BENEFICIARY = "POLICY.UNKNOWN_BENEFICIARY"
    POLICY_BENEFICIARY_NAME_MISMATCH = "POLICY.BENEFICIARY_NAME_MISMATCH"
    POLICY_REPLY_TIMEOUT = "POLICY.REPLY_TIMEOUT"
    POLICY_REPEAT_INCOMPLETE_COUNTERPARTY = "POLICY.REPEAT_INCOMPLETE_COUNTERPARTY"
    COUNTERPARTY_UNKNOWN = "COUNTERPARTY.UNKNOWN"
    EXCHANGE_DELIVERED = "EXCHANGE.DELIVERED"
    REPLY_ACCEPTED = "REPLY.ACCEPTED"
    REPLY_PENDING = "REPLY.PENDING"
    REPLY_REJECTED = "REPLY.REJECTED"
    REPLY_REVIEW = "REPLY.REVIEW"
    REPLY_REPAIR = "REPLY.REPAIR"
    REPLY_INVALID = "REPLY.INVALID"
    TIMEOUT = "TIMEOUT"
    REVIEW_ACCEPTED = "REVIEW.ACCEPTED"
    REVIEW_REJECTED = "REVIEW.REJECTED"
    CANCELED = "CANCELED"
    BROADCAST = "BROADCAST"
    PEER_ERROR = "PEER.ERROR"
    SCREENING_LISTED = "SCREENING.LISTED"
    SCREENING_PROVIDER_RISK = "SCREENING.PROVIDER_RISK"
    SCREENING_PROVIDER_FAILED = "SCREENING.PROVIDER_FAILED"
    SELF_HOSTED_UNVERIFIED = "SELF_HOSTED.UNVERIFIED"
    SELF_HOSTED_VERIFIED = "SELF_HOSTED.VERIFIED"
    HOLD_NEW_DESTINATION = "HOLD.NEW_DESTINATION"
    TRP_ADDRESS_MISMATCH = "TRP.ADDRESS_MISMATCH"


_C = DecisionCode

DECISION_CODE_MEANINGS: dict[DecisionCode, str] = {
    _C.POLICY_COMPLETE: "every applicable profile is satisfied: the exchange goes ahead "
    "(to a self-hosted wallet: the hold clears)",
    _C.POLICY_NOT_APPLICABLE: "no profile applies (below every threshold): cleared without "
    "an exchange",
    _C.POLICY_OWN_DATA_MISSING: "our own customer's data misses what the profiles require: "
    "nothing is sent, a person completes the record",
    _C.POLICY_SELF_HOSTED_EVIDENCE_REQUIRED: "a self-hosted destination needs an ownership "
    "check before release",
    _C.POLICY_COUNTERPARTY_UNREACHABLE: "the beneficiary VASP is not in our directory, or the "
    "outbox gave up delivering to it",
    _C.POLICY_VALUATION_MISSING: "the fiat value was missing or stale where a threshold needed it",
    _C.POLICY_IVMS_INVALID: "the counterparty's identity failed IVMS101 validation",
    _C.POLICY_BENEFICIARY_DATA_MISSING: "the counterparty accepted, but its beneficiary data "
    "misses what the profiles require",
    _C.POLICY_RULE: "a [[policy.rules]] entry decided (`rule` names it, `reason` is its text)",
    _C.POLICY_ORIGINATOR_DATA_MISSING: "the originator's data misses what the profiles require",
    _C.POLICY_VASP_DATA_MISSING: "the counterparty VASP's own data misses what the profiles "
    "require",
    _C.POLICY_TRANSACTION_DATA_MISSING: "the transaction misses fields the profiles require",
    _C.POLICY_UNKNOWN_BENEFICIARY: "deposits: the address belongs to none of our customers",
    _C.POLICY_BENEFICIARY_NAME_MISMATCH: "deposits: the beneficiary named is not the customer "
    "who holds the address",
    _C.POLICY_REPLY_TIMEOUT: "deposits: our decision window closed",
    _C.POLICY_REPEAT_INCOMPLETE_COUNTERPARTY: "the counterparty sent incomplete data again "
    "after a repair request",
    _C.COUNTERPARTY_UNKNOWN: "no VASP was named or found for the address and the destination "
    "was not declared: a person decides",
    _C.EXCHANGE_DELIVERED: "our envelope was delivered: waiting for the counterparty's reply",
    _C.REPLY_ACCEPTED: "the counterparty accepted with a valid, policy-sufficient reply",
    _C.REPLY_PENDING: "the counterparty is still deciding (the deadline may move)",
    _C.REPLY_REJECTED: "the counterparty rejected the transfer (see `trisa_code`)",
    _C.REPLY_REVIEW: "the counterparty asked for review",
    _C.REPLY_REPAIR: "the counterparty asked us to repair our data (see `trisa_code`)",
    _C.REPLY_INVALID: "the counterparty's reply could not be used",
    _C.TIMEOUT: "the counterparty did not answer within the reply window",
    _C.REVIEW_ACCEPTED: "a person accepted: the exchange starts or resumes (awaiting_reply), "
    "or, where none is possible, the hold clears and `reason` says why",
    _C.REVIEW_REJECTED: "a person rejected the withdrawal",
    _C.CANCELED: "the withdrawal service canceled the withdrawal",
    _C.BROADCAST: "the withdrawal service recorded the broadcast (txid)",
    _C.PEER_ERROR: "deposits: the sender ended the exchange with an error (see `trisa_code`)",
    _C.SCREENING_LISTED: "the destination (withdrawals) or an originator address (deposits) "
    "is on a sanctions list: `rule` is `screening:<list>`, `reason` names the list and its "
    "reference; nothing was sent to the counterparty",
    _C.SCREENING_PROVIDER_RISK: "the screening provider rated the address at a risk level "
    "that `[screening] risk_actions` sends to review or rejection",
    _C.SCREENING_PROVIDER_FAILED: "the screening provider failed or timed out: a person "
    "decides (screening fails closed unless `fail_open`)",
    _C.SELF_HOSTED_UNVERIFIED: "a self-hosted destination above the ownership threshold is "
    "not a verified wallet of the originating customer: a person decides",
    _C.SELF_HOSTED_VERIFIED: "the self-hosted destination is a verified wallet of the "
    "originating customer: the hold clears",
    _C.HOLD_NEW_DESTINATION: "the destination is not in the customer's address book: the "
    "withdrawal waits in held until `release_at` (`[policy] new_destination_hold`)",
    _C.TRP_ADDRESS_MISMATCH: "the beneficiary VASP approved over TRP, but to an address other "
    "than the destination.address requested: a person decides",
}


def decision_code(decision: Decision) -> DecisionCode:
    """The code of a policy engine decision: its reason, or POLICY.RULE for a config rule."""
    return reason_code(decision.reason, decision.rule)


def reason_code(reason: str | None, rule: str | None) -> DecisionCode:
    """The code for an engine reason (same spelling); POLICY.RULE for a config rule's text."""
    if rule is not None and rule.startswith("rule:"):
        return DecisionCode.POLICY_RULE
    text = reason or DecisionCode.POLICY_COMPLETE
    for candidate in (text, text.split(": ", 1)[0]):  # "CODE: detail" names its code first
        try:
            return DecisionCode(candidate)
        except ValueError:
            continue
    return DecisionCode.POLICY_RULE
