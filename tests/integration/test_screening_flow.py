"""Screening in the flow: listed destinations and originators, and the provider, through the API.

Real nodes over mTLS, sanctions lists loaded from files at start, and the chain-analytics
provider as a real aiohttp server on loopback.
"""

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
from aiohttp import web

from support.api import Api, withdrawal
from support.nodes import ALICE, BOB, BOB_ADDRESS, Cluster, person, two_node_specs

SANCTIONED_ORIGIN = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
SECRET = "provider-s3cret"


@pytest.fixture
async def apis() -> AsyncIterator[list[Api]]:
    made: list[Api] = []
    yield made
    for api in made:
        await api.close()


class Provider:
    """A chain-analytics provider: answers `risk`, or sleeps past the timeout."""

    def __init__(self, risk: str = "low", *, delay: float = 0.0) -> None:
        self.risk = risk
        self.delay = delay
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((dict(request.headers), body))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response({"risk": self.risk, "categories": ["sanctions"]})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/screen", self.handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/screen"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def _list_file(tmp_path: Path, address: str, name: str = "INTERNAL") -> Path:
    path = tmp_path / f"{name.lower()}.csv"
    path.write_text(f"address,asset,list,reference\n{address},BTC,{name},case 2026-117\n")
    return path


async def _start(
    cluster: Cluster,
    apis: list[Api],
    *,
    alice_screening: dict[str, Any] | None = None,
    bob_screening: dict[str, Any] | None = None,
    bob_robot: str | None = "sync-accept",
) -> Api:
    alice, bob = two_node_specs(bob_robot=bob_robot)
    if alice_screening:
        alice = dataclasses.replace(alice, extra={"screening": alice_screening})
    if bob_screening:
        bob = dataclasses.replace(bob, extra={"screening": bob_screening})
    await cluster.start(alice, bob)
    api = await Api.connect(cluster.nodes[ALICE])
    apis.append(api)
    return api


async def _transfers_sent(cluster: Cluster) -> int:
    items = await cluster.nodes[ALICE].gateway.db.read(lambda tx: tx.outbox_items())
    return len([item for item in items if item.kind == "transfer"])


async def _count(cluster: Cluster, name: str, table: str) -> int:
    return await cluster.nodes[name].gateway.db.read(lambda tx: tx.count(table))


async def test_a_listed_destination_is_rejected_and_nothing_is_sent(
    cluster: Cluster, apis: list[Api], tmp_path: Path
) -> None:
    listed = _list_file(tmp_path, BOB_ADDRESS)
    api = await _start(cluster, apis, alice_screening={"lists": [str(listed)]})
    status, hold = await api.create(withdrawal())
    assert status == 201, hold
    assert hold["state"] == "rejected"
    decision = hold["decision"]
    assert decision["code"] == "SCREENING.LISTED"
    assert decision["rule"] == "screening:INTERNAL"
    assert "INTERNAL" in decision["reason"]
    assert "case 2026-117" in decision["reason"]
    assert hold["screening"]["listed"] is True
    assert hold["screening"]["hits"][0]["reference"] == "case 2026-117"
    await asyncio.sleep(0.5)
    assert await _transfers_sent(cluster) == 0
    assert await _count(cluster, BOB, "conversations") == 0


async def test_on_hit_review_sends_a_listed_destination_to_a_person(
    cluster: Cluster, apis: list[Api], tmp_path: Path
) -> None:
    listed = _list_file(tmp_path, BOB_ADDRESS)
    api = await _start(cluster, apis, alice_screening={"lists": [str(listed)], "on_hit": "review"})
    _status, hold = await api.create(withdrawal())
    assert (hold["state"], hold["decision"]["code"]) == ("review", "SCREENING.LISTED"), hold
    status, page = await api.call("GET", "/v1/reviews?state=open")
    assert status == 200
    [review] = [item for item in page["items"] if item["subject_id"] == hold["id"]]
    assert review["rule"] == "screening:INTERNAL"
    assert await _transfers_sent(cluster) == 0


async def test_an_unlisted_destination_goes_ahead(
    cluster: Cluster, apis: list[Api], tmp_path: Path
) -> None:
    listed = _list_file(tmp_path, SANCTIONED_ORIGIN)
    api = await _start(cluster, apis, alice_screening={"lists": [str(listed)]})
    _status, hold = await api.create(withdrawal())
    assert hold["screening"]["listed"] is False
    cleared = await api.wait_state(hold["id"], "cleared")
    assert cleared["decision"]["code"] == "REPLY.ACCEPTED"


async def test_a_provider_answering_severe_rejects_before_anything_is_sent(
    cluster: Cluster, apis: list[Api], tmp_path: Path
) -> None:
    provider = Provider("severe")
    await provider.start()
    try:
        secret = tmp_path / "provider.secret"
        secret.write_text(SECRET)
        api = await _start(
            cluster,
            apis,
            alice_screening={"provider_url": provider.url, "provider_secret_file": str(secret)},
        )
        _status, hold = await api.create(withdrawal())
        assert hold["state"] == "rejected", hold
        assert hold["decision"]["code"] == "SCREENING.PROVIDER_RISK"
        assert hold["screening"]["provider"] == {"risk": "severe", "categories": ["sanctions"]}
        assert await _transfers_sent(cluster) == 0
        [(headers, body)] = provider.requests
        assert json.loads(body) == {
            "address": BOB_ADDRESS,
            "asset": "BTC",
            "network": "bitcoin",
            "direction": "outbound",
        }
        stamp, mac = (part.split("=", 1)[1] for part in headers["Travelgate-Signature"].split(","))
        expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
        assert mac == expected.hexdigest()
    finally:
        await provider.stop()


async def test_a_provider_timing_out_sends_the_withdrawal_to_review(
    cluster: Cluster, apis: list[Api], tmp_path: Path
) -> None:
    provider = Provider("low", delay=3.0)
    await provider.start()
    try:
        secret = tmp_path / "provider.secret"
        secret.write_text(SECRET)
        api = await _start(
            cluster,
            apis,
            alice_screening={
                "provider_url": provider.url,
                "provider_secret_file": str(secret),
                "provider_timeout": "0.3",
            },
        )
        _status, hold = await api.create(withdrawal())
        assert hold["state"] == "review", hold
        assert hold["decision"]["code"] == "SCREENING.PROVIDER_FAILED"
        assert "0.3s" in hold["decision"]["reason"]
        assert await _transfers_sent(cluster) == 0
    finally:
        await provider.stop()


async def test_fail_open_lets_a_provider_failure_through(
    cluster: Cluster, apis: list[Api], tmp_path: Path
) -> None:
    secret = tmp_path / "provider.secret"
    secret.write_text(SECRET)
    api = await _start(
        cluster,
        apis,
        alice_screening={
            "provider_url": "http://127.0.0.1:9/screen",  # nothing listens there
            "provider_secret_file": str(secret),
            "fail_open": True,
        },
    )
    _status, hold = await api.create(withdrawal())
    assert hold["screening"]["provider"]["failure"] == "unreachable"
    assert (await api.wait_state(hold["id"], "cleared"))["state"] == "cleared"


async def test_a_listed_originator_sends_the_deposit_to_review_and_the_sender_waits(
    cluster: Cluster, apis: list[Api], tmp_path: Path
) -> None:
    listed = _list_file(tmp_path, SANCTIONED_ORIGIN, "OFAC-SDN")
    api = await _start(cluster, apis, bob_screening={"lists": [str(listed)]}, bob_robot=None)
    # The IVMS101 account number, written in upper case: EVM addresses compare case-blind.
    account = "0x" + SANCTIONED_ORIGIN[2:].upper()
    body = withdrawal(originator={"person": person("Smith", "Alice"), "account": account})
    status, hold = await api.create(body)
    assert status == 201, hold
    waiting = await api.wait_state(hold["id"], "awaiting_reply")
    bob = await Api.connect(cluster.nodes[BOB])
    apis.append(bob)
    for _ in range(50):
        status, page = await bob.call("GET", "/v1/deposits")
        if page["items"]:
            break
        await asyncio.sleep(0.1)
    [deposit] = page["items"]
    assert deposit["state"] == "pending"
    assert deposit["decision"]["code"] == "SCREENING.LISTED"
    assert deposit["decision"]["rule"] == "screening:OFAC-SDN"
    status, reviews = await bob.call("GET", "/v1/reviews?state=open")
    assert [r["kind"] for r in reviews["items"]] == ["deposit"]
    status, alerts = await bob.call("GET", "/v1/alerts?type=alert.screening_hit")
    assert status == 200
    [alert] = alerts["items"]
    assert alert["subject"] == f"deposit:{deposit['id']}"
    assert alert["detail"]["direction"] == "inbound"
    # The sender was told only that the transfer is under review.
    assert waiting["decision"]["code"] in ("EXCHANGE.DELIVERED", "REPLY.PENDING")
    final = await api.wait_state(hold["id"], "awaiting_reply")
    assert "OFAC" not in json.dumps(final)
