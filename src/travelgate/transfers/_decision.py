"""What the policy engine answers: actions, reason codes and the `Decision` record.

Reason codes are the reasons of the regulation's table of refusals (each mapped to the
TRISA code it sends) plus three that the engine needs and the table does not name:
`POLICY.COMPLETE` (every applicable profile is satisfied),
`POLICY.COUNTERPARTY_UNREACHABLE` (the beneficiary VASP is known but not in our
directory), and `COUNTERPARTY.UNKNOWN` (no VASP named or found for the address and the
destination not declared self-hosted: never cleared without a person). A `Decision` is
a plain value: the node stores `as_record()` in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from travelgate._pb.trisa.api.v1beta1 import errors_pb2
from travelgate.durations import format_duration
from travelgate.transfers._facts import Direction
from travelgate.transfers._holds import HoldState
from travelgate.transfers._profiles import ReleaseLevel, TimeoutInbound, TimeoutOutbound

__all__ = ["REASON_CODES", "Action", "Decision", "Reason"]

_Code = errors_pb2.Error.Code


class Action(StrEnum):
    """What happens to the transfer."""

    SEND = "send"
    """Outbound: go ahead with the TRISA exchange (hold -> awaiting_reply)."""
    ACCEPT = "accept"
    """Inbound: accept (reply ACCEPTED, credit the deposit)."""
    CLEAR = "clear"
    """Outbound: release without an exchange (no profile applies, or self-hosted address)."""
    REVIEW = "review"
    """A person decides."""
    REJECT = "reject"
    """Outbound: do not broadcast. Inbound: error envelope with retry=false."""
    REPAIR = "repair"
    """Inbound: ask the sender to fix the data (error envelope with retry=true); hold."""
    BLOCK = "block"
    """Outbound: our own customer's data is incomplete; nothing is sent."""


class Reason(StrEnum):
    NOT_APPLICABLE = "POLICY.NOT_APPLICABLE"
    IVMS_INVALID = "POLICY.IVMS_INVALID"
    ORIGINATOR_DATA_MISSING = "POLICY.ORIGINATOR_DATA_MISSING"
    BENEFICIARY_DATA_MISSING = "POLICY.BENEFICIARY_DATA_MISSING"
    VASP_DATA_MISSING = "POLICY.VASP_DATA_MISSING"
    TRANSACTION_DATA_MISSING = "POLICY.TRANSACTION_DATA_MISSING"
    OWN_DATA_MISSING = "POLICY.OWN_DATA_MISSING"
    VALUATION_MISSING = "POLICY.VALUATION_MISSING"
    SELF_HOSTED_EVIDENCE_REQUIRED = "POLICY.SELF_HOSTED_EVIDENCE_REQUIRED"
    UNKNOWN_BENEFICIARY = "POLICY.UNKNOWN_BENEFICIARY"
    BENEFICIARY_NAME_MISMATCH = "POLICY.BENEFICIARY_NAME_MISMATCH"
    REPLY_TIMEOUT = "POLICY.REPLY_TIMEOUT"
    REPEAT_INCOMPLETE_COUNTERPARTY = "POLICY.REPEAT_INCOMPLETE_COUNTERPARTY"
    COMPLETE = "POLICY.COMPLETE"
    COUNTERPARTY_UNREACHABLE = "POLICY.COUNTERPARTY_UNREACHABLE"
    COUNTERPARTY_UNKNOWN = "COUNTERPARTY.UNKNOWN"


REASON_CODES: dict[Reason, int] = {
    Reason.ORIGINATOR_DATA_MISSING: _Code.INCOMPLETE_IDENTITY,
    Reason.BENEFICIARY_DATA_MISSING: _Code.INCOMPLETE_IDENTITY,
    Reason.VASP_DATA_MISSING: _Code.INCOMPLETE_IDENTITY,
    Reason.TRANSACTION_DATA_MISSING: _Code.MISSING_FIELDS,
    Reason.UNKNOWN_BENEFICIARY: _Code.UNKNOWN_WALLET_ADDRESS,
    Reason.BENEFICIARY_NAME_MISMATCH: _Code.UNKOWN_BENEFICIARY,
    Reason.REPLY_TIMEOUT: _Code.COMPLIANCE_PERIOD_EXCEEDED,
    Reason.REPEAT_INCOMPLETE_COUNTERPARTY: _Code.REJECTED,
}
"""TRISA code to send for a reason (reason codes); IVMS_INVALID takes the validator's."""

_TARGETS: dict[Action, HoldState] = {
    Action.SEND: HoldState.AWAITING_REPLY,
    Action.CLEAR: HoldState.CLEARED,
    Action.REVIEW: HoldState.REVIEW,
    Action.REJECT: HoldState.REJECTED,
    # A blocked withdrawal waits in review while the back office completes the customer's
    # data; it is then re-evaluated (review -> awaiting_reply) or rejected by a person.
    Action.BLOCK: HoldState.REVIEW,
}


@dataclass(frozen=True)
class Decision:
    """The outcome of `evaluate`, recorded with the transfer."""

    direction: Direction
    applicable: bool
    action: Action
    rule: str
    """Who decided: `profile:<ids>` (built-in profiles), `rule:<name>` (a config rule) or
    `ivms101` (validation failed)."""
    reason: str
    """A `Reason` value, or a config rule's reason text."""
    reasons: tuple[str, ...]
    """Every reason found, the deciding one included."""
    missing: tuple[str, ...]
    """Unmet data requirements, e.g. `ADDRESS@originator.originatorPersons[0]`."""
    error_code: int | None
    """TRISA `Error.Code` for an inbound reject/repair reply (None otherwise)."""
    retry: bool | None
    payload_sufficient: bool
    evidence_required: bool
    reply_timeout: timedelta
    max_wait: timedelta
    release_level: ReleaseLevel
    timeout_outbound: TimeoutOutbound
    timeout_inbound: TimeoutInbound
    retention: timedelta
    delete_after_retention: bool
    profiles: tuple[str, ...]
    """Ids of the applicable profiles."""
    profile_versions: tuple[str, ...]
    """`id@version` of every active profile evaluated (audit, profile evaluation)."""

    @property
    def target_state(self) -> HoldState | None:
        """Outbound: the hold state this decision leads to from `held` (None inbound)."""
        if self.direction is not Direction.OUTBOUND:
            return None
        return _TARGETS.get(self.action)

    @property
    def error_code_name(self) -> str | None:
        return None if self.error_code is None else _Code.Name(self.error_code)  # type: ignore[arg-type]

    def as_record(self) -> dict[str, object]:
        """JSON-ready form for the audit trail."""
        return {
            "direction": self.direction.value,
            "applicable": self.applicable,
            "action": self.action.value,
            "rule": self.rule,
            "reason": self.reason,
            "reasons": list(self.reasons),
            "missing": list(self.missing),
            "error_code": self.error_code_name,
            "retry": self.retry,
            "payload_sufficient": self.payload_sufficient,
            "evidence_required": self.evidence_required,
            "reply_timeout": format_duration(self.reply_timeout),
            "max_wait": format_duration(self.max_wait),
            "release_level": self.release_level.value,
            "timeout_outbound": self.timeout_outbound.value,
            "timeout_inbound": self.timeout_inbound.value,
            "retention": format_duration(self.retention),
            "delete_after_retention": self.delete_after_retention,
            "profiles": list(self.profiles),
            "profile_versions": list(self.profile_versions),
        }
