"""Persistence: the SQLite store (WAL, one connection thread), migrations, at-rest sealing.

Callers pass plain functions of a `Tx` to `Database.read`/`Database.write`; each runs as one
transaction on the database thread. Personal data is sealed with the storage key before it
reaches SQL.
"""

from travelgate.errors import AddressTakenError
from travelgate.store._audit import NOTE_PREFIX, SYSTEM_ACTOR
from travelgate.store._clock import now_text
from travelgate.store._console import ConsoleSession, PeerActivity
from travelgate.store._database import Database
from travelgate.store._holds import ApiKey, Gauges, Hold, HoldFilter, OutboxItem, Review
from travelgate.store._open import database_for
from travelgate.store._screening import ListedAddress, ScreeningList
from travelgate.store._sealer import Sealer, load_or_create_key
from travelgate.store._sunrise import SunriseLink
from travelgate.store._trp import TravelAddressRecord, TrpTransfer
from travelgate.store._tx import (
    Conversation,
    Customer,
    CustomerRow,
    FailedEnvelope,
    StoredEnvelope,
    Tx,
)
from travelgate.store._users import ROLES, User, UserSecrets
from travelgate.store._wallets import Alert, BookEntry, WalletChallenge

__all__ = [
    "NOTE_PREFIX",
    "ROLES",
    "SYSTEM_ACTOR",
    "AddressTakenError",
    "Alert",
    "ApiKey",
    "BookEntry",
    "ConsoleSession",
    "Conversation",
    "Customer",
    "CustomerRow",
    "Database",
    "FailedEnvelope",
    "Gauges",
    "Hold",
    "HoldFilter",
    "ListedAddress",
    "OutboxItem",
    "PeerActivity",
    "Review",
    "ScreeningList",
    "Sealer",
    "StoredEnvelope",
    "SunriseLink",
    "TravelAddressRecord",
    "TrpTransfer",
    "Tx",
    "User",
    "UserSecrets",
    "WalletChallenge",
    "database_for",
    "load_or_create_key",
    "now_text",
]
