"""A peer cannot fill our disk with envelopes nobody can open.

An inbound envelope that fails before it is opened (structure, algorithms, keys, HMAC,
decryption) is answered as before, but only its metadata is stored: peer, envelope id,
code, size, SHA-256, time. The records are capped per peer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import random
import sqlite3
from pathlib import Path

from support.nodes import ALICE, BOB, Cluster, TestPki, two_node_specs
from support.payloads import transfer_payload
from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2, api_pb2_grpc, errors_pb2
from travelgate.errors import Code

UNLIMITED = {"per_peer_rps": 100_000, "max_inflight_work": 64}


async def _start(cluster: Cluster, storage: dict[str, object] | None = None) -> None:
    alice, bob = two_node_specs()
    extra: dict[str, dict[str, object]] = {"trisa": dict(UNLIMITED)}
    if storage:
        extra["storage"] = storage
    await cluster.start(alice, dataclasses.replace(bob, extra=extra))


def _database_bytes(cluster: Cluster) -> int:
    """The logical size of Bob's database (committed pages, wherever they are: the WAL
    file itself is recycled, so its length says little)."""
    path = cluster.nodes[BOB].config.node.database
    assert isinstance(path, Path)  # the cluster runs on SQLite files
    connection = sqlite3.connect(path)
    try:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        size = connection.execute("PRAGMA page_size").fetchone()[0]
        return int(pages) * int(size)
    finally:
        connection.close()


def _with_random_payload(template: api_pb2.SecureEnvelope, size: int) -> api_pb2.SecureEnvelope:
    """Well formed, sealed to Bob's key, but the payload is noise: the HMAC fails."""
    envelope = api_pb2.SecureEnvelope()
    envelope.CopyFrom(template)
    envelope.id = env.new_envelope_id()
    envelope.payload = os.urandom(size)
    return envelope


async def _send_all(
    cluster: Cluster,
    test_pki: TestPki,
    envelopes: list[api_pb2.SecureEnvelope],
    *,
    concurrency: int = 8,  # within the per-peer stream limit
) -> list[api_pb2.SecureEnvelope]:
    channel = cluster.channel(BOB, test_pki.identity(ALICE))
    stub = api_pb2_grpc.TRISANetworkStub(channel)
    replies: list[api_pb2.SecureEnvelope] = []
    try:
        for start in range(0, len(envelopes), concurrency):
            batch = envelopes[start : start + concurrency]
            replies += await asyncio.gather(*(stub.Transfer(e, timeout=30) for e in batch))
    finally:
        await channel.close()
    return replies


def _template(cluster: Cluster) -> api_pb2.SecureEnvelope:
    bob_key = cluster.nodes[BOB].gateway.credentials.sealing_key.public_key()
    return env.seal(transfer_payload(), bob_key)


async def test_a_thousand_random_payloads_do_not_grow_the_database_by_their_bytes(
    cluster: Cluster, test_pki: TestPki
) -> None:
    await _start(cluster)
    template = _template(cluster)
    sizes = [random.randint(1024, 64 * 1024) for _ in range(1000)]
    envelopes = [_with_random_payload(template, size) for size in sizes]
    before = _database_bytes(cluster)
    replies = await _send_all(cluster, test_pki, envelopes)
    assert {reply.error.code for reply in replies} == {Code.INVALID_SIGNATURE}
    grown = _database_bytes(cluster) - before
    assert sum(sizes) > 30_000_000
    assert grown < 2_000_000, f"the database grew by {grown} bytes"
    db = cluster.nodes[BOB].gateway.db
    assert await db.read(lambda tx: tx.count("envelopes")) == 0
    assert await db.read(lambda tx: tx.count("failed_envelopes")) == 1000


async def test_a_39_mb_envelope_is_recorded_but_not_stored(
    cluster: Cluster, test_pki: TestPki
) -> None:
    await _start(cluster)
    envelope = _with_random_payload(_template(cluster), 3_900_000)
    before = _database_bytes(cluster)
    [reply] = await _send_all(cluster, test_pki, [envelope])
    assert (reply.error.code, reply.id) == (Code.INVALID_SIGNATURE, envelope.id)
    assert _database_bytes(cluster) - before < 200_000
    db = cluster.nodes[BOB].gateway.db
    [record] = await db.read(lambda tx: tx.failed_envelopes(ALICE))
    raw = envelope.SerializeToString()
    assert (record.peer, record.envelope_id, record.code) == (
        ALICE,
        envelope.id,
        Code.INVALID_SIGNATURE,
    )
    assert (record.size, record.sha256) == (len(raw), hashlib.sha256(raw).hexdigest())
    assert record.created_at.endswith("Z")
    assert await db.read(lambda tx: tx.count("envelopes")) == 0


async def test_failed_envelopes_are_capped_per_peer_keeping_the_newest(
    cluster: Cluster, test_pki: TestPki
) -> None:
    await _start(cluster, {"failed_per_peer": 10})
    template = _template(cluster)
    unknown_key = _with_random_payload(template, 100)
    unknown_key.public_key_signature = "SHA256:" + "A" * 43
    broken = [unknown_key] + [_with_random_payload(template, 100) for _ in range(14)]
    replies = await _send_all(cluster, test_pki, broken, concurrency=1)
    assert replies[0].error.code == Code.INVALID_KEY
    db = cluster.nodes[BOB].gateway.db
    records = await db.read(lambda tx: tx.failed_envelopes(ALICE))
    assert [r.envelope_id for r in records] == [e.id for e in reversed(broken[-10:])]
    # An exchange that opens is stored in full as before.
    sealed = _template(cluster)
    [accepted] = await _send_all(cluster, test_pki, [sealed])
    assert accepted.transfer_state == api_pb2.ACCEPTED
    assert await db.read(lambda tx: tx.count("envelopes")) == 2


async def test_error_envelopes_for_a_closed_exchange_are_recorded_not_stored(
    cluster: Cluster, test_pki: TestPki
) -> None:
    await _start(cluster)
    alice = cluster.nodes[ALICE].gateway
    envelope_id = env.new_envelope_id()
    result = await alice.outbound.send(
        BOB, envelope_id=envelope_id, state=api_pb2.STARTED, payload=transfer_payload()
    )
    assert result.reply.transfer_state == api_pb2.ACCEPTED
    cancel = errors_pb2.Error(code=Code.CANCELED, message="cancelled", retry=False)
    [echo] = await _send_all(cluster, test_pki, [env.error_envelope(envelope_id, cancel)])
    assert echo.error == cancel
    db = cluster.nodes[BOB].gateway.db
    stored = await db.read(lambda tx: tx.count("envelopes"))
    # The exchange is closed: a huge error message sent to it again is refused, and only
    # recorded.
    huge = errors_pb2.Error(code=Code.REJECTED, message="x" * 1_000_000, retry=False)
    [reply] = await _send_all(cluster, test_pki, [env.error_envelope(envelope_id, huge)])
    assert reply.error.code == Code.BAD_REQUEST
    assert "closed" in reply.error.message
    assert await db.read(lambda tx: tx.count("envelopes")) == stored
    [record] = await db.read(lambda tx: tx.failed_envelopes(ALICE))
    assert (record.envelope_id, record.code) == (envelope_id, Code.BAD_REQUEST)
    assert record.size > 1_000_000
