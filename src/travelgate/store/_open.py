"""The node's store as its configuration describes it: backend, storage key, audit key."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from travelgate.audit._key import AuditKey, load_or_create_audit_key
from travelgate.store._sealer import Sealer, load_or_create_key
from travelgate.store._store import SchemaStatus, Store
from travelgate.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from travelgate.config import Config


def database_for(config: Config) -> Store:
    """A `Store` (not yet open) with the node's storage and audit keys, created 0600 on
    first use: SQLite for a file path, PostgreSQL for a postgresql:// URL. Everything that
    writes to a node's database opens it through here, so every audit record is signed by
    the node's own key."""
    return _store(
        config,
        Sealer(load_or_create_key(config.storage.key_file)),
        load_or_create_audit_key(config.storage.audit_key_file),
    )


async def schema_status(config: Config) -> SchemaStatus:
    """Where the node's schema stands; reads the version only (no key file is touched)."""
    store = _store(config, Sealer(bytes(32)), None)
    try:
        return await store.status()
    finally:
        await store.close()


def _store(config: Config, sealer: Sealer, audit_key: AuditKey | None) -> Store:
    settings = config.database
    if isinstance(config.node.database, Path):
        return SqliteStore(
            config.node.database,
            sealer,
            audit_key,
            statement_timeout=settings.statement_timeout,
        )
    # Imported here: a SQLite node never loads the PostgreSQL driver.
    from travelgate.store.postgres import PostgresStore

    return PostgresStore(
        config.node.database,
        sealer,
        audit_key,
        pool_size=settings.pool_size,
        statement_timeout=settings.statement_timeout,
    )
