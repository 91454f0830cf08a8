"""Real travelgate nodes for integration tests: a test PKI, config files, a cluster.

Nodes listen on port 0; once every node of a cluster has started, each node's directory is
told the real ports of the others. Certificates are real (one CA per test session, plus
odd ones on demand) and RSA-2048 for speed; the gateway's minimum is 2048.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc

from travelgate import pki
from travelgate._pb.trisa.api.v1beta1 import api_pb2, api_pb2_grpc
from travelgate._toml import render_toml
from travelgate.config import load_config
from travelgate.node import Node, build_node
from travelgate.trisa import PEERS

KEY_SIZE = 2048

ALICE = "alice.example"
BOB = "bob.example"
ALICE_ADDRESS = "bc1qalice0customer0000000000000000000000"
BOB_ADDRESS = "bc1qbob0customer00000000000000000000000000"


def person(surname: str, given: str, town: str = "London") -> dict[str, Any]:
    return {
        "naturalPerson": {
            "name": {
                "nameIdentifier": [
                    {
                        "primaryIdentifier": surname,
                        "secondaryIdentifier": given,
                        "nameIdentifierType": "LEGL",
                    }
                ]
            },
            "geographicAddress": [
                {
                    "addressType": "HOME",
                    "streetName": "High Street",
                    "buildingNumber": "1",
                    "townName": town,
                    "country": "GB",
                }
            ],
            "dateAndPlaceOfBirth": {"dateOfBirth": "1980-01-31", "placeOfBirth": town},
            "countryOfResidence": "GB",
        }
    }


class TestPki:
    """A CA and node identities written under `root`, made once and reused."""

    __test__ = False  # not a test class, whatever pytest infers from the name

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ca = pki.make_authority("travelgate test CA", key_size=KEY_SIZE)
        root.mkdir(parents=True, exist_ok=True)
        (root / "ca.pem").write_bytes(self.ca.cert_pem)
        self._identities: dict[str, pki.Identity] = {}

    @property
    def trust(self) -> Path:
        return self.root / "ca.pem"

    def identity(self, name: str, **options: Any) -> pki.Identity:
        """The identity of `name` (issued by our CA unless `ca` is given), written once."""
        key = name if not options else f"{name}-{sorted(options.items())!r}"
        if key not in self._identities:
            ca = options.pop("ca", self.ca)
            identity = pki.issue_identity(ca, name, key_size=KEY_SIZE, **options)
            self._identities[key] = identity
        return self._identities[key]

    def rotate(self, name: str) -> pki.Identity:
        """Give `name` a new key and certificate (the next `write` uses them)."""
        self._identities[name] = pki.issue_identity(self.ca, name, key_size=KEY_SIZE)
        return self._identities[name]

    def write(self, name: str, folder: str | None = None, **options: Any) -> tuple[Path, Path]:
        identity = self.identity(name, **options)
        directory = self.root / (folder or name)
        pki.write_identity(directory, identity, force=True)
        return directory / "cert.pem", directory / "key.pem"

    def expired(self, name: str) -> pki.Identity:
        yesterday = datetime.now(UTC) - timedelta(days=1)
        return self.identity(name, not_after=yesterday)


@dataclasses.dataclass
class NodeSpec:
    name: str
    legal_name: str
    customers: list[dict[str, Any]]
    robot: str | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    delay: float = 0.2


def write_peers(root: Path, names: list[str], ports: Mapping[str, int] | None = None) -> Path:
    ports = ports or {}
    document = {
        "peer": [
            {
                "name": name,
                "endpoint": f"127.0.0.1:{ports.get(name, 1)}",
                "cert": f"{name}/cert.pem",
            }
            for name in names
        ]
    }
    path = root / "peers.toml"
    path.write_text(render_toml(document))
    return path


def write_config(test_pki: TestPki, spec: NodeSpec, *, database: Path) -> Path:
    cert, key = test_pki.write(spec.name)
    document: dict[str, Any] = {
        "node": {
            "name": spec.name,
            "legal_name": spec.legal_name,
            "country": "GB",
            "trisa_listen": "127.0.0.1:0",
            "api_listen": "127.0.0.1:0",
            "database": str(database),
        },
        "tls": {"cert": str(cert), "key": str(key), "trust": str(test_pki.trust)},
        "storage": {
            "key_file": str(database.with_suffix(".key")),
            "audit_key_file": str(database.with_suffix(".audit.key")),
        },
        "directory": {"file": "peers.toml"},
        "logging": {"level": "info"},
        # Tests fire bursts of concurrent calls at one node; shedding has tests of its own.
        "api": {"max_inflight": 256},
        "customers": spec.customers,
    }
    for section, values in spec.extra.items():
        document.setdefault(section, {}).update(values)
    path = test_pki.root / f"{spec.name}.toml"
    path.write_text(render_toml(document))
    return path


class Cluster:
    """In-process nodes wired to each other over real mTLS on loopback."""

    def __init__(
        self, test_pki: TestPki, workdir: Path, database_url: Callable[[], str] | None = None
    ) -> None:
        """`database_url` makes a new PostgreSQL database (one per node); without it, nodes
        keep SQLite files in `workdir`."""
        self.pki = test_pki
        self.workdir = workdir
        self._database_url = database_url
        self._urls: dict[str, str] = {}
        self.nodes: dict[str, Node] = {}
        self.specs: dict[str, NodeSpec] = {}

    async def start(self, *specs: NodeSpec, also: tuple[str, ...] = ()) -> None:
        """Start nodes; `also` names peers outside the cluster (e.g. a subprocess node)."""
        names = list(dict.fromkeys([*self.specs, *(s.name for s in specs), *also]))
        for name in names:
            self.pki.write(name)
        write_peers(self.pki.root, names)
        for spec in specs:
            self.specs[spec.name] = spec
            await self._start(spec)
        self.wire()

    async def _start(self, spec: NodeSpec) -> Node:
        env = dict(os.environ)
        if self._database_url is not None:
            if spec.name not in self._urls:
                self._urls[spec.name] = self._database_url()
            env["TRAVELGATE_NODE_DATABASE"] = self._urls[spec.name]
        config = load_config(
            write_config(self.pki, spec, database=self.workdir / f"{spec.name}.db"), env=env
        )
        robot = None
        if spec.robot:
            from travelgate.robots import RobotPolicy

            robot = RobotPolicy(spec.robot)
        node = build_node(config, robot=robot, delay=spec.delay)
        await node.start()
        self.nodes[spec.name] = node
        return node

    async def restart(self, name: str, *, rotate_key: bool = False) -> Node:
        """Stop a node and start it again on the same database (optionally with a new key)."""
        await self.nodes.pop(name).stop(grace=0.5)
        if rotate_key:
            self.pki.rotate(name)
        node = await self._start(self.specs[name])
        self.wire()
        return node

    def wire(self) -> None:
        for node in self.nodes.values():
            directory = node.gateway.directory
            for name, other in self.nodes.items():
                peer = directory.get(name)
                # Only peers.toml entries: a directory (GDS) answer already has the port.
                if peer is not None and peer.source == PEERS and other.server is not None:
                    directory.put(
                        dataclasses.replace(peer, endpoint=f"127.0.0.1:{other.trisa_port}")
                    )

    async def stop(self) -> None:
        for node in self.nodes.values():
            await node.stop(grace=0.5)
        self.nodes.clear()

    def channel(
        self, target: str, identity: pki.Identity | None, *, server_name: str | None = None
    ) -> grpc.aio.Channel:
        """A raw client channel to a node, presenting `identity` (None: no certificate)."""
        node = self.nodes[target]
        credentials = grpc.ssl_channel_credentials(
            root_certificates=self.pki.ca.cert_pem,
            private_key=identity.key_pem if identity else None,
            certificate_chain=identity.chain_pem if identity else None,
        )
        return grpc.aio.secure_channel(
            f"127.0.0.1:{node.trisa_port}",
            credentials,
            options=[("grpc.ssl_target_name_override", server_name or target)],
        )

    def stub(self, target: str, identity: pki.Identity | None) -> api_pb2_grpc.TRISANetworkStub:
        return api_pb2_grpc.TRISANetworkStub(self.channel(target, identity))


def two_node_specs(*, bob_robot: str | None = "sync-accept") -> tuple[NodeSpec, NodeSpec]:
    alice = NodeSpec(
        ALICE,
        "Alice VASP Ltd",
        [{"id": "cust-1", "addresses": [ALICE_ADDRESS], "person": person("Smith", "Alice")}],
    )
    bob = NodeSpec(
        BOB,
        "Bob VASP Ltd",
        [
            {
                "id": "bob-cust-1",
                "addresses": [BOB_ADDRESS],
                "person": person("Jones", "Bob", "Manchester"),
            }
        ],
        robot=bob_robot,
    )
    return alice, bob


__all__ = ["api_pb2"]
