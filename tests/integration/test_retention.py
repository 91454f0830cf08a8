"""Retention: each withdrawal is purged after the retention of the profiles that decided it.

Two withdrawals of one node, one under FATF-R16 alone (5 years) and one that US-BSA also
covers (its retention configured to 7 years), both closed, are aged in the database and
purged by the node's own purge loop: the first goes at 6 years, the second only at 8.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import UTC, datetime, timedelta

from support.api import Api, withdrawal
from support.nodes import ALICE, Cluster, two_node_specs
from support.stores import beside
from travelgate.node import purge_loop
from travelgate.store import Store, Tx
from travelgate.timestamps import format_timestamp

POLICY = {"profiles": ["FATF-R16", "US-BSA"], "profile": {"US-BSA": {"retention": "7y"}}}


async def _closed_hold(api: Api, amount: str) -> dict[str, object]:
    _status, hold = await api.create(withdrawal(value={"amount": amount, "currency": "USD"}))
    await api.wait_state(hold["id"], "cleared", "review")  # US-BSA asks for more data
    status, canceled = await api.call("POST", f"/v1/withdrawals/{hold['id']}/cancel")
    assert status == 200, canceled
    return dict(canceled)


def _retention(tx: Tx, hold_id: str) -> object:
    hold = tx.hold(hold_id)
    assert hold is not None
    assert hold.decision is not None
    return hold.decision["retention"]


def _age(db: Store, years: int) -> None:
    """Every hold and conversation last changed `years` years of 366 days ago."""
    stamp = format_timestamp(datetime.now(UTC) - timedelta(days=366 * years))
    beside(db.where, "UPDATE holds SET updated_at = ?", (stamp,))
    beside(db.where, "UPDATE conversations SET updated_at = ?", (stamp,))


def _left(db: Store) -> tuple[set[str], list[str]]:
    """The holds left, and the hold of every conversation left."""
    holds = {row[0] for row in beside(db.where, "SELECT id FROM holds")}
    conversations = [row[0] for row in beside(db.where, "SELECT hold_id FROM conversations")]
    return holds, conversations


async def _purge_until(cluster: Cluster, expected: set[str]) -> tuple[set[str], list[str]]:
    """Run the node's purge loop (configured retention: 5 years) until `expected` is left."""
    db = cluster.nodes[ALICE].gateway.db
    task = asyncio.create_task(purge_loop(db, timedelta(days=5 * 366), interval=0.05))
    try:
        for _ in range(100):
            left = _left(db)
            if left[0] == expected:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return left


async def test_two_profiles_purge_their_withdrawals_at_different_times(cluster: Cluster) -> None:
    alice_spec, bob_spec = two_node_specs(bob_robot="sync-accept")
    alice_spec = dataclasses.replace(alice_spec, extra={"policy": POLICY})
    await cluster.start(alice_spec, bob_spec)
    api = await Api.connect(cluster.nodes[ALICE])
    try:
        fatf = await _closed_hold(api, "1500.00")  # under US-BSA's 3000 USD threshold
        both = await _closed_hold(api, "31000.00")
        db = cluster.nodes[ALICE].gateway.db
        # The decision of record says which retention applies.
        assert await db.read(lambda tx: _retention(tx, str(fatf["id"]))) == "1830d"
        assert await db.read(lambda tx: _retention(tx, str(both["id"]))) == "2562d"
        _holds, exchanged = _left(db)
        assert fatf["id"] in exchanged  # FATF-R16 alone: sent to Bob at once
        _age(db, 6)
        holds, conversations = await _purge_until(cluster, {str(both["id"])})
        assert holds == {both["id"]}
        # A withdrawal's exchange goes with it, and only with it.
        assert conversations == [c for c in exchanged if c == both["id"]]
        status, _gone = await api.call("GET", f"/v1/withdrawals/{fatf['id']}")
        assert status == 404
        status, kept = await api.call("GET", f"/v1/withdrawals/{both['id']}")
        assert status == 200, kept
        _age(db, 8)
        assert await _purge_until(cluster, set()) == (set(), [])
        trail = await db.read(lambda tx: tx.audit_of(f"hold:{both['id']}"))
        assert trail  # the audit trail still says the withdrawal existed
    finally:
        await api.close()
