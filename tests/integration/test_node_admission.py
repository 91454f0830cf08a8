"""Admission to the TRISA server under a hostile peer with a valid certificate.

One peer at its limits (streams held open, requests over its rate, idle or endless
streams) is refused or cut off alone: every other peer, health checks and key exchanges
are still served at once. A name that is not in the directory holds nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import grpc
import pytest
import structlog

from support.nodes import ALICE, BOB, Cluster, TestPki, two_node_specs
from support.payloads import transfer_payload
from travelgate import envelope as env
from travelgate import pki
from travelgate._pb.trisa.api.v1beta1 import api_pb2, api_pb2_grpc
from travelgate.errors import Code
from travelgate.trisa import Admission, AdmissionSettings, Directory, Pool

CAROL = "carol.example"


async def _start(cluster: Cluster, bob_trisa: Mapping[str, Any] | None = None) -> None:
    alice, bob = two_node_specs()
    if bob_trisa:
        bob = dataclasses.replace(bob, extra={"trisa": dict(bob_trisa)})
    await cluster.start(alice, bob, also=(CAROL,))


def _admission(cluster: Cluster) -> Admission:
    admission = cluster.nodes[BOB].admission
    assert admission is not None
    return admission


async def _eventually(check: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def _health(cluster: Cluster, identity: pki.Identity) -> api_pb2.ServiceState:
    channel = cluster.channel(BOB, identity)
    try:
        reply: api_pb2.ServiceState = await api_pb2_grpc.TRISAHealthStub(channel).Status(
            api_pb2.HealthCheck(), timeout=2
        )
        return reply
    finally:
        await channel.close()


async def _alice_transfer_seconds(cluster: Cluster) -> float:
    """A real Transfer from Alice's node (KeyExchange both ways included), timed."""
    started = time.monotonic()
    result = await cluster.nodes[ALICE].gateway.outbound.send(
        BOB, envelope_id=env.new_envelope_id(), state=api_pb2.STARTED, payload=transfer_payload()
    )
    assert result.reply.transfer_state == api_pb2.ACCEPTED
    return time.monotonic() - started


async def test_a_peer_holding_400_idle_streams_stops_nobody_else(
    cluster: Cluster, test_pki: TestPki
) -> None:
    await _start(cluster)
    channel = cluster.channel(BOB, test_pki.identity(CAROL))
    stub = api_pb2_grpc.TRISANetworkStub(channel)
    calls = [stub.TransferStream() for _ in range(400)]
    try:
        admission = _admission(cluster)
        await _eventually(lambda: sum(call.done() for call in calls) >= 392, seconds=20)
        refused = [await call.code() for call in calls if call.done()]
        assert set(refused) == {grpc.StatusCode.RESOURCE_EXHAUSTED}
        assert admission.open_calls(CAROL) == 8
        assert len(refused) == 392
        # Carol is at its limit, with 8 idle streams open: Alice is served at once.
        assert await _alice_transfer_seconds(cluster) < 2.0
        health = await _health(cluster, test_pki.identity(ALICE))
        assert health.status == api_pb2.ServiceState.HEALTHY
    finally:
        for call in calls:
            call.cancel()
        await channel.close()
    await _eventually(lambda: _admission(cluster).open_calls(CAROL) == 0)


async def test_an_unknown_name_is_refused_before_it_holds_anything(
    cluster: Cluster, test_pki: TestPki
) -> None:
    await _start(cluster)
    channel = cluster.channel(BOB, test_pki.identity("mallory.example"))
    stub = api_pb2_grpc.TRISANetworkStub(channel)
    try:
        with structlog.testing.capture_logs() as logs:
            calls = [stub.TransferStream() for _ in range(20)]
            codes = await asyncio.wait_for(asyncio.gather(*(call.code() for call in calls)), 2)
        assert set(codes) == {grpc.StatusCode.PERMISSION_DENIED}
        assert _admission(cluster).open_calls("mallory.example") == 0
    finally:
        await channel.close()
    # Refusals are counted, and logged once a minute per name and reason: a flood of them
    # does not flood the log.
    refusals = [entry for entry in logs if entry["event"] == "trisa call refused"]
    assert [(r["peer"], r["reason"]) for r in refusals] == [("mallory.example", "unknown_peer")]
    counts = await cluster.nodes[BOB].gateway.db.read(
        lambda tx: (tx.count("envelopes"), tx.count("conversations"))
    )
    assert counts == (0, 0)


async def test_a_full_network_pool_leaves_health_and_key_exchange_served(
    cluster: Cluster, test_pki: TestPki
) -> None:
    await _start(cluster, {"max_concurrent_rpcs": 4})
    channel = cluster.channel(BOB, test_pki.identity(CAROL))
    calls = [api_pb2_grpc.TRISANetworkStub(channel).TransferStream() for _ in range(4)]
    alice = test_pki.identity(ALICE)
    alice_channel = cluster.channel(BOB, alice)
    try:
        await _eventually(lambda: _admission(cluster).open_calls(CAROL) == 4)
        stub = api_pb2_grpc.TRISANetworkStub(alice_channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Transfer(env.error_envelope(env.new_envelope_id(), _rejection()), timeout=2)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        key = await stub.KeyExchange(env.signing_key_for(alice.certificate), timeout=2)
        assert key.public_key_algorithm == "RSA"
        assert (await _health(cluster, alice)).status == api_pb2.ServiceState.HEALTHY
    finally:
        for call in calls:
            call.cancel()
        await channel.close()
        await alice_channel.close()


def _rejection() -> Any:
    from travelgate._pb.trisa.api.v1beta1 import errors_pb2

    return errors_pb2.Error(code=Code.REJECTED, message="no", retry=False)


async def test_a_peer_over_its_rate_is_refused_alone(cluster: Cluster, test_pki: TestPki) -> None:
    await _start(cluster, {"per_peer_rps": 5})
    carol_channel = cluster.channel(BOB, test_pki.identity(CAROL))
    stub = api_pb2_grpc.TRISANetworkStub(carol_channel)
    outcomes: list[str] = []
    try:
        started = time.monotonic()
        for _ in range(20):
            envelope = api_pb2.SecureEnvelope(id=env.new_envelope_id(), payload=b"x")
            try:
                reply = await stub.Transfer(envelope, timeout=2)
                outcomes.append(Code.Name(reply.error.code))
            except grpc.aio.AioRpcError as exc:
                outcomes.append(exc.code().name)
        elapsed = time.monotonic() - started
        # Over the rate, Carol's messages in a stream are answered, each with a retryable
        # error envelope: nothing is processed or stored for them.
        await asyncio.sleep(1.1)  # a second's allowance again, to open the stream
        stream = stub.TransferStream()
        ids = [env.new_envelope_id() for _ in range(10)]
        for envelope_id in ids:
            await stream.write(api_pb2.SecureEnvelope(id=envelope_id, payload=b"x"))
        await stream.done_writing()
        replies = [reply async for reply in stream]
    finally:
        await carol_channel.close()
    # A burst of one second's allowance, then 5 a second: the rest is refused.
    assert 5 <= outcomes.count("BAD_REQUEST") <= 5 + 5 * elapsed + 1
    assert outcomes.count("RESOURCE_EXHAUSTED") == 20 - outcomes.count("BAD_REQUEST")
    assert [reply.id for reply in replies] == ids
    limited = [reply for reply in replies if reply.error.code == Code.UNAVAILABLE]
    assert limited
    assert all(reply.error.retry for reply in limited)
    # Alice is not affected by Carol's rate.
    assert await _alice_transfer_seconds(cluster) < 2.0


async def test_an_idle_stream_is_closed_and_frees_its_place(
    cluster: Cluster, test_pki: TestPki
) -> None:
    await _start(cluster, {"stream_idle_timeout": 1})
    channel = cluster.channel(BOB, test_pki.identity(CAROL))
    try:
        started = time.monotonic()
        call = api_pb2_grpc.TRISANetworkStub(channel).TransferStream()
        code = await asyncio.wait_for(call.code(), 5)
        elapsed = time.monotonic() - started
    finally:
        await channel.close()
    assert code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert 0.9 <= elapsed < 4
    assert _admission(cluster).open_calls(CAROL) == 0


async def test_a_busy_stream_ends_at_its_maximum_age(cluster: Cluster, test_pki: TestPki) -> None:
    await _start(cluster, {"stream_max_age": 2, "stream_idle_timeout": 1})
    channel = cluster.channel(BOB, test_pki.identity(ALICE))
    call = api_pb2_grpc.TRISANetworkStub(channel).TransferStream()
    started = time.monotonic()
    answered = 0

    async def keep_busy() -> None:
        nonlocal answered
        # A message every half second keeps the stream from ever being idle.
        while not call.done():
            try:
                await call.write(api_pb2.SecureEnvelope(id=env.new_envelope_id(), payload=b"x"))
                reply = await call.read()
            except grpc.aio.AioRpcError:
                return
            if reply is grpc.aio.EOF:
                return
            answered += 1
            await asyncio.sleep(0.5)

    try:
        await asyncio.wait_for(keep_busy(), 6)
        elapsed = time.monotonic() - started
        code, details = await call.code(), await call.details()
    finally:
        await channel.close()
    assert code == grpc.StatusCode.UNAVAILABLE
    assert "maximum age" in details
    assert answered >= 3
    assert 1.9 <= elapsed < 4
    assert _admission(cluster).open_calls(ALICE, Pool.NETWORK) == 0


async def test_a_peer_can_have_its_own_limits(cluster: Cluster, test_pki: TestPki) -> None:
    await _start(cluster, {"per_peer_rps": 5, "per_peer_streams": 2})
    directory = cluster.nodes[BOB].gateway.directory
    peer = directory.get(ALICE)
    assert peer is not None
    directory.put(dataclasses.replace(peer, per_peer_rps=1000, per_peer_streams=16))

    async def burst(identity: pki.Identity) -> list[str]:
        channel = cluster.channel(BOB, identity)
        stub = api_pb2_grpc.TRISAHealthStub(channel)
        codes = []
        try:
            for _ in range(30):
                try:
                    await stub.Status(api_pb2.HealthCheck(), timeout=2)
                    codes.append("OK")
                except grpc.aio.AioRpcError as exc:
                    codes.append(exc.code().name)
        finally:
            await channel.close()
        return codes

    assert set(await burst(test_pki.identity(ALICE))) == {"OK"}
    assert "RESOURCE_EXHAUSTED" in await burst(test_pki.identity(CAROL))
    channel = cluster.channel(BOB, test_pki.identity(ALICE))
    calls = [api_pb2_grpc.TRISANetworkStub(channel).TransferStream() for _ in range(16)]
    try:
        await _eventually(lambda: _admission(cluster).open_calls(ALICE) == 16)
    finally:
        for call in calls:
            call.cancel()
        await channel.close()


async def test_transfers_past_the_work_capacity_are_refused_at_once_and_store_nothing(
    cluster: Cluster, test_pki: TestPki
) -> None:
    await _start(cluster, {"max_inflight_work": 1, "per_peer_rps": 10_000, "per_peer_streams": 64})
    bob = cluster.nodes[BOB]
    key = bob.gateway.credentials.sealing_key.public_key()
    envelopes = [env.seal(transfer_payload(), key) for _ in range(30)]
    channel = cluster.channel(BOB, test_pki.identity(ALICE))
    stub = api_pb2_grpc.TRISANetworkStub(channel)

    async def send(envelope: api_pb2.SecureEnvelope) -> grpc.StatusCode:
        try:
            reply = await stub.Transfer(envelope, timeout=10)
        except grpc.aio.AioRpcError as exc:
            return exc.code()
        assert reply.transfer_state == api_pb2.ACCEPTED, reply.error
        return grpc.StatusCode.OK

    try:
        codes = await asyncio.gather(*(send(e) for e in envelopes))
    finally:
        await channel.close()
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}
    refused = codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert refused > 0
    stored = await bob.gateway.db.read(lambda tx: tx.count("conversations"))
    assert stored == len(codes) - refused
    assert _admission(cluster).work_in_progress == 0


async def test_a_stream_waits_for_work_instead_of_being_refused(cluster: Cluster) -> None:
    await _start(cluster, {"max_inflight_work": 1})
    alice = cluster.nodes[ALICE]
    peer = alice.gateway.directory.get(BOB)
    assert peer is not None
    key = await alice.gateway.client.sealing_key(peer)
    requests = [env.seal(transfer_payload(), key) for _ in range(20)]
    call = alice.gateway.client.stub(peer).TransferStream(iter(requests), timeout=60)
    replies = [reply async for reply in call]
    assert [r.transfer_state for r in replies] == [api_pb2.ACCEPTED] * 20


def test_one_peer_holds_at_most_three_quarters_of_the_work() -> None:
    admission = Admission(AdmissionSettings(max_inflight_work=8), Directory([]))
    assert [admission.try_work(CAROL) for _ in range(7)] == [True] * 6 + [False]
    assert admission.try_work(ALICE)
    assert admission.try_work(ALICE)
    assert not admission.try_work(ALICE)  # the node is full
