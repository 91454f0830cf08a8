"""Pinned peers: a certificate from the trusted CA with a known name but another key.

Where the directory pins a peer (`cert` or `pin`), the TLS client certificate must carry
that public key: an impostor is refused on every RPC, nothing is stored and no key is
cached. Whenever a known name presents a new key, pinned or not, a security alert is
logged and counted (trisa.md 5.2).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import grpc
import pytest
import structlog
from prometheus_client import REGISTRY

from support.nodes import ALICE, BOB, Cluster, TestPki, two_node_specs
from support.payloads import transfer_payload
from travelgate import envelope as env
from travelgate import pki
from travelgate._pb.trisa.api.v1beta1 import api_pb2, api_pb2_grpc
from travelgate.store import Tx
from travelgate.trisa import format_pin, spki_digest


@pytest.fixture
async def started(cluster: Cluster) -> Cluster:
    await cluster.start(*two_node_specs())
    return cluster


def _alerts(peer: str, *, pinned: bool) -> float:
    labels = {"peer": peer, "pinned": "true" if pinned else "false"}
    return REGISTRY.get_sample_value("travelgate_peer_key_alerts_total", labels) or 0.0


def _impostor(test_pki: TestPki) -> pki.Identity:
    """Same CA, same name (CN and DNS SAN), another key."""
    return test_pki.identity(ALICE, valid_days=90)


async def _rows(cluster: Cluster, name: str) -> dict[str, int]:
    tables = ("envelopes", "conversations", "failed_envelopes")
    db = cluster.nodes[name].gateway.db
    return {table: await db.read(functools.partial(Tx.count, table=table)) for table in tables}


async def _call(cluster: Cluster, identity: pki.Identity, rpc: str, request: Any) -> Any:
    channel = cluster.channel(BOB, identity)
    try:
        if rpc == "Status":
            return await api_pb2_grpc.TRISAHealthStub(channel).Status(request, timeout=5)
        return await getattr(api_pb2_grpc.TRISANetworkStub(channel), rpc)(request, timeout=5)
    finally:
        await channel.close()


async def test_an_impostor_of_a_pinned_peer_is_refused_and_nothing_is_kept(
    started: Cluster, test_pki: TestPki
) -> None:
    impostor = _impostor(test_pki)
    bob = started.nodes[BOB].gateway
    sealed = env.seal(transfer_payload(), bob.credentials.sealing_key.public_key())
    before = _alerts(ALICE, pinned=True)
    requests = [
        ("Transfer", sealed),
        ("KeyExchange", env.signing_key_for(impostor.certificate)),
        ("Status", api_pb2.HealthCheck()),
    ]
    with structlog.testing.capture_logs() as logs:
        for rpc, request in requests:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await _call(started, impostor, rpc, request)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED, rpc
            assert "pinned key" in (caught.value.details() or "")
    assert bob.keys.get(ALICE) is None
    assert await _rows(started, BOB) == {"envelopes": 0, "conversations": 0, "failed_envelopes": 0}
    assert _alerts(ALICE, pinned=True) == before + 3
    alerts = [entry for entry in logs if entry.get("alert") == "peer_key_changed"]
    assert len(alerts) == 1  # one line per name and key a minute; the counter counts all
    assert alerts[0]["log_level"] == "warning"
    assert alerts[0]["peer"] == ALICE
    assert alerts[0]["presented"] == format_pin(spki_digest(impostor.certificate.public_key()))
    assert alerts[0]["action"] == "refused"
    # The real Alice is still served, and so is a re-issued certificate on her pinned key.
    reissued = test_pki.identity(ALICE, key=test_pki.identity(ALICE).key, valid_days=200)
    for identity in (test_pki.identity(ALICE), reissued):
        reply = await _call(started, identity, "Transfer", sealed)
        assert reply.transfer_state == api_pb2.ACCEPTED


async def test_a_pin_by_spki_hash_admits_that_key_only(started: Cluster, test_pki: TestPki) -> None:
    directory = started.nodes[BOB].gateway.directory
    alice = test_pki.identity(ALICE)
    peer = directory.get(ALICE)
    assert peer is not None
    digest = spki_digest(alice.certificate.public_key())
    directory.put(dataclasses.replace(peer, pinned_key=None, pins=frozenset({digest})))
    reply = await _call(started, alice, "KeyExchange", env.signing_key_for(alice.certificate))
    assert reply.public_key_algorithm == "RSA"
    impostor = _impostor(test_pki)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _call(started, impostor, "KeyExchange", env.signing_key_for(impostor.certificate))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    cached = started.nodes[BOB].gateway.keys.get(ALICE)
    assert cached is not None
    assert env.spki_der(cached) == env.spki_der(alice.certificate.public_key())


async def test_a_new_key_for_an_unpinned_peer_is_served_with_an_alert(
    started: Cluster, test_pki: TestPki
) -> None:
    directory = started.nodes[BOB].gateway.directory
    peer = directory.get(ALICE)
    assert peer is not None
    directory.put(dataclasses.replace(peer, pinned_key=None, pins=frozenset()))
    alice, other = test_pki.identity(ALICE), _impostor(test_pki)
    before = _alerts(ALICE, pinned=False)
    with structlog.testing.capture_logs() as logs:
        await _call(started, alice, "Status", api_pb2.HealthCheck())
        assert _alerts(ALICE, pinned=False) == before  # the first key seen is no news
        await _call(started, other, "Status", api_pb2.HealthCheck())
    assert _alerts(ALICE, pinned=False) == before + 1
    alerts = [entry for entry in logs if entry.get("alert") == "peer_key_changed"]
    assert [(a["peer"], a["action"], a["pinned"]) for a in alerts] == [(ALICE, "accepted", False)]
    assert alerts[0]["known"] == [format_pin(spki_digest(alice.certificate.public_key()))]
