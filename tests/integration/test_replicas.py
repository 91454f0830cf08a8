"""Several `travelgate serve` processes on one database (replicas of one node).

Each test runs real subprocesses with one config file and one database: an API key made
once works everywhere; one Idempotency-Key sent to three replicas at once holds one
withdrawal and sends one envelope; one inbound envelope sent to two replicas at once makes
one conversation and two byte-identical answers; a cancel sent to three replicas at once
moves the hold once; a due hold expires once (one webhook, one audit record); a replica
killed in the middle of 200 holds loses nothing, and the counterparty never sees two
different envelopes under one id; a process with other key files refuses to start. And the
outbox outlives a database that failed under it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import grpc

from support.api import Api, withdrawal
from support.backoffice import BackOffice
from support.nodes import ALICE, BOB, Cluster, TestPki, two_node_specs, write_peers
from support.payloads import transfer_payload
from support.processes import run_cli
from support.replicas import (
    Replica,
    ReplicaClient,
    start_replicas,
    stop_replicas,
    write_replica_config,
)
from support.stores import beside
from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2, api_pb2_grpc

HOLDS = 200


def _api_key(config: Path, *options: str) -> str:
    created = run_cli("apikey", "create", "--config", str(config), *options)
    assert created.returncode == 0, created.stderr
    return created.stdout.decode().strip()


async def _bob_envelopes(cluster: Cluster) -> list[tuple[str, str, bytes]]:
    """(envelope id, transfer state, raw bytes) of every envelope Bob received."""
    rows = beside(
        cluster.nodes[BOB].gateway.db.where,
        "SELECT envelope_id, transfer_state, raw FROM envelopes WHERE direction = 'in'",
    )
    return [(row[0], row[1], bytes(row[2])) for row in rows]


async def _start_bob(cluster: Cluster, test_pki: TestPki) -> None:
    """Bob in process (accepts at once); Alice's replicas find him in the peers file."""
    _alice, bob = two_node_specs(bob_robot="sync-accept")
    await cluster.start(bob, also=(ALICE,))
    write_peers(test_pki.root, [ALICE, BOB], {BOB: cluster.nodes[BOB].trisa_port})


async def _all_pages(client: ReplicaClient, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = f"{path}?limit=100" + (f"&cursor={cursor}" if cursor else "")
        status, page = await client.call("GET", query)
        assert status == 200, page
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def _pending_outbox(admin: ReplicaClient) -> list[dict[str, Any]]:
    status, page = await admin.call("GET", "/v1/outbox?state=pending&limit=100")
    assert status == 200, page
    items: list[dict[str, Any]] = page["items"]
    return items


async def test_an_api_key_created_once_works_on_every_replica(
    test_pki: TestPki, tmp_path: Path, replica_database: str
) -> None:
    alice, _bob = two_node_specs()
    test_pki.write(BOB)
    write_peers(test_pki.root, [ALICE, BOB])
    config = write_replica_config(test_pki, alice, database=replica_database, workdir=tmp_path)
    key = _api_key(config)
    replicas = start_replicas(config, 3)
    client = ReplicaClient(replicas, key)
    stranger = ReplicaClient(replicas, "tg_not-a-key")
    try:
        for index in range(3):
            status, page = await client.call("GET", "/v1/withdrawals", replica=index)
            assert status == 200, page
            assert page["items"] == []
            status, refused = await stranger.call("GET", "/v1/withdrawals", replica=index)
            assert status == 401, refused
    finally:
        await client.close()
        await stranger.close()
        stop_replicas(replicas)


async def test_a_replica_with_other_key_files_stops_before_writing(
    test_pki: TestPki, tmp_path: Path, replica_database: str
) -> None:
    alice, _bob = two_node_specs()
    test_pki.write(BOB)
    write_peers(test_pki.root, [ALICE, BOB])
    config = write_replica_config(test_pki, alice, database=replica_database, workdir=tmp_path)
    first = start_replicas(config, 1)  # the first start records the node's keys
    stop_replicas(first)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    stray = write_replica_config(
        test_pki,
        dataclasses.replace(alice, name=ALICE),
        database=replica_database,
        workdir=elsewhere,
    )
    assert stray == config  # one file per node name: rewritten with the other keys
    replica = Replica(stray)
    try:
        assert replica.process.process.wait(timeout=60) != 0
    finally:
        replica.process.stop_quietly()
    said = "\n".join(replica.process.lines)
    assert "key_file" in said
    assert "audit_key_file" in said
    assert "same key files" in said
    assert "Traceback" not in said


async def test_one_idempotency_key_sent_to_three_replicas_at_once_holds_once(
    cluster: Cluster, test_pki: TestPki, tmp_path: Path, replica_database: str
) -> None:
    await _start_bob(cluster, test_pki)
    alice, _bob = two_node_specs()
    config = write_replica_config(test_pki, alice, database=replica_database, workdir=tmp_path)
    key = _api_key(config)
    replicas = start_replicas(config, 3)
    client = ReplicaClient(replicas, key)
    try:
        answers = await asyncio.gather(
            *(
                client.call(
                    "POST",
                    "/v1/withdrawals",
                    withdrawal(),
                    replica=index,
                    headers={"Idempotency-Key": "one-withdrawal"},
                )
                for index in range(3)
            )
        )
        # Created once (201), replayed twice (200): the same hold every time.
        assert sorted(status for status, _body in answers) == [200, 200, 201], answers
        bodies = [body for _status, body in answers]
        assert len({body["id"] for body in bodies}) == 1
        for body in bodies:
            for name in ("id", "created_at", "idempotency_key", "envelope_id", "amount"):
                assert body[name] == bodies[0][name]
        # The replays read the hold as it is: the same body, unless the exchange had
        # already moved it on in the few milliseconds between (a later version).
        first = next(body for status, body in answers if status == 201)
        for body in bodies:
            assert body == first or body["version"] > first["version"]
        hold_id = first["id"]
        for index in range(3):  # every replica sees the exchange end
            status, hold = await client.call(
                "GET", f"/v1/withdrawals/{hold_id}?wait=10", replica=index
            )
            assert status == 200
            while hold["state"] != "cleared":
                assert hold["state"] in ("held", "awaiting_reply"), hold
                status, hold = await client.call(
                    "GET", f"/v1/withdrawals/{hold_id}?wait=2", replica=index
                )
        assert len(await _all_pages(client, "/v1/withdrawals")) == 1
    finally:
        await client.close()
        stop_replicas(replicas)
    received = await _bob_envelopes(cluster)
    assert [(envelope_id, state) for envelope_id, state, _raw in received] == [
        (first["envelope_id"], "STARTED")
    ]


async def test_one_inbound_envelope_sent_to_two_replicas_at_once_is_answered_once(
    cluster: Cluster, test_pki: TestPki, tmp_path: Path, replica_database: str
) -> None:
    alice_spec, bob_spec = two_node_specs(bob_robot=None)
    await cluster.start(alice_spec, also=(BOB,))
    alice = cluster.nodes[ALICE]
    write_peers(test_pki.root, [ALICE, BOB], {ALICE: alice.trisa_port})
    config = write_replica_config(test_pki, bob_spec, database=replica_database, workdir=tmp_path)
    key = _api_key(config)
    replicas = start_replicas(config, 2)
    client = ReplicaClient(replicas, key)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=test_pki.ca.cert_pem,
        private_key=test_pki.identity(ALICE).key_pem,
        certificate_chain=test_pki.identity(ALICE).chain_pem,
    )
    channels = [
        grpc.aio.secure_channel(
            f"127.0.0.1:{replica.trisa_port}",
            credentials,
            options=[("grpc.ssl_target_name_override", BOB)],
        )
        for replica in replicas
    ]
    try:
        peer = alice.gateway.directory.get(BOB)
        assert peer is not None
        at_replica = dataclasses.replace(peer, endpoint=f"127.0.0.1:{replicas[0].trisa_port}")
        alice.gateway.directory.put(at_replica)
        bob_key = await alice.gateway.client.sealing_key(at_replica)
        # Several messages, each sent to both replicas together: the race happens.
        messages = [env.seal(transfer_payload(), bob_key) for _ in range(8)]

        async def send(channel: grpc.aio.Channel, message: Any) -> bytes:
            reply = await api_pb2_grpc.TRISANetworkStub(channel).Transfer(message, timeout=30)
            assert isinstance(reply, api_pb2.SecureEnvelope)
            return reply.SerializeToString()

        for message in messages:
            first, second = await asyncio.gather(*(send(c, message) for c in channels))
            assert first == second
            reply = api_pb2.SecureEnvelope()
            reply.ParseFromString(first)
            assert reply.id == message.id
            assert not env.has_error(reply), reply.error
        deposits = await _all_pages(client, "/v1/deposits")
        assert sorted(d["envelope_id"] for d in deposits) == sorted(
            env.normalize_envelope_id(m.id) for m in messages
        )
    finally:
        for channel in channels:
            await channel.close()
        await client.close()
        stop_replicas(replicas)


async def test_a_replica_killed_during_200_holds_loses_and_forks_nothing(
    cluster: Cluster, test_pki: TestPki, tmp_path: Path, replica_database: str
) -> None:
    await _start_bob(cluster, test_pki)
    alice, _bob = two_node_specs()
    alice = dataclasses.replace(
        alice,
        extra={
            # A killed replica's claims lapse quickly; retries come fast.
            "outbox": {"base_delay": "0.05", "max_delay": "0.5", "lease": "2s"},
        },
    )
    config = write_replica_config(test_pki, alice, database=replica_database, workdir=tmp_path)
    key = _api_key(config)
    admin_key = _api_key(config, "--scope", "admin")
    replicas = start_replicas(config, 3)
    victim: Replica = replicas[1]
    client = ReplicaClient(replicas, key)
    admin = ReplicaClient(replicas, admin_key)
    limit = asyncio.Semaphore(12)
    created = 0
    try:

        async def create(index: int) -> str:
            nonlocal created
            async with limit:
                status, hold = await client.call(
                    "POST",
                    "/v1/withdrawals",
                    withdrawal(),
                    replica=index % 3,
                    headers={"Idempotency-Key": f"w-{index}"},
                )
            assert status in (200, 201), hold
            created += 1
            if created == HOLDS // 4:
                await asyncio.to_thread(victim.kill)  # mid-burst: requests and deliveries
            return str(hold["id"])

        ids = await asyncio.gather(*(create(i) for i in range(HOLDS)))
        assert len(set(ids)) == HOLDS
        assert not victim.alive

        async def release(index: int, hold_id: str) -> None:
            async with asyncio.timeout(120):
                while True:
                    async with limit:
                        status, hold = await client.call(
                            "GET", f"/v1/withdrawals/{hold_id}?wait=2", replica=index % 3
                        )
                    assert status == 200
                    if hold["state"] == "cleared":
                        break
                    assert hold["state"] in ("held", "awaiting_reply"), hold
            async with limit:
                status, hold = await client.call(
                    "POST",
                    f"/v1/withdrawals/{hold_id}/broadcast",
                    {"txid": f"tx-{hold_id}"},
                    replica=index % 3,
                )
            assert status == 200, hold
            assert hold["state"] == "released"

        await asyncio.gather(*(release(i, hold_id) for i, hold_id in enumerate(ids)))

        async def bob_completed() -> int:
            received = await _bob_envelopes(cluster)
            return sum(1 for _id, state, _raw in received if state == "COMPLETED")

        async with asyncio.timeout(120):
            while await bob_completed() < HOLDS:
                await asyncio.sleep(0.2)
        holds = await _all_pages(client, "/v1/withdrawals")
        assert Counter(h["state"] for h in holds) == {"released": HOLDS}
        async with asyncio.timeout(30):  # the last rows are marked delivered
            while await _pending_outbox(admin):
                await asyncio.sleep(0.2)
    finally:
        await client.close()
        await admin.close()
        stop_replicas(replicas)
    received = await _bob_envelopes(cluster)
    # One envelope per (id, state): a resend after the kill carried the stored bytes, which
    # Bob answered from his store without keeping them again.
    assert Counter((envelope_id, state) for envelope_id, state, _raw in received) == {
        (hold["envelope_id"], state): 1 for hold in holds for state in ("STARTED", "COMPLETED")
    }


async def test_one_cancel_sent_to_three_replicas_at_once_moves_the_hold_once(
    cluster: Cluster, test_pki: TestPki, tmp_path: Path, replica_database: str
) -> None:
    _alice, bob = two_node_specs(bob_robot="async-accept")
    await cluster.start(dataclasses.replace(bob, delay=3600), also=(ALICE,))  # never calls back
    write_peers(test_pki.root, [ALICE, BOB], {BOB: cluster.nodes[BOB].trisa_port})
    alice, _bob = two_node_specs()
    config = write_replica_config(test_pki, alice, database=replica_database, workdir=tmp_path)
    key = _api_key(config)
    replicas = start_replicas(config, 3)
    client = ReplicaClient(replicas, key)
    try:
        status, hold = await client.call(
            "POST", "/v1/withdrawals", withdrawal(), headers={"Idempotency-Key": "cancel-me"}
        )
        assert status == 201, hold
        path = f"/v1/withdrawals/{hold['id']}"
        while hold["state"] != "awaiting_reply":
            status, hold = await client.call("GET", f"{path}?wait=2")
        answers = await asyncio.gather(
            *(client.call("POST", f"{path}/cancel", replica=index) for index in range(3))
        )
    finally:
        await client.close()
        stop_replicas(replicas)
    # Whoever lost the race answers with the winner's move: 200, the canceled hold.
    assert [status for status, _body in answers] == [200, 200, 200], answers
    assert all(body == answers[0][1] for _status, body in answers)
    assert answers[0][1]["state"] == "canceled"
    exported = run_cli("audit", "export", "--config", str(config))
    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in exported.stdout.decode().splitlines()]
    moves = [
        r["detail"]["state"]
        for r in records
        if r["action"] == "hold.state" and r["subject"] == f"hold:{hold['id']}"
    ]
    assert moves.count("canceled") == 1


async def test_a_due_hold_expires_once_whichever_replica_finds_it(
    cluster: Cluster, test_pki: TestPki, tmp_path: Path, replica_database: str
) -> None:
    office = BackOffice()
    await office.start()
    _alice, bob = two_node_specs(bob_robot="async-accept")
    await cluster.start(dataclasses.replace(bob, delay=3600), also=(ALICE,))  # never calls back
    write_peers(test_pki.root, [ALICE, BOB], {BOB: cluster.nodes[BOB].trisa_port})
    secret = tmp_path / "hook.secret"
    secret.write_text("replicas")
    alice, _bob = two_node_specs()
    alice = dataclasses.replace(
        alice,
        extra={
            "webhooks": {"url": office.url, "secret_file": str(secret)},
            "outbox": {"base_delay": "0.05", "expiry_interval": "0.1"},
            "policy": {
                "counterparty": {BOB: {"reply_timeout": "1s", "max_wait": "2s"}},
                "profile": {"FATF-R16": {"timeout_outbound": "EXPIRE"}},
            },
        },
    )
    config = write_replica_config(test_pki, alice, database=replica_database, workdir=tmp_path)
    key = _api_key(config)
    replicas = start_replicas(config, 3)
    client = ReplicaClient(replicas, key)
    try:
        status, hold = await client.call(
            "POST", "/v1/withdrawals", withdrawal(), headers={"Idempotency-Key": "expires"}
        )
        assert status == 201, hold
        await office.wait_for("withdrawal.expired", seconds=20)
        await asyncio.sleep(1.0)  # ten more rounds of expiry on every replica
        for index in range(3):
            status, seen = await client.call("GET", f"/v1/withdrawals/{hold['id']}", replica=index)
            assert (status, seen["state"]) == (200, "expired")
    finally:
        await client.close()
        stop_replicas(replicas)
        await office.stop()
    expired = [e for e in office.events() if e["type"] == "withdrawal.expired"]
    assert len(expired) == 1
    exported = run_cli("audit", "export", "--config", str(config))
    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in exported.stdout.decode().splitlines()]
    moves = [
        r
        for r in records
        if r["action"] == "hold.state"
        and r["subject"] == f"hold:{hold['id']}"
        and r["detail"]["state"] == "expired"
    ]
    assert len(moves) == 1
    verified = run_cli("audit", "verify", "--config", str(config))
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def test_the_outbox_keeps_delivering_after_the_database_failed_under_it(
    cluster: Cluster, tmp_path: Path
) -> None:
    await cluster.start(*two_node_specs(bob_robot="sync-accept"))
    alice = cluster.nodes[ALICE]
    api = await Api.connect(alice)
    try:
        _status, hold = await api.create(withdrawal())
        await api.wait_state(hold["id"], "cleared")
        # The outbox table is gone for a while: every look of the worker fails (StoreError).
        database = sqlite3.connect(tmp_path / f"{ALICE}.db", isolation_level=None)
        try:
            database.execute("ALTER TABLE outbox RENAME TO outbox_away")
            await asyncio.sleep(2.0)
            database.execute("ALTER TABLE outbox_away RENAME TO outbox")
        finally:
            database.close()
        _status, again = await api.create(withdrawal())
        cleared = await api.wait_state(again["id"], "cleared", seconds=30)
    finally:
        await api.close()
    assert cleared["state"] == "cleared"
    # Still the worker the node started: it logged, waited and went on.
    assert [t for t in asyncio.all_tasks() if t.get_name() == "outbox" and not t.done()]
