"""The store on both backends (SQLite files, PostgreSQL databases): migrations, sealing at
rest, idempotency keys, retention; and what only a SQLite file has (modes, old schemas)."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from support.stores import StoreFactory
from travelgate.errors import ConfigError, StoreError
from travelgate.store import AddressTakenError, Sealer, SqliteStore, Store, Tx, load_or_create_key
from travelgate.store._schema import MIGRATIONS
from travelgate.store.sqlite._database import _statements

PERSON = {"naturalPerson": {"name": {"nameIdentifier": [{"primaryIdentifier": "Smith"}]}}}


async def _db(path: Path, key: bytes = b"k" * 32) -> SqliteStore:
    db = SqliteStore(path, Sealer(key))
    await db.open()
    return db


async def test_migrations_are_applied_once_and_versioned(stores: StoreFactory) -> None:
    fresh = await stores.make().status()
    assert (fresh.backend, fresh.current, fresh.pending) == (
        stores.backend,
        0,
        list(range(1, len(MIGRATIONS) + 1)),
    )
    db = stores.make()
    assert await db.migrate() == list(range(1, len(MIGRATIONS) + 1))
    await db.close()
    again = stores.make()
    assert await again.migrate() == []
    status = await again.status()
    assert (status.current, status.latest, status.pending) == (len(MIGRATIONS),) * 2 + ([],)


async def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a travelgate database"):
        await _db(path)


async def test_a_database_newer_than_the_code_is_refused(stores: StoreFactory) -> None:
    db = await stores.open()
    await db.close()
    if stores.backend == "sqlite":
        stores.sql("a", f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    else:
        stores.sql("a", "INSERT INTO schema_version VALUES (?, 'later')", (len(MIGRATIONS) + 1,))
    with pytest.raises(StoreError, match="newer than this travelgate knows"):
        await stores.open()


async def test_personal_data_is_sealed_at_rest(stores: StoreFactory) -> None:
    db = await stores.open()
    await db.write(lambda tx: tx.put_customer("c1", PERSON, ["bc1q"]))
    [(raw,)] = stores.sql("a", "SELECT person FROM customers")
    assert b"Smith" not in raw
    customer = await db.read(lambda tx: tx.customer_for_address("bc1q"))
    assert customer is not None
    assert customer.person == PERSON
    await db.close()
    wrong = await stores.open(key=b"x" * 32)
    with pytest.raises(StoreError, match="does not open with this storage key"):
        await wrong.read(lambda tx: tx.get_customer("c1"))
    await wrong.close()


async def test_an_address_belongs_to_one_customer(stores: StoreFactory) -> None:
    db = await stores.open()
    await db.write(lambda tx: tx.put_customer("c1", PERSON, ["bc1q"]))
    with pytest.raises(AddressTakenError):
        await db.write(lambda tx: tx.put_customer("c2", PERSON, ["bc1q"]))
    assert await db.read(lambda tx: tx.get_customer("c2")) is None  # rolled back whole
    await db.close()


async def test_retention_purge_removes_only_closed_old_records(stores: StoreFactory) -> None:
    db = await stores.open()

    def fill(tx: Tx) -> None:
        for index, state in enumerate(("COMPLETED", "PENDING")):
            conversation = tx.create_conversation(
                "peer", f"id-{index}", role="beneficiary", state=state
            )
            tx.insert_envelope(
                peer="peer",
                envelope_id=f"id-{index}",
                direction="in",
                transfer_state=state,
                raw=b"x",
                conversation_id=conversation,
            )

    await db.write(fill)
    stores.sql("a", "UPDATE conversations SET updated_at = '2000-01-01T00:00:00Z'")
    counts = await db.write(lambda tx: tx.purge("2020-01-01T00:00:00Z"))
    assert counts["conversations"] == 1
    left = await db.read(lambda tx: (tx.count("conversations"), tx.count("envelopes")))
    assert left == (1, 1)  # the open exchange and its envelope stay
    await db.close()


def test_storage_key_is_created_0600_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "storage.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(path) == key
    path.write_text("not base64!!")
    with pytest.raises(ConfigError, match="not base64"):
        load_or_create_key(path)
    path.write_text("c2hvcnQ=")
    with pytest.raises(ConfigError, match="holds 5 bytes"):
        load_or_create_key(path)


async def test_the_database_and_its_wal_files_are_private_to_the_owner(tmp_path: Path) -> None:
    db = await _db(tmp_path / "a.db")
    await db.write(lambda tx: tx.put_customer("c1", PERSON, ["bc1q"]))
    modes = _modes(tmp_path)
    for name in ("a.db", "a.db-wal", "a.db-shm"):
        assert modes.get(name) == 0o600, name
    await db.close()


def _modes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()}


async def test_an_existing_readable_database_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    db = await _db(path)
    await db.close()
    path.chmod(0o644)
    again = await _db(path)
    assert path.stat().st_mode & 0o777 == 0o600
    await again.close()


async def test_a_database_of_the_previous_schema_gains_deposit_ids_and_key_scopes(
    tmp_path: Path,
) -> None:
    """Keys made before scopes existed keep every right they had; deposits made before
    deposit ids existed get a distinct UUID each."""
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:2]:
        for statement in _statements(script):
            connection.execute(statement)
    connection.execute("PRAGMA user_version = 2")
    stamp = "2026-01-01T00:00:00.000000Z"
    for number in (1, 2):
        connection.execute(
            "INSERT INTO conversations (peer, envelope_id, role, state, created_at, updated_at) "
            "VALUES ('peer', ?, 'beneficiary', 'ACCEPTED', ?, ?)",
            (f"e{number}", stamp, stamp),
        )
    connection.execute(
        "INSERT INTO api_keys (id, hash, label, created_at) VALUES ('k1', 'h1', 'old', ?)",
        (stamp,),
    )
    connection.close()

    db = await _db(path)
    ids = await db.read(lambda tx: [c.public_id for c in tx.conversations()])
    assert len(set(ids)) == 2
    assert all(str(uuid.UUID(value)) == value for value in ids)
    record = await db.read(lambda tx: tx.api_key_by_hash("h1"))
    assert record is not None
    assert record.scopes == ("withdrawals", "deposits", "customers", "reviews", "admin")
    deposit = await db.read(lambda tx: tx.conversation_by_public_id(ids[0]))
    assert deposit is not None
    assert (deposit.envelope_id, deposit.version, deposit.decision) == ("e1", 0, None)
    await db.close()


async def test_replicas_opening_together_migrate_once(stores: StoreFactory) -> None:
    """Replicas started at the same moment: one applies every migration, the others wait
    for it (PostgreSQL's advisory lock, SQLite's write lock) and find nothing to do."""
    replicas = [stores.make() for _ in range(4)]
    applied = await asyncio.gather(*(replica.migrate() for replica in replicas))
    assert sorted(applied, key=len) == [[], [], [], list(range(1, len(MIGRATIONS) + 1))]
    for replica in replicas:
        assert (await replica.status()).pending == []


async def test_a_write_waits_for_another_writer_no_longer_than_statement_timeout(
    stores: StoreFactory,
) -> None:
    """Another process holds the write lock: a unit of work gives up after the configured
    `statement_timeout` with a clear error, and nothing of it is stored."""
    await (await stores.open()).close()
    location = stores.location()
    if stores.backend == "sqlite":
        store: Store = SqliteStore(
            Path(location), Sealer(b"k" * 32), statement_timeout=timedelta(seconds=0.3)
        )
        expected = "is unavailable: database is locked"
    else:
        from travelgate.store.postgres import PostgresStore
        from travelgate.store.postgres._database import WRITE_LOCK

        store = PostgresStore(location, Sealer(b"k" * 32), statement_timeout=timedelta(seconds=0.3))
        expected = "ran past statement_timeout"
    await store.open()
    if stores.backend == "sqlite":
        holder: Any = sqlite3.connect(location, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder = psycopg.connect(location)
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
    started = time.monotonic()
    with pytest.raises(StoreError, match=expected):
        await store.write(lambda tx: tx.put_customer("c1", PERSON, ["bc1q"]))
    assert time.monotonic() - started < 3
    holder.rollback()
    holder.close()
    assert await store.read(lambda tx: tx.get_customer("c1")) is None
    await store.close()


def _customer(tx: Tx, number: int) -> bool:
    return tx.put_customer(f"c{number}", PERSON, [f"addr-{number}"])


async def test_pages_are_newest_first_below_the_cursor(stores: StoreFactory) -> None:
    """Keyset paging by the row's insertion order (SQLite's rowid, PostgreSQL's identity
    column of that name) reads the same on both backends."""
    db = await stores.open()
    for number in range(5):
        await db.write(functools.partial(_customer, number=number))
    first = await db.read(lambda tx: tx.customers_page(before=None, limit=2))
    assert [row.customer.id for row in first] == ["c4", "c3"]
    rest = await db.read(lambda tx: tx.customers_page(before=first[-1].rowid, limit=10))
    assert [row.customer.id for row in rest] == ["c2", "c1", "c0"]
    await db.close()


def test_every_migration_has_its_postgresql_twin() -> None:
    """A migration appended to store/_schema.py needs its PostgreSQL DDL in
    store/postgres/_schema.py under the same number (`db status` means the same on both)."""
    from travelgate.store.postgres._schema import MIGRATIONS as POSTGRES_MIGRATIONS

    assert len(POSTGRES_MIGRATIONS) == len(MIGRATIONS)
