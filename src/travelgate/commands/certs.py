"""`travelgate certs init DIR`: the development PKI and the demo node configurations.

Writes a CA, one mTLS identity per node, a TOML config per node (the contract of the TRISA
node, `travelgate serve --config`) and the `peers.toml` directory that wires the nodes
together. The command is idempotent: existing keys, certificates and configs are kept
byte for byte, only missing files are created, and `--force` starts everything afresh.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from travelgate import pki
from travelgate._toml import render_toml
from travelgate.commands._io import command_group
from travelgate.config import parse_listen
from travelgate.errors import ConfigError, UsageError

DEFAULT_NODES = ("alice.example", "bob.example")
CA_NAME = "travelgate development CA"
MIN_KEY_SIZE = 2048
MAX_KEY_SIZE = 16384
MAX_DAYS = 3650
TRISA_PORT_BASE = 8100
API_PORT_BASE = 8000
# New nodes take the first free offset from the bases; this bounds the search.
MAX_PORT_OFFSET = 1000
TRP_PORT_BASE = 8200
PEERS_FILE = "peers.toml"
# Labels that would collide with the files of the PKI itself.
_RESERVED_LABELS = frozenset({"peers"})


def register(groups: argparse._SubParsersAction[Any]) -> None:
    commands = command_group(
        groups,
        "certs",
        help="development PKI: CA, node certificates and demo configs",
        description="Development PKI for travelgate demo and test nodes.",
    )
    init = commands.add_parser(
        "init",
        help="create (or complete) a CA, node certificates and configs in DIR",
        description=(
            "Create in DIR a CA (ca.pem, ca.key), for each node a certificate and key "
            "(<label>/cert.pem, <label>/key.pem, where the label is the first DNS label of "
            "the node name), a config <label>.toml and peers.toml. Existing files are kept "
            "byte for byte and only missing ones are created, unless --force."
        ),
    )
    init.add_argument("dir", metavar="DIR", help="folder to write into (created if missing)")
    init.add_argument(
        "--node",
        dest="nodes",
        metavar="NAME",
        action="append",
        help=(
            "node name: certificate CN and DNS SAN (repeatable; default: "
            + " and ".join(DEFAULT_NODES)
            + ")"
        ),
    )
    init.add_argument(
        "--key-size",
        type=int,
        default=pki.DEFAULT_KEY_SIZE,
        metavar="BITS",
        help=f"RSA key size of new keys (default {pki.DEFAULT_KEY_SIZE}, at least {MIN_KEY_SIZE})",
    )
    init.add_argument(
        "--days",
        type=int,
        default=pki.DEFAULT_IDENTITY_DAYS,
        metavar="DAYS",
        help=f"validity of new node certificates (default {pki.DEFAULT_IDENTITY_DAYS})",
    )
    init.add_argument(
        "--force",
        action="store_true",
        help="regenerate everything: new CA, keys, certificates and configs",
    )
    init.set_defaults(handler=_init)


# -- what the configs say --------------------------------------------------------------------


@dataclass(frozen=True)
class DevNode:
    """One demo node: its TRISA name, the label naming its files, and its two ports."""

    name: str
    trisa_port: int = TRISA_PORT_BASE
    api_port: int = API_PORT_BASE

    @property
    def label(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def trp_port(self) -> int:
        """The TRP port follows the TRISA port's offset: 8200, 8201, ..."""
        return TRP_PORT_BASE + self.trisa_port - TRISA_PORT_BASE

    @property
    def title(self) -> str:
        return " ".join(part.capitalize() for part in self.label.split("-"))


@dataclass(frozen=True)
class _Customer:
    id: str
    address: str
    given_name: str
    family_name: str
    street: str
    building: str
    town: str
    birth_date: str
    birth_place: str


_SEED_CUSTOMERS = {
    "alice": _Customer(
        id="cust-1",
        address="bc1qalice0customer0000000000000000000000",
        given_name="Alice",
        family_name="Smith",
        street="Threadneedle Street",
        building="12",
        town="London",
        birth_date="1985-04-12",
        birth_place="London",
    ),
    "bob": _Customer(
        id="bob-cust-1",
        address="bc1qbob0customer00000000000000000000000000",
        given_name="Bob",
        family_name="Jones",
        street="Deansgate",
        building="7",
        town="Manchester",
        birth_date="1979-11-03",
        birth_place="Leeds",
    ),
}


def _seed_customer(node: DevNode) -> _Customer:
    known = _SEED_CUSTOMERS.get(node.label)
    if known is not None:
        return known
    return _Customer(
        id=f"{node.label}-cust-1",
        address=f"bc1q{node.label.replace('-', '')}0customer".ljust(42, "0"),
        given_name=node.title,
        family_name="Customer",
        street="High Street",
        building="1",
        town="London",
        birth_date="1990-01-01",
        birth_place="London",
    )


def node_config(node: DevNode) -> dict[str, Any]:
    """The config of one demo node (issue 5 contract); the one place its values live.

    Paths are relative: the node resolves them against the config file's folder.
    """
    label = node.label
    customer = _seed_customer(node)
    person = {
        "naturalPerson": {
            "name": {
                "nameIdentifier": [
                    {
                        "primaryIdentifier": customer.family_name,
                        "secondaryIdentifier": customer.given_name,
                        "nameIdentifierType": "LEGL",
                    }
                ]
            },
            # Address plus birth data satisfies every reading of the EU originator rule
            # (EU TFR 2023/1113 Art. 14(1)(d)), so demo transfers are never "incomplete".
            "geographicAddress": [
                {
                    "addressType": "HOME",
                    "streetName": customer.street,
                    "buildingNumber": customer.building,
                    "townName": customer.town,
                    "country": "GB",
                }
            ],
            "customerIdentification": customer.id,
            "dateAndPlaceOfBirth": {
                "dateOfBirth": customer.birth_date,
                "placeOfBirth": customer.birth_place,
            },
            "countryOfResidence": "GB",
        }
    }
    return {
        "node": {
            "name": node.name,
            "legal_name": f"{node.title} VASP Ltd",
            "country": "GB",
            "trisa_listen": f"127.0.0.1:{node.trisa_port}",
            "api_listen": f"127.0.0.1:{node.api_port}",
            "database": f"{label}.db",
        },
        "tls": {
            "cert": f"{label}/{pki.CERT_FILE}",
            "key": f"{label}/{pki.KEY_FILE}",
            "trust": pki.CA_CERT_FILE,
        },
        "storage": {"key_file": f"{label}-storage.key", "audit_key_file": f"{label}-audit.key"},
        "directory": {"file": PEERS_FILE},
        # TRP on loopback: the certificate also names 127.0.0.1 for the TRP client's check.
        "trp": {
            "enabled": True,
            "listen": f"127.0.0.1:{node.trp_port}",
            "public_url": f"https://127.0.0.1:{node.trp_port}",
        },
        "customers": [{"id": customer.id, "addresses": [customer.address], "person": person}],
    }


def _names_loopback(certificate: x509.Certificate) -> bool:
    """The certificate names 127.0.0.1 (the TRP client checks the host it calls)."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return False
    return ipaddress.ip_address("127.0.0.1") in names.value.get_values_for_type(x509.IPAddress)


def peers_document(nodes: Sequence[DevNode]) -> dict[str, Any]:
    """The static directory shared by the demo nodes (relative to its own folder)."""
    return {
        "peer": [
            {
                "name": node.name,
                "endpoint": f"127.0.0.1:{node.trisa_port}",
                "cert": f"{node.label}/{pki.CERT_FILE}",
            }
            for node in nodes
        ]
    }


# -- TOML rendering ------------------------------------------------------------------------------
# Hand-rendered so that no writer dependency is needed; tests read every file back with
# tomllib. Flat tables and arrays of flat tables are written inline, deeper ones as
# [section] / [[section]] headers, so a nested IVMS101 person stays readable.


# -- the command -----------------------------------------------------------------------------------


# What a run finds of a node: its whole identity, only its key, or nothing.
_Kept = pki.Identity | rsa.RSAPrivateKey | None


@dataclass(frozen=True)
class _NodeFiles:
    node: DevNode
    folder: Path
    has_cert: bool
    has_key: bool


def _init(args: argparse.Namespace) -> int:
    return init_pki(
        Path(args.dir),
        args.nodes or list(DEFAULT_NODES),
        key_size=args.key_size,
        days=args.days,
        force=args.force,
    )


def init_pki(
    root: Path,
    names: Sequence[str] = DEFAULT_NODES,
    *,
    key_size: int = pki.DEFAULT_KEY_SIZE,
    days: int = pki.DEFAULT_IDENTITY_DAYS,
    force: bool = False,
    out: TextIO | None = None,
) -> int:
    """`certs init`: UsageError for bad arguments, ConfigError for what DIR holds."""
    nodes = _parse_nodes(names)
    if key_size < MIN_KEY_SIZE:
        raise UsageError(f"--key-size must be at least {MIN_KEY_SIZE} bits (got {key_size})")
    if key_size > MAX_KEY_SIZE:
        raise UsageError(f"--key-size must be at most {MAX_KEY_SIZE} bits (got {key_size})")
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(f"--days must be between 1 and {MAX_DAYS} (got {days})")
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} exists and is not a directory")
    if root.exists():
        for node in nodes:
            if (root / node.label).exists() and not (root / node.label).is_dir():
                raise UsageError(f"{root / node.label} exists and is not a directory")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {root}: {exc.strerror}") from None
    return _Init(root, nodes, key_size, days, force, out or sys.stdout).run()


def _parse_nodes(names: Sequence[str]) -> list[DevNode]:
    nodes: list[DevNode] = []
    by_label: dict[str, str] = {}
    for name in names:
        problem = pki.dns_name_problem(name)
        if problem is not None:
            raise UsageError(problem)
        node = DevNode(name=name)
        if node.label in _RESERVED_LABELS:
            raise UsageError(f"node name {name!r}: the label {node.label!r} is reserved")
        if node.label in by_label:
            if by_label[node.label] == name:
                raise UsageError(f"node {name} is given twice")
            raise UsageError(
                f"nodes {by_label[node.label]} and {name} would share the files of "
                f"{node.label!r}; their first labels must differ"
            )
        by_label[node.label] = name
        nodes.append(node)
    return nodes


class _Init:
    """One run of `certs init`: check everything that exists, then create what is missing."""

    def __init__(
        self,
        root: Path,
        nodes: list[DevNode],
        key_size: int,
        days: int,
        force: bool,
        out: TextIO,
    ) -> None:
        self.root = root
        self.key_size = key_size
        self.days = days
        self.force = force
        self.out = out
        self.now = datetime.now(UTC)
        self.nodes = _with_ports(nodes, self._ports_in_use(nodes))

    def run(self) -> int:
        files = [
            _NodeFiles(
                node=node,
                folder=self.root / node.label,
                has_cert=(self.root / node.label / pki.CERT_FILE).exists(),
                has_key=(self.root / node.label / pki.KEY_FILE).exists(),
            )
            for node in self.nodes
        ]
        # Every check comes before the first write, so a refusal leaves DIR untouched.
        ca = None if self.force else self._existing_authority(files)
        kept: dict[str, _Kept] = {}
        if not self.force:
            kept = {f.node.name: self._existing_identity(f, ca) for f in files}

        if ca is None:
            ca = pki.make_authority(
                CA_NAME,
                key_size=self.key_size,
                valid_days=max(pki.DEFAULT_AUTHORITY_DAYS, self.days),
            )
            pki.write_authority(self.root, ca, force=self.force)
            self._say("created", pki.CA_CERT_FILE, pki.CA_KEY_FILE)
        else:
            self._say("kept", pki.CA_CERT_FILE, pki.CA_KEY_FILE)
            self._warn_expiry(ca.certificate, pki.CA_CERT_FILE)

        for entry in files:
            self._ensure_identity(entry, ca, kept.get(entry.node.name))
        for node in self.nodes:
            self._ensure_text(
                f"{node.label}.toml", render_toml(node_config(node), comment=_config_comment(node))
            )
        self._ensure_peers()
        configs = ", ".join(str(self.root / f"{n.label}.toml") for n in self.nodes)
        print(f"configs: {configs}", file=self.out)
        return 0

    # ports

    def _ports_in_use(self, nodes: Sequence[DevNode]) -> _PortsInUse:
        """The ports the node configs and peers.toml in DIR already give to someone.

        Configs that this run rewrites (--force) do not count; a node's own entries do
        not stop it from keeping its ports.
        """
        rewritten = {f"{node.label}.toml" for node in nodes} if self.force else set()
        ports = _PortsInUse()
        for path in sorted(self.root.glob("*.toml")):
            document = _read_toml_quietly(path)
            if path.name == PEERS_FILE:
                if not self.force:
                    for peer in _tables(document.get("peer")):
                        ports.claim(ports.trisa, peer.get("endpoint"), peer.get("name"))
                continue
            node = document.get("node")
            if path.name in rewritten or not isinstance(node, dict):
                continue
            ports.claim(ports.trisa, node.get("trisa_listen"), node.get("name"))
            ports.claim(ports.api, node.get("api_listen"), node.get("name"))
            ports.kept[path.name] = node
        return ports

    # checks

    def _existing_authority(self, files: Sequence[_NodeFiles]) -> pki.Authority | None:
        cert = self.root / pki.CA_CERT_FILE
        key = self.root / pki.CA_KEY_FILE
        if cert.exists() and key.exists():
            ca = pki.load_authority(self.root)
            problem = pki.validity_problem(ca.certificate, now=self.now)
            if problem is not None:
                raise ConfigError(f"{cert}: {problem}; run with --force to make a new PKI")
            return ca
        if cert.exists() or key.exists():
            present, missing = (cert, key) if cert.exists() else (key, cert)
            raise ConfigError(
                f"{present} exists but {missing} is missing; restore it, "
                "or run with --force to make a new PKI"
            )
        leaves = [f.folder for f in files if f.has_cert or f.has_key]
        if leaves:
            raise ConfigError(
                f"{self.root} has no CA ({pki.CA_CERT_FILE}, {pki.CA_KEY_FILE}) but already holds "
                f"node keys or certificates ({', '.join(str(p) for p in leaves)}); a new CA "
                "would not have issued them. Restore the CA, or run with --force to "
                "regenerate everything"
            )
        return None

    def _existing_identity(self, files: _NodeFiles, ca: pki.Authority | None) -> _Kept:
        """The kept identity, the kept key alone (its certificate is missing), or None."""
        cert_path = files.folder / pki.CERT_FILE
        key_path = files.folder / pki.KEY_FILE
        if files.has_cert and not files.has_key:
            raise ConfigError(
                f"{cert_path} exists but {key_path} is missing; restore the key, or remove "
                "the certificate to issue a new one, or run with --force"
            )
        if not files.has_key:
            return None
        if not files.has_cert:
            # A key without its certificate (e.g. an interrupted run): keep the key and
            # issue a certificate for it.
            return pki.read_private_key(key_path)
        assert ca is not None  # _existing_authority refuses leaves without a CA
        identity = pki.load_identity(files.folder)
        if not pki.issued_by(identity.certificate, ca.certificate):
            raise ConfigError(
                f"{cert_path} was not issued by {self.root / pki.CA_CERT_FILE}; "
                "run with --force to regenerate everything"
            )
        if identity.common_name != files.node.name:
            raise ConfigError(
                f"{cert_path} is for {identity.common_name!r}, not {files.node.name!r}; "
                "move it away or run with --force"
            )
        if not _names_loopback(identity.certificate):
            # Issued before the dev nodes spoke TRP: keep the key, certify 127.0.0.1 too.
            return identity.key
        return identity

    # actions

    def _ensure_identity(self, files: _NodeFiles, ca: pki.Authority, kept: _Kept) -> None:
        cert_name = f"{files.node.label}/{pki.CERT_FILE}"
        key_name = f"{files.node.label}/{pki.KEY_FILE}"
        if isinstance(kept, pki.Identity):
            self._say("kept", cert_name, key_name)
            self._warn_expiry(kept.certificate, cert_name)
            return
        key = kept
        # A leaf never outlives the CA that vouches for it.
        start = self.now - timedelta(minutes=5)
        end = min(start + timedelta(days=self.days), ca.certificate.not_valid_after_utc)
        identity = pki.issue_identity(
            ca,
            files.node.name,
            key_size=self.key_size,
            key=key,
            not_before=start,
            not_after=end,
            ip_addresses=["127.0.0.1"],
        )
        pki.write_identity(files.folder, identity, force=self.force)
        if key is None:
            self._say("created", cert_name, key_name)
        else:
            self._say("kept", key_name)
            self._say("created", cert_name)

    def _ensure_text(self, name: str, text: str) -> bool:
        path = self.root / name
        try:
            pki.write_file(path, text.encode(), replace=self.force)
        except FileExistsError:
            self._say("kept", name)
            return False
        except OSError as exc:
            raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
        self._say("created", name)
        return True

    def _ensure_peers(self) -> None:
        comment = (
            "Static TRISA directory of the demo nodes, written by `travelgate certs init`.\n"
            "cert pins each peer's certificate; paths are relative to this file's folder."
        )
        if self._ensure_text(PEERS_FILE, render_toml(peers_document(self.nodes), comment=comment)):
            return
        # An operator may have edited it: keep it, but say which nodes it does not know.
        path = self.root / PEERS_FILE
        try:
            document = tomllib.loads(path.read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(
                f"{path} is kept but unreadable ({exc}); fix it, or remove it to have it "
                "written again"
            ) from None
        peers = _tables(document.get("peer"))
        names = {peer.get("name") for peer in peers}
        missing = [node for node in self.nodes if node.name not in names]
        if missing:
            entries = ", ".join(f"{node.name} at 127.0.0.1:{node.trisa_port}" for node in missing)
            print(
                f"travelgate: warning: {self.root / PEERS_FILE} does not list {entries}; "
                "add a [[peer]] by hand or run with --force",
                file=sys.stderr,
            )

    def _warn_expiry(self, cert: x509.Certificate, name: str) -> None:
        warning = pki.certificate_expiry_warning(cert, now=self.now)
        if warning is not None:
            print(
                f"travelgate: warning: {self.root / name}: {warning}; run with --force to renew",
                file=sys.stderr,
            )

    def _say(self, verb: str, *names: str) -> None:
        for name in names:
            print(f"{verb:<8} {self.root / name}", file=self.out)


@dataclass
class _PortsInUse:
    """Port -> the node name that has it, from what DIR already holds."""

    trisa: dict[int, str] = field(default_factory=dict)
    api: dict[int, str] = field(default_factory=dict)
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)

    @staticmethod
    def claim(ports: dict[int, str], listen: object, owner: object) -> None:
        port = _port_of(listen)
        if port is not None:
            ports.setdefault(port, owner if isinstance(owner, str) else "")

    @staticmethod
    def free(ports: dict[int, str], port: int, name: str) -> bool:
        return ports.get(port, name) == name


def _with_ports(nodes: Sequence[DevNode], ports: _PortsInUse) -> list[DevNode]:
    """Each node with its own ports: those of its kept config, else the first free pair.

    Offsets from the bases keep the default pair on 8100/8000 and 8101/8001; a node added
    to a DIR that already has others takes the next pair nobody uses.
    """
    placed = []
    for node in nodes:
        kept = ports.kept.get(f"{node.label}.toml")
        if kept is not None:
            trisa, api = _port_of(kept.get("trisa_listen")), _port_of(kept.get("api_listen"))
            if trisa is not None and api is not None:
                placed.append(replace(node, trisa_port=trisa, api_port=api))
                continue
        offset = next(
            (
                offset
                for offset in range(MAX_PORT_OFFSET)
                if ports.free(ports.trisa, TRISA_PORT_BASE + offset, node.name)
                and ports.free(ports.api, API_PORT_BASE + offset, node.name)
            ),
            None,
        )
        if offset is None:
            raise ConfigError(f"{node.name}: no free port pair left below the search bound")
        trisa, api = TRISA_PORT_BASE + offset, API_PORT_BASE + offset
        ports.trisa[trisa] = ports.api[api] = node.name
        placed.append(replace(node, trisa_port=trisa, api_port=api))
    return placed


def _port_of(listen: object) -> int | None:
    if not isinstance(listen, str):
        return None
    try:
        return parse_listen(listen)[1]
    except ValueError:
        return None


def _read_toml_quietly(path: Path) -> dict[str, Any]:
    """A TOML file that may be anything an operator left in DIR; {} when unreadable."""
    try:
        return tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _tables(value: object) -> Iterable[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _config_comment(node: DevNode) -> str:
    return (
        f"travelgate demo node {node.name}, written by `travelgate certs init`.\n"
        "Relative paths resolve against this file's folder."
    )
