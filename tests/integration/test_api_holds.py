"""Withdrawal holds end to end: HTTP API -> policy -> outbox -> TRISA robot -> hold state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from support.api import Api, withdrawal
from support.nodes import ALICE, BOB, Cluster, two_node_specs
from support.stores import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS


@pytest.fixture
async def api_for(cluster: Cluster) -> AsyncIterator[list[Api]]:
    made: list[Api] = []
    yield made
    for api in made:
        await api.close()


async def _start(cluster: Cluster, apis: list[Api], robot: str) -> Api:
    await cluster.start(*two_node_specs(bob_robot=robot))
    api = await Api.connect(cluster.nodes[ALICE])
    apis.append(api)
    return api


async def _bob_states(cluster: Cluster) -> list[tuple[object, ...]]:
    return await cluster.nodes[BOB].gateway.db.read(
        lambda tx: [(c.peer, c.state) for c in tx.conversations()]
    )


async def test_sync_accept_clears_then_broadcast_completes(
    cluster: Cluster, api_for: list[Api]
) -> None:
    api = await _start(cluster, api_for, "sync-accept")
    status, hold = await api.create(withdrawal())
    assert status == 201, hold
    assert hold["state"] == "held"
    assert set(hold) >= {
        "id",
        "state",
        "created_at",
        "updated_at",
        "envelope_id",
        "counterparty",
        "decision",
    }
    assert hold["counterparty"] == {"kind": "vasp", "name": BOB, "protocol": "trisa"}
    assert hold["envelope_id"]
    cleared = await api.wait_state(hold["id"], "cleared")
    assert cleared["decision"]["rule"] == "reply:accepted"
    status, released = await api.call(
        "POST", f"/v1/withdrawals/{hold['id']}/broadcast", {"txid": "0xbeef"}
    )
    assert status == 200, released
    assert released["state"] == "released"
    assert released["txid"] == "0xbeef"
    async with asyncio.timeout(10):
        while await _bob_states(cluster) != [(ALICE, "COMPLETED")]:
            await asyncio.sleep(0.05)


async def test_async_accept_waits_then_clears(cluster: Cluster, api_for: list[Api]) -> None:
    api = await _start(cluster, api_for, "async-accept")
    _status, hold = await api.create(withdrawal())
    waiting = await api.wait_state(hold["id"], "awaiting_reply")
    assert waiting["deadline"] is not None  # the reply window runs while bob reviews
    cleared = await api.wait_state(hold["id"], "cleared")
    assert cleared["deadline"] is None


@pytest.mark.parametrize(
    ("robot", "changes", "final", "reason"),
    [
        ("repair", {}, "review", "INCOMPLETE_IDENTITY"),
        ("reject", {}, "rejected", "COMPLIANCE_CHECK_FAIL"),
        (
            "sync-accept",
            {"destination": {"address": "bc1qnobody", "tag": None}},
            "rejected",
            "UNKNOWN_WALLET_ADDRESS",
        ),
    ],
    ids=["repair", "reject", "unknown-beneficiary"],
)
async def test_refusals_end_where_they_should(
    cluster: Cluster,
    api_for: list[Api],
    robot: str,
    changes: dict[str, object],
    final: str,
    reason: str,
) -> None:
    api = await _start(cluster, api_for, robot)
    _status, hold = await api.create(withdrawal(**changes))
    done = await api.wait_state(hold["id"], final)
    assert reason in done["decision"]["reason"]
    status, error = await api.call("POST", f"/v1/withdrawals/{hold['id']}/broadcast", {"txid": "x"})
    assert status == 409
    assert error["error"]["code"] == "illegal_state"


async def test_review_queue_decides_a_repair(cluster: Cluster, api_for: list[Api]) -> None:
    api = await _start(cluster, api_for, "repair")
    _status, hold = await api.create(withdrawal())
    await api.wait_state(hold["id"], "review")
    status, page = await api.call("GET", "/v1/reviews?state=open")
    assert status == 200
    [review] = [r for r in page["items"] if r["subject_id"] == hold["id"]]
    reviewer = await Api.connect(cluster.nodes[ALICE])  # four eyes: another person's key
    api_for.append(reviewer)
    status, decided = await reviewer.call(
        "POST",
        f"/v1/reviews/{review['id']}/decision",
        {"decision": "accept", "reason": "data checked by phone"},
    )
    assert status == 200, decided
    assert decided["state"] == "accepted"
    # Accepting resends the data as REVIEW; the repair robot accepts a repaired payload.
    cleared = await api.wait_state(hold["id"], "cleared")
    assert cleared["decision"]["rule"] == "reply:accepted"


async def test_cancel_tells_the_counterparty(cluster: Cluster, api_for: list[Api]) -> None:
    api = await _start(cluster, api_for, "sync-accept")
    _status, hold = await api.create(withdrawal())
    await api.wait_state(hold["id"], "cleared")
    status, canceled = await api.call("POST", f"/v1/withdrawals/{hold['id']}/cancel")
    assert status == 200
    assert canceled["state"] == "canceled"
    async with asyncio.timeout(10):
        while await _bob_states(cluster) != [(ALICE, "CANCELED")]:
            await asyncio.sleep(0.05)


async def test_same_request_fifty_times_concurrently_is_one_hold_and_one_envelope(
    cluster: Cluster, api_for: list[Api]
) -> None:
    api = await _start(cluster, api_for, "sync-accept")
    body = withdrawal()
    results = await asyncio.gather(*(api.create(body, key="same-key") for _ in range(50)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 49 + [201]
    assert len({hold["id"] for _, hold in results}) == 1
    hold_id = results[0][1]["id"]
    await api.wait_state(hold_id, "cleared")
    holds = await cluster.nodes[ALICE].gateway.db.read(lambda tx: tx.count("holds"))
    bob_inbound = await cluster.nodes[BOB].gateway.db.read(
        lambda tx: len(tx.envelopes(direction="in"))
    )
    assert (holds, bob_inbound) == (1, 1)
    status, conflict = await api.create(withdrawal(amount="0.6"), key="same-key")
    assert status == 409
    assert conflict["error"]["code"] == "idempotency_conflict"


async def test_list_pages_with_cursors(cluster: Cluster, api_for: list[Api]) -> None:
    api = await _start(cluster, api_for, "reject")
    ids = []
    for _ in range(5):
        _status, hold = await api.create(withdrawal())
        ids.append(hold["id"])
    seen: list[str] = []
    cursor = ""
    while True:
        status, page = await api.call(
            "GET", f"/v1/withdrawals?limit=2{'&cursor=' + cursor if cursor else ''}"
        )
        assert status == 200
        seen.extend(item["id"] for item in page["items"])
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == list(reversed(ids))
    for hold_id in ids:
        await api.wait_state(hold_id, "rejected")
    status, rejected = await api.call("GET", "/v1/withdrawals?state=rejected&limit=500")
    assert status == 200
    assert len(rejected["items"]) == 5
