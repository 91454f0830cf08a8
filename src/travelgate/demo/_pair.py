"""Two local nodes from the dev PKI: alice (the gateway) and bob (a robot counterparty).

Used by `make run`, `make demo` and the benchmarks. With `ephemeral=True` every listener
takes a free port and the two directories are told each other's real ports, so the pair
can run beside anything else on the machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from travelgate.config import load_config
from travelgate.node import Node, build_node
from travelgate.robots import RobotPolicy

ALICE = "alice.example"
BOB = "bob.example"
ALICE_CUSTOMER = "cust-1"
BOB_ADDRESS = "bc1qbob0customer00000000000000000000000000"
BOB_CUSTOMER = "bob-cust-1"


def ensure_pki(root: Path) -> None:
    """`travelgate certs init` into `root` (idempotent: existing keys are kept).

    A folder that cannot hold the PKI raises the command's own UsageError or ConfigError,
    so the operator reads the one line `certs init` would print.
    """
    from travelgate.commands.certs import init_pki

    init_pki(root, out=io.StringIO())


def _env(ephemeral: bool, database: Path | None, level: str) -> dict[str, str]:
    env = {"TRAVELGATE_LOGGING_LEVEL": level}
    if ephemeral:
        env["TRAVELGATE_NODE_TRISA_LISTEN"] = "127.0.0.1:0"
        env["TRAVELGATE_NODE_API_LISTEN"] = "127.0.0.1:0"
        # Minted addresses and callbacks then name the port the TRP server really got.
        env["TRAVELGATE_TRP_LISTEN"] = "127.0.0.1:0"
        env["TRAVELGATE_TRP_PUBLIC_URL"] = ""
    if database is not None:
        env["TRAVELGATE_NODE_DATABASE"] = str(database)
    return env


def load_node(
    root: Path,
    label: str,
    *,
    robot: RobotPolicy | None = None,
    ephemeral: bool = False,
    state: Path | None = None,
    level: str = "warning",
    delay: float = 1.0,
    settings: Mapping[str, str] | None = None,
) -> Node:
    """A demo node from `root`; `settings` are further TRAVELGATE_* overrides."""
    database = state / f"{label}.db" if state is not None else None
    env = {**_env(ephemeral, database, level), **(settings or {})}
    config = load_config(root / f"{label}.toml", env=env)
    return build_node(config, robot=robot, delay=delay)


def wire(*nodes: Node) -> None:
    """Tell each node's directory the real TRISA ports of the others."""
    for node in nodes:
        for other in nodes:
            peer = node.gateway.directory.get(other.config.node.name)
            if peer is not None and other.server is not None:
                endpoint = f"127.0.0.1:{other.trisa_port}"
                node.gateway.directory.put(dataclasses.replace(peer, endpoint=endpoint))


@contextlib.asynccontextmanager
async def running(*nodes: Node, grace: float = 1.0) -> AsyncIterator[tuple[Node, ...]]:
    started: list[Node] = []
    try:
        for node in nodes:
            await node.start()
            started.append(node)
        wire(*nodes)
        yield nodes
    finally:
        for node in reversed(started):
            await node.stop(grace=grace)
