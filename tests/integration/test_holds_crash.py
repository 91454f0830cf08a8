"""Crash safety of withdrawal holds: SIGKILL the gateway process again and again while 200
holds are in flight; after restarts on the same database every hold ends released, no
envelope or webhook is lost, and the peer saw each envelope once (exact resends count as
once: the outbox resends stored bytes, which the peer answers from its own store)."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import random
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp

from support.api import withdrawal
from support.backoffice import BackOffice
from support.nodes import ALICE, BOB, Cluster, TestPki, two_node_specs, write_config, write_peers
from support.processes import NodeProcess, run_cli

HOLDS = 200
KILLS = 4


class Gateway:
    """`travelgate serve` as a subprocess that the test kills and restarts."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.process: NodeProcess | None = None
        self.base = ""

    def start(self) -> None:
        self.process = NodeProcess("serve", "--config", str(self.config))
        self.process.wait_started()
        started = [e for e in self.process.events() if e.get("event") == "node started"][-1]
        self.base = f"http://127.0.0.1:{started['api_port']}"

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()


async def _call(
    session: aiohttp.ClientSession,
    gateway: Gateway,
    key: str,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
) -> tuple[int, Any]:
    """Retry through crashes: connection errors mean the gateway is down right now."""
    for _ in range(600):
        try:
            async with session.request(
                method,
                gateway.base + path,
                json=body,
                headers={"Authorization": f"Bearer {key}", **headers},
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                return response.status, await response.json()
        except (aiohttp.ClientError, TimeoutError):
            await asyncio.sleep(0.1)
    raise AssertionError("the gateway never came back")


async def test_sigkill_during_200_holds_loses_and_duplicates_nothing(
    cluster: Cluster, test_pki: TestPki, tmp_path: Path
) -> None:
    office = BackOffice()
    await office.start()
    alice_spec, bob_spec = two_node_specs(bob_robot="sync-accept")
    await cluster.start(bob_spec, also=(ALICE,))
    bob = cluster.nodes[BOB]
    write_peers(test_pki.root, [ALICE, BOB], {BOB: bob.trisa_port})
    secret = tmp_path / "hook.secret"
    secret.write_text("crash-test")
    alice_spec = dataclasses.replace(
        alice_spec,
        extra={
            "webhooks": {"url": office.url, "secret_file": str(secret)},
            "outbox": {"base_delay": "0.05", "max_delay": "0.5"},
            "logging": {"level": "info"},
        },
    )
    config = write_config(test_pki, alice_spec, database=tmp_path / "alice.db")
    created = run_cli("apikey", "create", "--config", str(config))
    assert created.returncode == 0, created.stderr
    key = created.stdout.decode().strip()
    gateway = Gateway(config)
    gateway.start()
    rng = random.Random(7)

    async def chaos(stop: asyncio.Event) -> None:
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            gateway.kill()
            await asyncio.sleep(rng.uniform(0.0, 0.3))
            await asyncio.to_thread(gateway.start)
            if stop.is_set():
                return

    try:
        async with aiohttp.ClientSession() as session:
            stop = asyncio.Event()
            monkey = asyncio.create_task(chaos(stop))
            limit = asyncio.Semaphore(16)

            async def create(index: int) -> str:
                async with limit:
                    status, hold = await _call(
                        session,
                        gateway,
                        key,
                        "POST",
                        "/v1/withdrawals",
                        withdrawal(),
                        {"Idempotency-Key": f"w-{index}"},
                    )
                assert status in (200, 201), hold
                return str(hold["id"])

            ids = await asyncio.gather(*(create(i) for i in range(HOLDS)))
            assert len(set(ids)) == HOLDS

            async def release(hold_id: str) -> None:
                async with asyncio.timeout(120):
                    while True:
                        async with limit:
                            status, hold = await _call(
                                session,
                                gateway,
                                key,
                                "GET",
                                f"/v1/withdrawals/{hold_id}?wait=2",
                                None,
                                {},
                            )
                        assert status == 200
                        if hold["state"] == "cleared":
                            break
                        assert hold["state"] in ("held", "awaiting_reply"), hold
                async with limit:
                    status, hold = await _call(
                        session,
                        gateway,
                        key,
                        "POST",
                        f"/v1/withdrawals/{hold_id}/broadcast",
                        {"txid": f"tx-{hold_id}"},
                        {},
                    )
                assert status == 200, hold
                assert hold["state"] == "released"

            await asyncio.gather(*(release(i) for i in ids))
            stop.set()
            await monkey

            async def bob_done() -> int:
                return await bob.gateway.db.read(
                    lambda tx: sum(c.state == "COMPLETED" for c in tx.conversations())
                )

            async with asyncio.timeout(120):
                while await bob_done() < HOLDS:
                    await asyncio.sleep(0.2)
                while True:  # every webhook of every hold reached the back office
                    seen = {(e["data"]["id"], e["type"]) for e in office.events()}
                    wanted = {
                        (hold_id, f"withdrawal.{state}")
                        for hold_id in ids
                        for state in ("held", "awaiting_reply", "cleared", "released")
                    }
                    if wanted <= seen:
                        break
                    await asyncio.sleep(0.2)
    finally:
        gateway.kill()
        await office.stop()

    with sqlite3.connect(tmp_path / "alice.db") as db:
        states = db.execute("SELECT state, count(*) FROM holds GROUP BY state").fetchall()
        pending = db.execute("SELECT count(*) FROM outbox WHERE state != 'delivered'").fetchone()
    assert states == [("released", HOLDS)]
    assert pending == (0,)
    inbound = await bob.gateway.db.read(lambda tx: tx.envelopes(direction="in"))
    # Exactly one STARTED and one COMPLETED per hold: resends were exact duplicates.
    counted = collections.Counter(envelope.transfer_state for envelope in inbound)
    assert sorted(counted.items()) == [("COMPLETED", HOLDS), ("STARTED", HOLDS)]
