"""Crash safety of the receive path: SIGKILL mid-exchange, restart on the same database.

No envelope the node answered is lost (its reply was stored in the same transaction,
before it was returned: TRISA duplicate envelopes), and every retried envelope is answered
idempotently: byte for byte the first reply when one was sent, exactly once otherwise.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from pathlib import Path

from support.nodes import ALICE, BOB, TestPki, two_node_specs, write_config, write_peers
from support.payloads import transfer_payload
from support.processes import NodeProcess
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate.config import load_config
from travelgate.node import Gateway
from travelgate.trisa import PeerUnavailableError, Prepared

TRANSFERS = 60
ROOMY = {"per_peer_streams": 128, "per_peer_rps": 10_000, "max_inflight_work": 128}


async def test_sigkill_mid_exchange_loses_nothing_and_retries_are_idempotent(
    test_pki: TestPki, tmp_path: Path
) -> None:
    alice_spec, bob_spec = two_node_specs(bob_robot=None)
    # Crash safety, not admission: every one of the concurrent transfers gets in.
    bob_spec = dataclasses.replace(bob_spec, extra={"trisa": ROOMY})
    write_peers(test_pki.root, [ALICE, BOB])
    bob_config = write_config(test_pki, bob_spec, database=tmp_path / "bob.db")
    alice_config = load_config(write_config(test_pki, alice_spec, database=tmp_path / "alice.db"))
    alice = await Gateway.open(alice_config, seed_customers=False)
    bob = NodeProcess("robot", "--policy", "sync-accept", "--config", str(bob_config))
    try:
        _point_at(alice, bob.wait_started())
        prepared = [
            await alice.outbound.prepare(
                BOB, envelope_id=_id(i), state=api_pb2.STARTED, payload=transfer_payload()
            )
            for i in range(TRANSFERS)
        ]
        first: dict[str, bytes] = {}

        async def send(item: Prepared) -> None:
            reply = await alice.client.transfer(item.peer, item.envelope, deadline=20)
            first[item.envelope.id] = reply.SerializeToString()
            if len(first) == TRANSFERS // 3:
                bob.kill()  # in the middle of the others' processing

        results = await asyncio.gather(*(send(p) for p in prepared), return_exceptions=True)
        assert all(r is None or isinstance(r, PeerUnavailableError) for r in results)
        answered_before = dict(first)
        assert TRANSFERS // 3 <= len(answered_before) < TRANSFERS

        bob = NodeProcess("robot", "--policy", "sync-accept", "--config", str(bob_config))
        _point_at(alice, bob.wait_started())
        for item in prepared:  # retried: the stored bytes, unchanged (R7)
            peer = alice.outbound.peer(BOB)  # the restarted node listens on a new port
            reply = await alice.client.transfer(peer, item.envelope, deadline=20)
            assert reply.transfer_state == api_pb2.ACCEPTED
            if item.envelope.id in answered_before:
                assert reply.SerializeToString() == answered_before[item.envelope.id]
    finally:
        bob.stop_quietly()
        await alice.close()

    with sqlite3.connect(tmp_path / "bob.db") as db:
        states = db.execute("SELECT state, count(*) FROM conversations GROUP BY state").fetchall()
        inbound = db.execute("SELECT count(*) FROM envelopes WHERE direction = 'in'").fetchone()
        replies = db.execute("SELECT count(*) FROM envelopes WHERE direction = 'out'").fetchone()
    assert states == [("ACCEPTED", TRANSFERS)]
    assert inbound == (TRANSFERS,)
    assert replies == (TRANSFERS,)


def _id(index: int) -> str:
    return f"00000000-0000-4000-8000-{index:012d}"


def _point_at(gateway: Gateway, port: int) -> None:
    peer = gateway.directory.get(BOB)
    assert peer is not None
    gateway.directory.put(dataclasses.replace(peer, endpoint=f"127.0.0.1:{port}"))
