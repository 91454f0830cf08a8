"""The store's operations for several processes on one database, on a real SQLite file
opened twice (two connections, as two `travelgate serve` processes have): outbox claims
and leases, sealing once, Idempotency-Key claims, one open review, optimistic moves."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from support.stores import StoreFactory, beside
from travelgate.errors import WriteConflictError
from travelgate.store import Hold, Sealer, SqliteStore, Store, Tx
from travelgate.store._schema import MIGRATIONS
from travelgate.store.sqlite._database import _statements

EARLY = "2026-01-01T00:00:00.000000Z"
NOW = "2026-01-01T00:00:10.000000Z"
LEASE = "2026-01-01T00:00:40.000000Z"
LATER = "2026-01-01T00:01:00.000000Z"


@pytest.fixture
async def pair(stores: StoreFactory) -> tuple[Store, Store]:
    """Two processes' views of one database (a SQLite file, or a PostgreSQL database)."""
    first = await stores.open("shared")
    second = await stores.open("shared")
    return first, second


def _webhook(tx: Tx) -> int:
    return tx.enqueue(
        kind="webhook", target="https://back.office/hook", body_kind="json", body=b"{}", stamp=EARLY
    )


def _hold(tx: Tx, hold_id: str, key: str, api_key: str = "k1") -> None:
    tx.insert_hold(
        stamp=EARLY,
        request={"asset": "BTC"},
        id=hold_id,
        api_key_id=api_key,
        idempotency_key=key,
        request_hash="h",
        state="held",
        asset="BTC",
        network="bitcoin",
        amount="1",
        destination="bc1q",
    )


async def test_a_row_is_claimed_by_one_process_until_its_lease_runs_out(
    pair: tuple[Store, Store],
) -> None:
    first, second = pair
    row = await first.write(_webhook)

    def claim(owner: str, now: str, until: str = LEASE) -> Callable[[Tx], list[int]]:
        return lambda tx: [
            item.id for item in tx.claim_outbox(owner, now=now, lease_until=until, limit=10)
        ]

    assert await first.write(claim("one", NOW)) == [row]
    assert await second.write(claim("two", NOW)) == []  # taken while the lease runs
    assert await first.write(claim("one", NOW)) == []  # and not twice by its owner either
    # "one" died: once its lease is over, "two" takes the row, and "one" cannot renew it.
    assert await second.write(claim("two", LATER, "2026-01-01T00:02:00.000000Z")) == [row]
    assert (
        await first.write(lambda tx: tx.renew_outbox_claims("one", [row], lease_until=LATER)) == 0
    )
    assert (
        await second.write(lambda tx: tx.renew_outbox_claims("two", [row], lease_until=LATER)) == 1
    )
    # Delivered: the claim is gone with it, and a late failure of "one" changes nothing.
    await second.write(lambda tx: tx.outbox_done(row, stamp=LATER))
    failed = await first.write(
        lambda tx: tx.outbox_failed(row, stamp=LATER, error="late", retry_at=None)
    )
    assert failed is False
    item = await first.read(lambda tx: tx.outbox_item(row))
    assert item is not None
    assert (item.state, item.last_error) == ("delivered", None)


async def test_a_clean_shutdown_gives_its_claims_back(pair: tuple[Store, Store]) -> None:
    first, second = pair
    row = await first.write(_webhook)
    await first.write(lambda tx: tx.claim_outbox("one", now=NOW, lease_until=LEASE, limit=1))
    assert await first.write(lambda tx: tx.release_outbox_claims("one")) == 1
    taken = await second.write(
        lambda tx: tx.claim_outbox("two", now=NOW, lease_until=LEASE, limit=1)
    )
    assert [item.id for item in taken] == [row]


async def test_an_envelope_is_recorded_as_sealed_once(pair: tuple[Store, Store]) -> None:
    first, second = pair
    row = await first.write(_webhook)
    assert await first.write(lambda tx: tx.outbox_sealed_once(row, 7)) is True
    assert await second.write(lambda tx: tx.outbox_sealed_once(row, 8)) is False
    item = await second.read(lambda tx: tx.outbox_item(row))
    assert item is not None
    assert item.request_id == 7


async def test_an_idempotency_key_is_claimed_by_one_hold(pair: tuple[Store, Store]) -> None:
    first, second = pair

    def hold_with(hold_id: str, api_key: str) -> Callable[[Tx], str]:
        def write(tx: Tx) -> str:
            if not tx.claim_idempotency_key("same-key", hold_id, stamp=EARLY):
                winner = tx.hold_of_idempotency_key("same-key")
                assert winner is not None
                return winner.id
            _hold(tx, hold_id, "same-key", api_key)
            return hold_id

        return write

    assert await first.write(hold_with("h1", "k1")) == "h1"
    assert await second.write(hold_with("h2", "k2")) == "h1"
    assert await second.read(lambda tx: tx.count("holds")) == 1


async def test_a_claimed_key_goes_with_its_purged_hold(pair: tuple[Store, Store]) -> None:
    first, _second = pair

    def write(tx: Tx) -> None:
        assert tx.claim_idempotency_key("k", "h1", stamp=EARLY)
        _hold(tx, "h1", "k")

    await first.write(write)
    beside(first.where, "UPDATE holds SET state = 'released', updated_at = ?", (EARLY,))
    await first.write(lambda tx: tx.purge("2026-06-01T00:00:00Z"))
    assert await first.read(lambda tx: tx.count("idempotency_keys")) == 0


async def test_a_subject_has_one_open_review(pair: tuple[Store, Store]) -> None:
    first, second = pair

    def open_review(review_id: str) -> Callable[[Tx], str]:
        return lambda tx: tx.open_review(
            review_id, kind="withdrawal", subject_id="h1", rule="r", reason="why", stamp=NOW
        )

    assert await first.write(open_review("r1")) == "r1"
    assert await second.write(open_review("r2")) == "r1"
    await first.write(lambda tx: tx.close_review("r1", state="accepted", reason="ok", stamp=NOW))
    assert await second.write(open_review("r3")) == "r3"
    # A decision on a review another process decided first is a conflict, never a second one.
    with pytest.raises(WriteConflictError):
        await second.write(
            lambda tx: tx.close_review("r1", state="rejected", reason="late", stamp=NOW)
        )


async def test_a_move_on_a_stale_hold_runs_again_on_the_fresh_one(
    pair: tuple[Store, Store],
) -> None:
    first, second = pair
    await first.write(lambda tx: _hold(tx, "h1", "k"))
    stale = await first.read(lambda tx: tx.hold("h1"))
    assert stale is not None
    # Another process moves the hold after we read it.
    await second.write(lambda tx: tx.update_hold("h1", stamp=NOW, state="awaiting_reply"))
    attempts: list[Hold] = []

    def move(tx: Tx) -> str:
        seen = stale if not attempts else tx.hold("h1")
        assert seen is not None
        attempts.append(seen)
        tx.update_hold("h1", stamp=NOW, expected_version=seen.version, state="cleared")
        return seen.state

    assert await first.write(move) == "awaiting_reply"
    assert [hold.version for hold in attempts] == [0, 1]
    with pytest.raises(WriteConflictError):
        await first.write(
            lambda tx: tx.update_hold("h1", stamp=NOW, expected_version=0, state="released")
        )


async def test_keys_of_an_older_database_keep_their_first_hold(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:12]:
        for statement in _statements(script):
            connection.execute(statement)
    connection.execute("PRAGMA user_version = 12")
    for hold_id, api_key, stamp in (("late", "k2", NOW), ("first", "k1", EARLY)):
        connection.execute(
            "INSERT INTO holds (id, api_key_id, idempotency_key, request_hash, request, state, "
            "asset, network, amount, destination, created_at, updated_at) "
            "VALUES (?, ?, 'old-key', 'h', x'00', 'released', 'BTC', 'bitcoin', '1', 'bc1q', ?, ?)",
            (hold_id, api_key, stamp, stamp),
        )
    connection.close()
    db = SqliteStore(path, Sealer(b"k" * 32))
    await db.open()
    try:
        claimed = beside(str(path), "SELECT idempotency_key, hold_id FROM idempotency_keys")
        assert [tuple(row) for row in claimed] == [("old-key", "first")]
    finally:
        await db.close()
