"""Persistence: the `Store` seam, its SQLite and PostgreSQL backends, migrations, sealing.

Callers pass plain functions of a `Tx` to `Store.read`/`Store.write`; each runs as one
transaction on a database thread, with the same operation code on either backend
(`store.sqlite`, `store.postgres`). Personal data is sealed with the storage key before it
reaches SQL.
"""

from travelgate.errors import AddressTakenError
from travelgate.store._audit import NOTE_PREFIX, SYSTEM_ACTOR
from travelgate.store._clock import now_text
from travelgate.store._console import ConsoleSession, PeerActivity
from travelgate.store._holds import ApiKey, Gauges, Hold, HoldFilter, OutboxItem, Review
from travelgate.store._open import database_for, schema_status
from travelgate.store._screening import ListedAddress, ScreeningList
from travelgate.store._sealer import Sealer, load_or_create_key
from travelgate.store._store import ChangeListener, SchemaStatus, Store
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
from travelgate.store.sqlite import SqliteStore

__all__ = [
    "NOTE_PREFIX",
    "ROLES",
    "SYSTEM_ACTOR",
    "AddressTakenError",
    "Alert",
    "ApiKey",
    "BookEntry",
    "ChangeListener",
    "ConsoleSession",
    "Conversation",
    "Customer",
    "CustomerRow",
    "FailedEnvelope",
    "Gauges",
    "Hold",
    "HoldFilter",
    "ListedAddress",
    "OutboxItem",
    "PeerActivity",
    "Review",
    "SchemaStatus",
    "ScreeningList",
    "Sealer",
    "SqliteStore",
    "Store",
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
    "schema_status",
]
