"""Change notifications on both backends: told after commit, never inside the transaction or
for a rollback, and heard by another replica on the same database within a second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection

import pytest

from support.stores import StoreFactory
from travelgate.store import Store, Tx


class Heard:
    """A listener that records what it was told, from whichever thread tells it."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.told: list[frozenset[str] | None] = []
        self.news = asyncio.Event()

    def __call__(self, subjects: Collection[str] | None) -> None:
        told = None if subjects is None else frozenset(subjects)
        self.loop.call_soon_threadsafe(self._note, told)

    def _note(self, told: frozenset[str] | None) -> None:
        self.told.append(told)
        self.news.set()

    async def next(self, seconds: float) -> frozenset[str] | None:
        await asyncio.wait_for(self.news.wait(), seconds)
        self.news.clear()
        return self.told[-1]


async def _settle(store: Store, heard: Heard) -> None:
    """Let a fresh listener's own start-up news (PostgreSQL: "listening") pass."""
    await asyncio.sleep(0.5)
    heard.told.clear()
    heard.news.clear()


def _change_hold_7(tx: Tx) -> None:
    tx.put_customer("c7", {"naturalPerson": {}}, [])
    tx.changed("hold-7")


async def test_a_change_is_told_after_commit_and_never_inside(stores: StoreFactory) -> None:
    db = await stores.open()
    heard = Heard()
    db.subscribe(heard)
    await _settle(db, heard)
    told_inside: list[int] = []

    def change(tx: Tx) -> None:
        tx.changed("hold-1")
        tx.put_customer("c1", {"naturalPerson": {}}, [])
        told_inside.append(len(heard.told))

    await db.write(change)
    assert await heard.next(1.0) == frozenset({"hold-1"})
    assert told_inside == [0]
    await db.close()


async def test_a_rolled_back_change_is_never_told(stores: StoreFactory) -> None:
    db = await stores.open()
    heard = Heard()
    db.subscribe(heard)
    await _settle(db, heard)

    def change_then_fail(tx: Tx) -> None:
        tx.changed("hold-1")
        raise LookupError("no")

    with pytest.raises(LookupError):
        await db.write(change_then_fail)
    with pytest.raises(TimeoutError):
        await heard.next(0.6)
    await db.close()


async def test_another_replica_hears_of_a_commit_within_a_second(stores: StoreFactory) -> None:
    """Two stores on one database, as two `serve` processes are: PostgreSQL tells the
    subject (LISTEN/NOTIFY); SQLite notices the file changed (a poll of data_version)."""
    writer, reader = await stores.open(), await stores.open()
    heard = Heard()
    reader.subscribe(heard)
    await _settle(reader, heard)
    started = time.monotonic()
    await writer.write(_change_hold_7)
    told = await heard.next(1.0)
    assert time.monotonic() - started < 1.0
    assert told == (frozenset({"hold-7"}) if stores.backend == "postgres" else None)
    await writer.close()
    await reader.close()
