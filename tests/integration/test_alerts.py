"""Security alerts, each raised by its real cause on real nodes, stored once per occurrence,
listed by the API, delivered as signed webhooks and counted in Prometheus."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from prometheus_client import REGISTRY

from support.api import Api, withdrawal
from support.backoffice import BackOffice
from support.nodes import (
    ALICE,
    BOB,
    BOB_ADDRESS,
    KEY_SIZE,
    Cluster,
    NodeSpec,
    TestPki,
    person,
    two_node_specs,
)
from support.stores import BOTH_BACKENDS
from travelgate import pki
from travelgate._pb.trisa.api.v1beta1 import api_pb2, api_pb2_grpc

pytestmark = BOTH_BACKENDS

SECRET = "alert-s3cret"


@pytest.fixture
async def apis() -> AsyncIterator[list[Api]]:
    made: list[Api] = []
    yield made
    for api in made:
        await api.close()


@pytest.fixture
async def office() -> AsyncIterator[BackOffice]:
    server = BackOffice()
    await server.start()
    yield server
    await server.stop()


def _alerting(tmp_path: Path, office: BackOffice, **alerts: Any) -> dict[str, Any]:
    secret = tmp_path / "webhook.secret"
    secret.write_text(SECRET)
    return {
        "webhooks": {"secret_file": str(secret)},
        "alerts": {"url": office.url, "check_interval": "0.2", **alerts},
        "outbox": {"base_delay": "0.05", "expiry_interval": "0.1"},
    }


async def _alerts(api: Api, kind: str | None = None, *, wait: float = 10) -> list[dict[str, Any]]:
    """The node's alerts (of one type), waiting up to `wait` seconds for one to appear."""
    path = "/v1/alerts" + (f"?type={kind}" if kind else "")
    async with asyncio.timeout(wait):
        while True:
            status, page = await api.call("GET", path)
            assert status == 200, page
            if page["items"]:
                return list(page["items"])
            await asyncio.sleep(0.1)


def _counted(kind: str) -> float:
    return REGISTRY.get_sample_value("travelgate_alerts_total", {"type": kind}) or 0.0


async def _delivered(office: BackOffice, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            for headers, body in office.received:
                event = json.loads(body)
                if event["type"] == kind:
                    stamp, mac = (
                        part.split("=", 1)[1] for part in headers["Travelgate-Signature"].split(",")
                    )
                    expected = hmac.new(
                        SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256
                    )
                    assert mac == expected.hexdigest()
                    return dict(event)
            await asyncio.sleep(0.1)


async def test_a_screening_hit_is_an_alert_delivered_signed_and_counted(
    cluster: Cluster, apis: list[Api], office: BackOffice, tmp_path: Path
) -> None:
    listed = tmp_path / "internal.csv"
    listed.write_text(f"{BOB_ADDRESS},BTC,INTERNAL,case 9\n")
    alice, bob = two_node_specs()
    extra = _alerting(tmp_path, office)
    extra["screening"] = {"lists": [str(listed)]}
    await cluster.start(dataclasses.replace(alice, extra=extra), bob)
    api = await Api.connect(cluster.nodes[ALICE])
    apis.append(api)
    before = _counted("alert.screening_hit")
    _status, hold = await api.create(withdrawal())
    [alert] = await _alerts(api, "alert.screening_hit")
    assert alert["severity"] == "critical"
    assert alert["subject"] == f"hold:{hold['id']}"
    assert alert["detail"]["list"] == "INTERNAL"
    assert alert["created_at"]
    assert _counted("alert.screening_hit") == before + 1
    event = await _delivered(office, "alert.screening_hit")
    assert event["data"]["subject"] == f"hold:{hold['id']}"


async def test_a_review_older_than_review_age_raises_one_backlog_alert(
    cluster: Cluster, apis: list[Api], office: BackOffice, tmp_path: Path
) -> None:
    alice, bob = two_node_specs()
    extra = _alerting(tmp_path, office, review_age="1s")
    await cluster.start(dataclasses.replace(alice, extra=extra), bob)
    api = await Api.connect(cluster.nodes[ALICE])
    apis.append(api)
    _status, hold = await api.create(
        withdrawal(beneficiary_vasp=None, destination={"address": "bc1qunknown0000", "tag": None})
    )
    assert hold["state"] == "review"
    alerts = await _alerts(api, "alert.review_backlog")
    await asyncio.sleep(0.6)  # several more checks: still one alert for this review
    _status, page = await api.call("GET", "/v1/alerts?type=alert.review_backlog")
    assert len(page["items"]) == 1
    assert alerts[0]["subject"].startswith("review:")
    await _delivered(office, "alert.review_backlog")


async def test_failing_webhooks_raise_webhook_failing_then_dead_letter(
    cluster: Cluster, apis: list[Api], office: BackOffice, tmp_path: Path
) -> None:
    failing = BackOffice(failures=1000)
    await failing.start()
    try:
        alice, bob = two_node_specs()
        extra = _alerting(tmp_path, office, webhook_failures="3")
        extra["alerts"]["webhook_failures"] = 3
        extra["webhooks"]["url"] = failing.url
        extra["outbox"]["webhook_max_attempts"] = 4
        extra["outbox"]["max_delay"] = "0.1"
        await cluster.start(dataclasses.replace(alice, extra=extra), bob)
        api = await Api.connect(cluster.nodes[ALICE])
        apis.append(api)
        await api.create(withdrawal())
        [failing_alert] = await _alerts(api, "alert.webhook_failing", wait=20)
        assert failing_alert["detail"]["target"] == failing.url
        assert failing_alert["detail"]["consecutive_failures"] == 3
        dead = await _alerts(api, "alert.dead_letter", wait=20)
        assert dead[0]["detail"]["target"] == failing.url
        assert dead[0]["detail"]["kind"] == "webhook"
        await _delivered(office, "alert.dead_letter")
        await _delivered(office, "alert.webhook_failing")
    finally:
        await failing.stop()


async def test_a_known_peer_presenting_a_new_key_raises_one_alert(
    cluster: Cluster, apis: list[Api], test_pki: TestPki, office: BackOffice, tmp_path: Path
) -> None:
    alice, bob = two_node_specs()
    await cluster.start(alice, dataclasses.replace(bob, extra=_alerting(tmp_path, office)))
    api = await Api.connect(cluster.nodes[BOB])
    apis.append(api)
    impostor = test_pki.identity(ALICE, valid_days=91)  # same CA and name, another key
    for _ in range(2):
        channel = cluster.channel(BOB, impostor)
        try:
            with pytest.raises(grpc.aio.AioRpcError):
                await api_pb2_grpc.TRISAHealthStub(channel).Status(api_pb2.HealthCheck(), timeout=5)
        finally:
            await channel.close()
    [alert] = await _alerts(api, "alert.peer_key_changed")
    assert alert["subject"] == f"peer:{ALICE}"
    assert alert["severity"] == "critical"
    assert alert["detail"]["action"] == "refused"
    await asyncio.sleep(0.3)
    _status, page = await api.call("GET", "/v1/alerts?type=alert.peer_key_changed")
    assert len(page["items"]) == 1  # the same key again is the same occurrence


async def test_a_certificate_ending_within_30_days_is_announced_at_start(
    cluster: Cluster, apis: list[Api], test_pki: TestPki, office: BackOffice, tmp_path: Path
) -> None:
    name = "erin.example"
    ends = datetime.now(UTC) + timedelta(days=20)
    test_pki._identities[name] = pki.issue_identity(
        test_pki.ca, name, key_size=KEY_SIZE, not_after=ends
    )
    spec = NodeSpec(
        name,
        "Erin VASP Ltd",
        [{"id": "erin-1", "addresses": ["bc1qerin"], "person": person("Erin", "E")}],
        extra=_alerting(tmp_path, office),
    )
    await cluster.start(spec)
    api = await Api.connect(cluster.nodes[name])
    apis.append(api)
    alerts = await _alerts(api, "alert.certificate_expiring")
    async with asyncio.timeout(10):  # the peers are checked just after our own certificate
        while f"peer:{name}" not in {alert["subject"] for alert in alerts}:
            await asyncio.sleep(0.1)
            alerts = await _alerts(api, "alert.certificate_expiring")
    ours = [alert for alert in alerts if alert["subject"] == "node:tls"]
    assert len(ours) == 1
    assert ours[0]["severity"] == "warning"
    assert ours[0]["detail"]["mark_days"] == 30
    assert ours[0]["detail"]["days_left"] in (19, 20)
    # The peers' certificates are checked too (the directory names this node's own).
    assert f"peer:{name}" in {alert["subject"] for alert in alerts}
    # A restart checks again: the same certificate at the same mark is no new alert.
    restarted = await Api.connect(await cluster.restart(name))
    apis.append(restarted)
    await asyncio.sleep(0.5)
    _status, page = await restarted.call("GET", "/v1/alerts?type=alert.certificate_expiring")
    assert len([a for a in page["items"] if a["subject"] == "node:tls"]) == 1


async def test_alerts_are_paged_and_filtered(cluster: Cluster, apis: list[Api]) -> None:
    await cluster.start(*two_node_specs())
    api = await Api.connect(cluster.nodes[ALICE])
    apis.append(api)
    alerts = cluster.nodes[ALICE].gateway.alerts
    assert alerts is not None
    for index in range(3):
        await alerts.raise_now(
            "alert.dead_letter", severity="warning", subject=f"outbox:{index}", key=str(index)
        )
    status, first = await api.call("GET", "/v1/alerts?limit=2")
    assert status == 200
    assert [a["subject"] for a in first["items"]] == ["outbox:2", "outbox:1"]
    status, second = await api.call("GET", f"/v1/alerts?limit=2&cursor={first['next_cursor']}")
    assert [a["subject"] for a in second["items"]] == ["outbox:0"]
    status, body = await api.call("GET", "/v1/alerts?type=alert.nothing")
    assert (status, body["error"]["field"]) == (400, "type")
