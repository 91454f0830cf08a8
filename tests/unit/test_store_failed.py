"""Records of envelopes we could not open: capped per peer, purged on their own clock."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from datetime import timedelta

from support.stores import StoreFactory
from travelgate.node import purge_loop
from travelgate.store import Tx


def _record(tx: Tx, peer: str, number: int, keep: int = 100) -> int:
    return tx.insert_failed_envelope(
        peer=peer, envelope_id=f"id-{number}", code=105, size=10, sha256="00" * 32, keep=keep
    )


def _age(stores: StoreFactory, envelope_id: str, created_at: str) -> None:
    stores.sql(
        "a",
        "UPDATE failed_envelopes SET created_at = ? WHERE envelope_id = ?",
        (created_at, envelope_id),
    )


async def test_the_cap_is_per_peer_and_keeps_the_newest(stores: StoreFactory) -> None:
    db = await stores.open()
    for number in range(7):
        await db.write(functools.partial(_record, peer="mallory", number=number, keep=3))
    await db.write(lambda tx: _record(tx, "alice", 99, keep=3))
    mallory = await db.read(lambda tx: tx.failed_envelopes("mallory"))
    assert [r.envelope_id for r in mallory] == ["id-6", "id-5", "id-4"]
    alice = await db.read(lambda tx: tx.failed_envelopes("alice"))
    assert [r.envelope_id for r in alice] == ["id-99"]  # another peer's flood cost it nothing
    await db.close()


async def test_purge_removes_failed_records_after_their_own_retention(stores: StoreFactory) -> None:
    db = await stores.open()
    for number, age in enumerate(("2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z")):
        await db.write(functools.partial(_record, peer="peer", number=number))
        _age(stores, f"id-{number}", age)
    # The general retention (5 years) would keep both; failed records have 30 days.
    task = asyncio.create_task(
        purge_loop(db, timedelta(days=5 * 365), failed_retention=timedelta(days=30))
    )
    try:
        for _ in range(100):
            left = await db.read(lambda tx: [r.envelope_id for r in tx.failed_envelopes("peer")])
            if left == ["id-1"]:
                break
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert left == ["id-1"]
    await db.close()
