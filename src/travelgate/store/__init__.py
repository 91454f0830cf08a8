"""Persistence: the SQLite store (WAL, one connection thread), migrations, at-rest sealing.

Callers pass plain functions of a `Tx` to `Database.read`/`Database.write`; each runs as one
transaction on the database thread. Personal data is sealed with the storage key before it
reaches SQL.
"""

from travelgate.store._clock import now_text
from travelgate.store._database import Database
from travelgate.store._holds import ApiKey, Hold, OutboxItem, Review
from travelgate.store._sealer import Sealer, load_or_create_key
from travelgate.store._tx import (
    AddressTakenError,
    Conversation,
    Customer,
    FailedEnvelope,
    StoredEnvelope,
    Tx,
)

__all__ = [
    "AddressTakenError",
    "ApiKey",
    "Conversation",
    "Customer",
    "Database",
    "FailedEnvelope",
    "Hold",
    "OutboxItem",
    "Review",
    "Sealer",
    "StoredEnvelope",
    "Tx",
    "load_or_create_key",
    "now_text",
]
