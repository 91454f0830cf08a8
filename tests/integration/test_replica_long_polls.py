"""Two `travelgate serve` replicas on one database (a SQLite file, or PostgreSQL): a long poll
on one returns within a second of a change committed on the other."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from support.api import withdrawal
from support.nodes import ALICE, BOB, Cluster, TestPki, two_node_specs, write_config, write_peers
from support.processes import NodeProcess, run_cli


class Replica:
    """One `serve` process of alice's node and a client of its internal API."""

    def __init__(self, config: Path, env: dict[str, str], key: str) -> None:
        self.process = NodeProcess("serve", "--config", str(config), env=env)
        self.process.wait_started(timeout=60)
        started = [e for e in self.process.events() if e.get("event") == "node started"][-1]
        self.base = f"http://127.0.0.1:{started['api_port']}"
        self.headers = {"Authorization": f"Bearer {key}"}

    async def call(
        self, session: aiohttp.ClientSession, method: str, path: str, **options: Any
    ) -> tuple[int, Any]:
        headers = {**self.headers, **options.pop("headers", {})}
        async with session.request(method, self.base + path, headers=headers, **options) as reply:
            return reply.status, await reply.json()


async def test_a_long_poll_on_one_replica_hears_a_change_made_on_the_other(
    cluster: Cluster,
    test_pki: TestPki,
    tmp_path: Path,
    backend: str,
    request: pytest.FixtureRequest,
) -> None:
    alice_spec, bob_spec = two_node_specs(bob_robot="sync-accept")
    await cluster.start(bob_spec, also=(ALICE,))
    write_peers(test_pki.root, [ALICE, BOB], {BOB: cluster.nodes[BOB].trisa_port})
    config = write_config(test_pki, alice_spec, database=tmp_path / "alice.db")
    env: dict[str, str] = {}
    if backend == "postgres":
        env["TRAVELGATE_NODE_DATABASE"] = request.getfixturevalue("postgres_server").database()
    created = run_cli("apikey", "create", "--config", str(config), env=env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.decode().strip()

    first = Replica(config, env, key)
    second: Replica | None = None
    try:
        async with aiohttp.ClientSession() as session:
            status, hold = await first.call(
                session,
                "POST",
                "/v1/withdrawals",
                json=withdrawal(),
                headers={"Idempotency-Key": "replicas-1"},
            )
            assert status == 201, hold
            path = f"/v1/withdrawals/{hold['id']}"
            async with asyncio.timeout(30):
                while hold["state"] != "cleared":
                    status, hold = await first.call(session, "GET", f"{path}?wait=5")
                    assert status == 200, hold
            # The second replica starts once the exchange is over: both would deliver the
            # outbox otherwise, which is not what this test is about.
            second = Replica(config, env, key)
            waiting = asyncio.create_task(
                second.call(session, "GET", f"{path}?wait=20&version={hold['version']}")
            )
            await asyncio.sleep(1.0)  # the long poll is waiting on the second replica
            assert not waiting.done()
            changed_at = time.monotonic()
            status, released = await first.call(
                session, "POST", f"{path}/broadcast", json={"txid": "tx-replicas"}
            )
            assert (status, released["state"]) == (200, "released")
            status, seen = await waiting
            heard_at = time.monotonic()
            assert (status, seen["state"], seen["version"]) == (
                200,
                "released",
                released["version"],
            )
            assert heard_at - changed_at < 1.0
    finally:
        first.process.stop_quietly()
        if second is not None:
            second.process.stop_quietly()
