"""The audit chain on a real SQLite file: appending, signatures, tampering, purges, upgrade."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from support.stores import StoreFactory
from travelgate.audit import (
    GENESIS,
    AuditKey,
    AuditRecord,
    check_chain,
    digest_of,
    load_or_create_audit_key,
)
from travelgate.audit._trail import check_stored_chain, verify_trail
from travelgate.store import Sealer, SqliteStore, Tx, now_text
from travelgate.store._schema import AUDIT_CHAIN_MIGRATION, MIGRATIONS

KEY = AuditKey(b"a" * 32)


async def _db(path: Path, key: AuditKey = KEY) -> SqliteStore:
    db = SqliteStore(path, Sealer(b"k" * 32), key)
    await db.open()
    return db


def _write(tx: Tx, count: int, reason: str | None = None) -> None:
    for number in range(count):
        detail: dict[str, object] = {"n": number}
        if reason is not None:
            detail["reason"] = reason
        tx.audit(
            actor="system",
            action="test.event",
            subject=f"hold:{number}",
            detail=detail,
            stamp=now_text(),
        )


def _records(tx: Tx) -> list[AuditRecord]:
    return list(tx.audit_records())


async def test_records_are_chained_and_signed(stores: StoreFactory) -> None:
    db = await stores.open(audit_key=KEY)
    await db.write(lambda tx: _write(tx, 3))
    records = await db.read(_records)
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[0].prev == GENESIS
    assert [r.prev for r in records[1:]] == [r.hash for r in records[:-1]]
    assert all(digest_of(r) == r.hash for r in records)
    report = await verify_trail(db)
    assert report.intact
    assert report.summary() == "3 records, chain intact"
    await db.close()


async def test_an_empty_trail_is_intact(tmp_path: Path) -> None:
    db = await _db(tmp_path / "a.db")
    assert (await verify_trail(db)).summary() == "0 records, chain intact"
    await db.close()


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("UPDATE audit SET subject = 'hold:x' WHERE id = 2", "record 2 (test.event"),
        ("DELETE FROM audit WHERE id = 2", "record 2 is missing"),
        ("DELETE FROM audit WHERE id = 1", "record 1 is missing"),
        (
            "UPDATE audit SET signature = replace(signature, substr(signature, 1, 2), "
            "CASE substr(signature, 1, 2) WHEN '00' THEN '11' ELSE '00' END) WHERE id = 3",
            "signature does not verify",
        ),
        (
            "UPDATE audit SET id = id + 10 WHERE id = 2; UPDATE audit SET id = 2 WHERE id = 3; "
            "UPDATE audit SET id = 3 WHERE id = 12",
            "record 2",
        ),
    ],
)
async def test_a_changed_removed_or_reordered_record_is_named(
    tmp_path: Path, tamper: str, expected: str
) -> None:
    path = tmp_path / "a.db"
    db = await _db(path)
    await db.write(lambda tx: _write(tx, 4))
    await db.close()
    with sqlite3.connect(path) as connection:
        connection.executescript(tamper)
    db = await _db(path)
    report = await verify_trail(db)
    assert not report.intact
    assert expected in (report.failure or "")
    await db.close()


async def test_a_record_rehashed_after_a_change_fails_its_signature(tmp_path: Path) -> None:
    db = await _db(tmp_path / "a.db")
    await db.write(lambda tx: _write(tx, 2))
    records = await db.read(_records)
    changed = AuditRecord(**{**records[1].__dict__, "actor": "someone else"})
    forged = AuditRecord(**{**changed.__dict__, "hash": digest_of(changed)})
    report = check_chain([records[0], forged], KEY.public_key, start_seq=1)
    assert report.failure is not None
    assert "signature does not verify" in report.failure
    await db.close()


async def test_another_key_does_not_verify(tmp_path: Path) -> None:
    db = await _db(tmp_path / "a.db")
    await db.write(lambda tx: _write(tx, 1))
    await db.close()
    other = await _db(tmp_path / "a.db", AuditKey(b"b" * 32))
    report = await verify_trail(other)
    assert report.failure is not None
    assert "signature does not verify" in report.failure
    await other.close()


async def test_free_text_is_sealed_apart_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    db = await _db(path)
    await db.write(lambda tx: _write(tx, 1, reason="Alice Smith asked us to stop"))
    trail = await db.read(lambda tx: tx.audit_of("hold:0"))
    assert trail[0]["detail"]["reason"] == "Alice Smith asked us to stop"
    await db.close()
    with sqlite3.connect(path) as connection:
        stored = connection.execute("SELECT detail FROM audit").fetchone()[0]
    assert "Alice" not in stored
    assert "audit_note:" in stored


async def test_writers_in_turn_keep_one_chain(stores: StoreFactory) -> None:
    """Two stores on one database (two processes in effect) append to one chain."""
    first, second = await stores.open(audit_key=KEY), await stores.open(audit_key=KEY)
    for _ in range(5):
        await first.write(lambda tx: _write(tx, 2))
        await second.write(lambda tx: _write(tx, 1))
    assert (await verify_trail(first)).summary() == "15 records, chain intact"
    await first.close()
    await second.close()


async def test_writers_at_once_keep_one_chain(stores: StoreFactory) -> None:
    """Two replicas appending at the same moment, each from several threads (PostgreSQL
    runs units of work side by side): writers take turns, the chain never forks."""
    first, second = await stores.open(audit_key=KEY), await stores.open(audit_key=KEY)
    await asyncio.gather(
        *(store.write(lambda tx: _write(tx, 2)) for store in (first, second) for _ in range(10))
    )
    assert (await verify_trail(second)).summary() == "40 records, chain intact"
    await first.close()
    await second.close()


async def test_a_purge_keeps_the_rest_of_the_chain_checkable(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    db = await _db(path)

    def old(tx: Tx) -> None:
        for number in range(3):
            tx.audit(
                actor="system",
                action="old",
                subject="x",
                detail={"reason": f"r{number}"},
                stamp=f"2000-01-0{number + 1}T00:00:00.000000Z",
            )

    await db.write(old)
    await db.write(lambda tx: _write(tx, 2))
    counts = await db.write(lambda tx: tx.purge("2001-01-01T00:00:00.000000Z"))
    assert counts["audit"] == 3
    records = await db.read(_records)
    assert [r.seq for r in records] == [4, 5, 6]
    assert records[-1].action == "audit.purged"
    assert (await verify_trail(db)).summary() == "3 records, chain intact"
    await db.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM audit_notes").fetchone()[0] == 0
        # Cutting the head further without a signed record saying so is detected.
        connection.execute("DELETE FROM audit WHERE id = 4")
        connection.execute(
            "UPDATE audit_anchor SET seq = 4, hash = (SELECT prev_hash FROM audit WHERE id = 5)"
        )
    db = await _db(path)
    report = await db.read(check_stored_chain)
    assert report.failure is not None
    assert "without a signed audit.purged record" in report.failure
    await db.close()


async def test_rows_of_an_older_database_are_chained_at_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    before = MIGRATIONS.index(AUDIT_CHAIN_MIGRATION)
    with sqlite3.connect(path) as connection:
        for script in MIGRATIONS[:before]:
            connection.executescript(script)
        connection.execute(f"PRAGMA user_version = {before}")
        connection.executemany(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            [
                ("2026-01-01T00:00:00.000000Z", "k1", "hold.created", "hold:a", '{"n": 1}'),
                (
                    "2026-01-02T00:00:00.000000Z",
                    "k1",
                    "hold.state",
                    "hold:a",
                    '{"reason": "Bob said no"}',
                ),
            ],
        )
    db = await _db(path)
    records = await db.read(_records)
    assert [(r.seq, r.action) for r in records] == [
        (1, "hold.created"),
        (2, "hold.state"),
        (3, "audit.chain_started"),
    ]
    assert records[2].detail["chained_at_upgrade"] == 2
    assert (await db.read(lambda tx: tx.audit_of("hold:a")))[1]["detail"]["reason"] == "Bob said no"
    assert (await verify_trail(db)).intact
    await db.close()


def test_the_audit_key_is_created_0600_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.key"
    key = load_or_create_audit_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_audit_key(path).public_key == key.public_key
    path.write_text("not base64!\n")
    with pytest.raises(Exception, match="not base64"):
        load_or_create_audit_key(path)
