"""Several `travelgate serve` processes on one database: the replicas of one node.

Every replica reads the same config file; they differ only in where they listen
(`TRAVELGATE_NODE_TRISA_LISTEN`, `TRAVELGATE_NODE_API_LISTEN`, port 0 here). The database
they share comes from the `replica_database` fixture: a SQLite file, or a fresh database on
the session's throwaway PostgreSQL server (ids sqlite / postgres).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from support.nodes import NodeSpec, TestPki, write_config
from support.processes import NodeProcess

LISTEN = "127.0.0.1:0"


@pytest.fixture(params=["sqlite", "postgres"])
def replica_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The `[node] database` value every replica of a test is configured with."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_server").database())
    return str(tmp_path / "replicas.db")


def write_replica_config(
    test_pki: TestPki, spec: NodeSpec, *, database: str, workdir: Path
) -> Path:
    """The one config file of a node's replicas (its keys kept in `workdir`)."""
    extra = {
        **spec.extra,
        "node": {**spec.extra.get("node", {}), "database": database},
        "storage": {
            "key_file": str(workdir / "storage.key"),
            "audit_key_file": str(workdir / "audit.key"),
        },
    }
    placeholder = workdir / "unused.db"  # `write_config` wants a path; `extra` sets the value
    return write_config(test_pki, dataclasses.replace(spec, extra=extra), database=placeholder)


class Replica:
    """One `travelgate serve` process of the node."""

    def __init__(self, config: Path) -> None:
        self.process = NodeProcess(
            "serve",
            "--config",
            str(config),
            env={"TRAVELGATE_NODE_TRISA_LISTEN": LISTEN, "TRAVELGATE_NODE_API_LISTEN": LISTEN},
        )
        self.trisa_port = 0
        self.base = ""

    def wait_started(self) -> None:
        self.trisa_port = self.process.wait_started()
        started = [e for e in self.process.events() if e.get("event") == "node started"][-1]
        self.base = f"http://127.0.0.1:{started['api_port']}"

    @property
    def alive(self) -> bool:
        return self.process.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no released claims, nothing flushed."""
        self.process.kill()


def start_replicas(config: Path, count: int) -> list[Replica]:
    """`count` replicas started together (they migrate the database at once, too)."""
    replicas = [Replica(config) for _ in range(count)]
    try:
        for replica in replicas:
            replica.wait_started()
    except BaseException:
        stop_replicas(replicas)
        raise
    return replicas


def stop_replicas(replicas: Sequence[Replica]) -> None:
    for replica in replicas:
        replica.process.stop_quietly()


class ReplicaClient:
    """The internal API of a node behind several replicas, as a load balancer would reach
    it: a call goes to the replica asked for, and to the next live one if that is down."""

    def __init__(self, replicas: Sequence[Replica], key: str) -> None:
        self.replicas = list(replicas)
        self.key = key
        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.session.close()

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        replica: int = 0,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        sent = {"Authorization": f"Bearer {self.key}", **(headers or {})}
        for attempt in range(300):
            target = self.replicas[(replica + attempt) % len(self.replicas)]
            if not target.alive:
                continue
            try:
                async with self.session.request(
                    method,
                    target.base + path,
                    json=body,
                    headers=sent,
                    timeout=aiohttp.ClientTimeout(total=15),
                ) as response:
                    return response.status, await response.json()
            except (aiohttp.ClientError, TimeoutError):
                await asyncio.sleep(0.05)  # that replica went down under us: the next one
        raise AssertionError(f"no replica answered {method} {path}")
