"""The gateway's application service: withdrawal holds, deposits, reviews, API keys.

The policy engine (`travelgate.transfers`) decides; this room records every change as one
store transaction together with its outbox rows (envelopes, webhooks) and audit events,
so a crash at any point loses nothing and sends nothing twice.
"""

from travelgate.service._deposits import DEPOSIT_STATES, DepositService, deposit_view
from travelgate.service._holds import HoldService
from travelgate.service._hooks import PolicyDecider, ServiceHooks
from travelgate.service._keys import (
    DEFAULT_SCOPES,
    SCOPES,
    check_api_key,
    check_scopes,
    create_api_key,
    key_hash,
    key_prefix,
    list_api_keys,
    require_scope,
    revoke_api_key,
)
from travelgate.service._paging import decode_cursor, encode_cursor, parse_limit
from travelgate.service._records import Notifier, Recorder, decision_view, hold_view
from travelgate.service._requests import (
    DEFAULT_ASSETS,
    SELF_HOSTED,
    WithdrawalRequest,
    check_person,
    parse_withdrawal,
    person_problems,
    person_violations,
)
from travelgate.service._reviews import ReviewService, review_view
from travelgate.service._trp import TrpService

__all__ = [
    "DEFAULT_ASSETS",
    "DEFAULT_SCOPES",
    "DEPOSIT_STATES",
    "SCOPES",
    "SELF_HOSTED",
    "DepositService",
    "HoldService",
    "Notifier",
    "PolicyDecider",
    "Recorder",
    "ReviewService",
    "ServiceHooks",
    "TrpService",
    "WithdrawalRequest",
    "check_api_key",
    "check_person",
    "check_scopes",
    "create_api_key",
    "decision_view",
    "decode_cursor",
    "deposit_view",
    "encode_cursor",
    "hold_view",
    "key_hash",
    "key_prefix",
    "list_api_keys",
    "parse_limit",
    "parse_withdrawal",
    "person_problems",
    "person_violations",
    "require_scope",
    "review_view",
    "revoke_api_key",
]
