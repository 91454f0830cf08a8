"""The node's database as its configuration describes it: file, storage key, audit key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from travelgate.audit._key import load_or_create_audit_key
from travelgate.store._database import Database
from travelgate.store._sealer import Sealer, load_or_create_key

if TYPE_CHECKING:
    from travelgate.config import Config


def database_for(config: Config) -> Database:
    """A `Database` (not yet open) with the node's storage and audit keys, created 0600 on
    first use. Everything that writes to a node's database opens it through here, so every
    audit record is signed by the node's own key."""
    return Database(
        config.node.database,
        Sealer(load_or_create_key(config.storage.key_file)),
        load_or_create_audit_key(config.storage.audit_key_file),
    )
