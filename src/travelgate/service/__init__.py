"""The gateway's application service: withdrawal holds, deposits, reviews, API keys,
screening in the flow, customers' wallets and their address book, and security alerts.

The policy engine (`travelgate.transfers`) decides; this room records every change as one
store transaction together with its outbox rows (envelopes, webhooks) and audit events,
so a crash at any point loses nothing and sends nothing twice.
"""

from travelgate.service._alerts import ALERT_TYPES, Alerts, alert_view, peer_certificates
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
from travelgate.service._screening import Screened, ScreeningStep
from travelgate.service._totp import provisioning_uri, totp, totp_matches
from travelgate.service._trp import TrpService
from travelgate.service._users import (
    Enrolment,
    SignIn,
    change_password,
    create_user,
    hash_password,
    list_users,
    password_matches,
    reset_user,
    set_user_disabled,
    sign_in,
)
from travelgate.service._wallets import PROOF_METHODS, WalletService, book_view

__all__ = [
    "ALERT_TYPES",
    "DEFAULT_ASSETS",
    "DEFAULT_SCOPES",
    "DEPOSIT_STATES",
    "PROOF_METHODS",
    "SCOPES",
    "SELF_HOSTED",
    "Alerts",
    "DepositService",
    "Enrolment",
    "HoldService",
    "Notifier",
    "PolicyDecider",
    "Recorder",
    "ReviewService",
    "Screened",
    "ScreeningStep",
    "ServiceHooks",
    "SignIn",
    "TrpService",
    "WalletService",
    "WithdrawalRequest",
    "alert_view",
    "book_view",
    "change_password",
    "check_api_key",
    "check_person",
    "check_scopes",
    "create_api_key",
    "create_user",
    "decision_view",
    "decode_cursor",
    "deposit_view",
    "encode_cursor",
    "hash_password",
    "hold_view",
    "key_hash",
    "key_prefix",
    "list_api_keys",
    "list_users",
    "parse_limit",
    "parse_withdrawal",
    "password_matches",
    "peer_certificates",
    "person_problems",
    "person_violations",
    "provisioning_uri",
    "require_scope",
    "reset_user",
    "review_view",
    "revoke_api_key",
    "set_user_disabled",
    "sign_in",
    "totp",
    "totp_matches",
]
