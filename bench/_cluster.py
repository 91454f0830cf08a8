"""Two real nodes on loopback for benchmarks: the dev PKI of `certs init` (RSA-4096)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from travelgate.cli import main as cli
from travelgate.config import load_config
from travelgate.logging import configure
from travelgate.node import Node, build_node
from travelgate.robots import RobotPolicy

ALICE, BOB = "alice.example", "bob.example"
BOB_ADDRESS = "bc1qbob0customer00000000000000000000000000"


def dev_pki(root: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        if cli(["certs", "init", str(root)]) != 0:
            raise RuntimeError("certs init failed")


@contextlib.asynccontextmanager
async def two_nodes(
    robot: RobotPolicy | None = RobotPolicy.SYNC_ACCEPT,
) -> AsyncIterator[tuple[Node, Node]]:
    """alice (plain node) and bob (robot) on port 0, wired to each other's real ports."""
    configure("warning")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        dev_pki(root)
        nodes = []
        for name, policy in (("alice", None), ("bob", robot)):
            env = {
                "TRAVELGATE_NODE_TRISA_LISTEN": "127.0.0.1:0",
                "TRAVELGATE_NODE_API_LISTEN": "127.0.0.1:0",
                "TRAVELGATE_LOGGING_LEVEL": "warning",
            }
            node = build_node(load_config(root / f"{name}.toml", env=env), robot=policy)
            await node.start()
            nodes.append(node)
        for node in nodes:
            for other in nodes:
                peer = node.gateway.directory.get(other.config.node.name)
                if peer is not None:
                    endpoint = f"127.0.0.1:{other.trisa_port}"
                    node.gateway.directory.put(dataclasses.replace(peer, endpoint=endpoint))
        try:
            yield nodes[0], nodes[1]
        finally:
            for node in nodes:
                await node.stop(grace=1)
