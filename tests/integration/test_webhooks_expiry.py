"""Signed webhooks to a real back-office server, retried with the same event id; expiry."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from support.api import Api, withdrawal
from support.backoffice import BackOffice
from support.nodes import ALICE, Cluster, two_node_specs


@pytest.fixture
async def back_office() -> AsyncIterator[BackOffice]:
    office = BackOffice(failures=2)
    await office.start()
    yield office
    await office.stop()


def _with_webhooks(tmp_path: Path, url: str, **policy: Any) -> dict[str, Any]:
    secret = tmp_path / "webhook.secret"
    secret.write_text("  s3cret-for-tests \n")
    extra: dict[str, Any] = {
        "webhooks": {"url": url, "secret_file": str(secret)},
        "outbox": {"base_delay": "0.05", "expiry_interval": "0.1"},
    }
    if policy:
        extra["policy"] = policy
    return extra


async def test_every_state_change_is_a_signed_webhook_retried_with_its_event_id(
    cluster: Cluster, back_office: BackOffice, tmp_path: Path
) -> None:
    alice, bob = two_node_specs(bob_robot="sync-accept")
    alice = dataclasses.replace(alice, extra=_with_webhooks(tmp_path, back_office.url))
    await cluster.start(alice, bob)
    api = await Api.connect(cluster.nodes[ALICE])
    try:
        _status, hold = await api.create(withdrawal())
        await api.wait_state(hold["id"], "cleared")
        await api.call("POST", f"/v1/withdrawals/{hold['id']}/broadcast", {"txid": "0x1"})
        await back_office.wait_for("withdrawal.released")
    finally:
        await api.close()
    kinds = [e["type"] for e in back_office.events()]
    for kind in (
        "withdrawal.held",
        "withdrawal.awaiting_reply",
        "withdrawal.cleared",
        "withdrawal.released",
    ):
        assert kind in kinds
    for headers, body in back_office.received:
        event = json.loads(body)
        assert set(event) == {"event_id", "type", "created_at", "data"}
        assert headers["Travelgate-Event-Id"] == event["event_id"]
        stamp, _, mac = headers["Travelgate-Signature"].partition(",v1=")
        assert stamp.startswith("t=")
        expected = hmac.new(b"s3cret-for-tests", f"{stamp[2:]}.".encode() + body, hashlib.sha256)
        assert hmac.compare_digest(mac, expected.hexdigest())
        assert event["data"]["id"] == hold["id"]
        # Each event was refused twice first: three attempts, one event id.
        assert back_office.attempts[event["event_id"]] == 3
    cleared = next(e for e in back_office.events() if e["type"] == "withdrawal.cleared")
    assert cleared["data"]["state"] == "cleared"


@pytest.mark.parametrize(("outcome", "final"), [("REVIEW", "review"), ("EXPIRE", "expired")])
async def test_unanswered_exchange_times_out_by_profile(
    cluster: Cluster, back_office: BackOffice, tmp_path: Path, outcome: str, final: str
) -> None:
    alice, bob = two_node_specs(bob_robot="async-accept")
    bob = dataclasses.replace(bob, delay=3600)  # answers PENDING, never calls back
    policy = {
        "counterparty": {"bob.example": {"reply_timeout": "1s", "max_wait": "2s"}},
        "profile": {"FATF-R16": {"timeout_outbound": outcome}},
    }
    alice = dataclasses.replace(alice, extra=_with_webhooks(tmp_path, back_office.url, **policy))
    await cluster.start(alice, bob)
    api = await Api.connect(cluster.nodes[ALICE])
    try:
        _status, hold = await api.create(withdrawal())
        waiting = await api.wait_state(hold["id"], "awaiting_reply")
        assert waiting["deadline"] is not None
        done = await api.wait_state(hold["id"], final, seconds=20)
    finally:
        await api.close()
    assert done["decision"]["rule"] == "timeout"
    assert done["decision"]["reason"] == "POLICY.REPLY_TIMEOUT"
    assert done["decision"]["code"] == "TIMEOUT"
    event = await back_office.wait_for(f"withdrawal.{final}")
    assert event["data"]["state"] == final
    if final == "expired":  # the counterparty is told the window closed (198, retry=false)
        bob_node = cluster.nodes["bob.example"]

        async def bob_state() -> list[tuple[object, ...]]:
            return await bob_node.gateway.db.read(
                lambda tx: [(c.state,) for c in tx.conversations()]
            )

        async with asyncio.timeout(10):
            while await bob_state() != [("CANCELED",)]:
                await asyncio.sleep(0.05)


async def test_a_redirect_is_a_failed_delivery_and_is_never_followed(
    cluster: Cluster, tmp_path: Path
) -> None:
    office = BackOffice(failures=1, redirect=True)
    await office.start()
    try:
        alice, bob = two_node_specs(bob_robot="sync-accept")
        alice = dataclasses.replace(alice, extra=_with_webhooks(tmp_path, office.url))
        await cluster.start(alice, bob)
        api = await Api.connect(cluster.nodes[ALICE])
        try:
            _status, hold = await api.create(withdrawal())
            await api.wait_state(hold["id"], "cleared")
            await office.wait_for("withdrawal.cleared")
        finally:
            await api.close()
    finally:
        await office.stop()
    assert office.redirected == []
    for event in office.events():
        # The 307 counted as a failure: the event came again to the configured URL.
        assert office.attempts[event["event_id"]] == 2
