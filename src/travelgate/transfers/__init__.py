"""The domain of withdrawal holds: state machine, reply outcomes, policy engine, deadlines.

Pure: no I/O, no asyncio, no grpc, no database. It reads protobuf messages
(`ivms101.IdentityPayload`) and plain values and answers with frozen values. Sources: FATF
Recommendation 16 and its interpretive note, EU TFR 2023/1113 (Art. 14 and 16 for
crypto-asset transfers), US 31 CFR 1010.410(f) (profiles, data rules); TRISA v1beta1
transfer states (reply semantics).

Typical use by the node::

    policy = parse_policy(config["policy"])            # once, at start-up
    decision = evaluate(facts, policy)                  # on POST /v1/withdrawals
    state = transition(HoldState.HELD, decision.target_state)
    ...
    outcome = classify_reply(state_name, is_error=..., error_code=..., retry=...,
                             transaction_type=...)
    verdict = evaluate_reply(facts, policy, decision, outcome, identity=reply_identity)
    if verdict.target is not None:
        state = transition(state, verdict.target)
"""

from travelgate.durations import format_duration, parse_duration
from travelgate.errors import IllegalTransitionError, InvalidAmountError, InvalidFactsError
from travelgate.transfers._amounts import (
    currency_decimals,
    parse_amount,
    parse_fiat_amount,
    peer_amount,
    transaction_amount,
)
from travelgate.transfers._codes import (
    DECISION_CODE_MEANINGS,
    DecisionCode,
    decision_code,
    reason_code,
)
from travelgate.transfers._config import parse_policy
from travelgate.transfers._conversations import (
    CONVERSATION_FINAL_STATES,
    ConversationState,
    conversation_state,
)
from travelgate.transfers._decision import REASON_CODES, Action, Decision, Reason
from travelgate.transfers._engine import ReplyVerdict, evaluate, evaluate_reply, value_in
from travelgate.transfers._expiry import (
    InboundTimeoutAction,
    TimeoutOutcome,
    extend_deadline,
    inbound_timeout,
    is_due,
    outbound_timeout,
    reply_deadline,
)
from travelgate.transfers._facts import (
    BeneficiaryMatch,
    CounterpartyKind,
    Direction,
    IvmsFailure,
    Money,
    TransactionRecord,
    TransferFacts,
    Valuation,
)
from travelgate.transfers._holds import (
    FINAL_STATES,
    TRANSITIONS,
    HoldState,
    is_final,
    is_legal,
    transition,
)
from travelgate.transfers._items import Item
from travelgate.transfers._outcomes import Outcome, classify_reply
from travelgate.transfers._policy import Condition, CounterpartySettings, Policy, PolicyRule
from travelgate.transfers._profiles import (
    BUILTIN_PROFILES,
    Comparison,
    Confidence,
    InboundMissing,
    Profile,
    ReleaseLevel,
    TimeoutInbound,
    TimeoutOutbound,
    builtin_profile,
)
from travelgate.transfers._rules import (
    RULE_IDS,
    DataRule,
    EuMode,
    PartyRule,
    RuleCheck,
    check_rule,
    data_rule,
)

__all__ = [
    "BUILTIN_PROFILES",
    "CONVERSATION_FINAL_STATES",
    "DECISION_CODE_MEANINGS",
    "FINAL_STATES",
    "REASON_CODES",
    "RULE_IDS",
    "TRANSITIONS",
    "Action",
    "BeneficiaryMatch",
    "Comparison",
    "Condition",
    "Confidence",
    "ConversationState",
    "CounterpartyKind",
    "CounterpartySettings",
    "DataRule",
    "Decision",
    "DecisionCode",
    "Direction",
    "EuMode",
    "HoldState",
    "IllegalTransitionError",
    "InboundMissing",
    "InboundTimeoutAction",
    "InvalidAmountError",
    "InvalidFactsError",
    "Item",
    "IvmsFailure",
    "Money",
    "Outcome",
    "PartyRule",
    "Policy",
    "PolicyRule",
    "Profile",
    "Reason",
    "ReleaseLevel",
    "ReplyVerdict",
    "RuleCheck",
    "TimeoutInbound",
    "TimeoutOutbound",
    "TimeoutOutcome",
    "TransactionRecord",
    "TransferFacts",
    "Valuation",
    "builtin_profile",
    "check_rule",
    "classify_reply",
    "conversation_state",
    "currency_decimals",
    "data_rule",
    "decision_code",
    "evaluate",
    "evaluate_reply",
    "extend_deadline",
    "format_duration",
    "inbound_timeout",
    "is_due",
    "is_final",
    "is_legal",
    "outbound_timeout",
    "parse_amount",
    "parse_duration",
    "parse_fiat_amount",
    "parse_policy",
    "peer_amount",
    "reason_code",
    "reply_deadline",
    "transaction_amount",
    "transition",
    "value_in",
]
