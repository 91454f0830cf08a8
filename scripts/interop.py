"""`make interop`: travelgate against trisa-refpeer, the TRISA reference library's own peer.

Starts `travelgate serve` (alice.example) and five `trisa-refpeer serve` processes (one per
decision policy) on loopback ports with a dev PKI from `travelgate certs init`, then drives
both directions through travelgate's real CLI and internal API: withdrawals cleared,
rejected, repaired, pending then called back, cancelled, COMPLETED after broadcast;
transfers from the Go peer to our customer, to an unknown address, tampered, on a
TransferStream; KeyExchange both ways; and the conformance suite against the Go peer,
whose report is written to docs/conformance-reference.md.

TRP (OpenVASP) runs both ways too: two Go peers also serve TRP through the library's
OpenVASP handlers (one decides by callback, one in the 200 body), a second travelgate node
(bob) answers with `[trp] immediate = true`, and the Go client sends inquiries to Travel
Addresses that travelgate mints. The TRP hosts are named `localhost` (see _trp_hosts).

One line per case, then `N passed, M failed`; exit 0 only when none failed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
PEER_BIN = ROOT / "interop" / "bin" / "trisa-refpeer"
RUN_DIR = ROOT / "interop" / "run"
REPORT = ROOT / "docs" / "conformance-reference.md"
TRAVELGATE = str(Path(sys.executable).parent / "travelgate")

ALICE = "alice.example"
# A second travelgate node, for the TRP answers of `[trp] immediate = true`.
BOB = "bob.example"
TRAVELGATE_NODES = (ALICE, BOB)
# One Go peer per decision; "hold" calls back only after the run, so a hold to it waits.
GO_PEERS = {
    "ref-accept.example": ("accept", 1.0),
    "ref-reject.example": ("reject", 1.0),
    "ref-repair.example": ("repair", 1.0),
    "ref-pending.example": ("pending", 1.0),
    "ref-hold.example": ("pending", 3600.0),
    "ref-trpnow.example": ("accept", 1.0),
}
# The Go peers that also serve TRP, and whether they decide in the inquiry's 200 body.
GO_TRP_PEERS = {"ref-accept.example": False, "ref-trpnow.example": True}
# The host name of every TRP URL in the run: the reference library cannot parse a Travel
# Address whose host is an IP literal with a port (docs/interop.md), so the certificates
# of the run also name localhost and the TRP servers are minted under it.
TRP_HOST = "localhost"
FINAL_HOLD_STATES = frozenset({"cleared", "released", "rejected", "review", "expired", "canceled"})


class ExpectationError(Exception):
    """A case's expectation did not hold; the message says what came instead."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ExpectationError(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def label(name: str) -> str:
    return name.split(".", 1)[0]


# -- the processes ---------------------------------------------------------------------------


@dataclass
class Process:
    """A subprocess whose output goes to a file under the run folder."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                found.append(value)
        return found

    def listening(self) -> bool:
        if self.process.poll() is not None:
            raise SystemExit(f"{self.name} exited:\n" + self.log.read_text())
        return any(line.get("event") == "listening" for line in self.lines())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start(name: str, argv: list[str], env: dict[str, str] | None = None) -> Process:
    log = RUN_DIR / f"{name}.log"
    handle: IO[bytes] = log.open("wb")
    process = subprocess.Popen(
        argv,
        stdout=handle,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    handle.close()
    return Process(name, process, log)


def cli(*args: str, stdin: bytes | None = None, timeout: float = 60) -> tuple[int, str, str]:
    done = subprocess.run(
        args, input=stdin, capture_output=True, timeout=timeout, check=False, cwd=RUN_DIR
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def wait_for(probe: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.1)
    raise ExpectationError(f"timed out after {timeout:g}s waiting for {what}")


# -- the world: PKI, configs, nodes ----------------------------------------------------------


@dataclass
class World:
    alice_trisa: str = ""
    alice_api: str = ""
    api_key: str = ""
    endpoints: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    customer_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    alice: Process | None = None
    peers: dict[str, Process] = field(default_factory=dict)
    trp_listen: dict[str, str] = field(default_factory=dict)
    bob_api: str = ""
    bob_api_key: str = ""
    bob: Process | None = None
    person: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def config(self) -> str:
        return str(RUN_DIR / "alice.toml")

    def config_of(self, node: str) -> str:
        return str(RUN_DIR / f"{label(node)}.toml")

    def files(self, name: str) -> tuple[str, str, str]:
        folder = RUN_DIR / label(name)
        return str(folder / "cert.pem"), str(folder / "key.pem"), str(RUN_DIR / "ca.pem")

    def stop(self) -> None:
        nodes = [node for node in (self.alice, self.bob) if node is not None]
        for process in [*self.peers.values(), *nodes]:
            process.stop()


def build_world() -> World:
    if RUN_DIR.exists():
        shutil.rmtree(RUN_DIR)
    RUN_DIR.mkdir(parents=True)
    nodes = [*TRAVELGATE_NODES, *GO_PEERS]
    argv = [TRAVELGATE, "certs", "init", str(RUN_DIR), "--key-size", "2048"]
    for node in nodes:
        argv += ["--node", node]
    code, out, err = cli(*argv)
    if code != 0:
        raise SystemExit(f"travelgate certs init failed ({code}):\n{out}{err}")
    world = World()
    for node in nodes:
        config = tomllib.loads((RUN_DIR / f"{label(node)}.toml").read_text(encoding="utf-8"))
        customer = config["customers"][0]
        world.addresses[node] = customer["addresses"][0]
        name = customer["person"]["naturalPerson"]["name"]["nameIdentifier"][0]
        world.customer_names[node] = (name["primaryIdentifier"], name["secondaryIdentifier"])
        world.person[node] = customer["person"]
        world.endpoints[node] = f"127.0.0.1:{free_port()}"
    for node in [*TRAVELGATE_NODES, *GO_TRP_PEERS]:
        world.trp_listen[node] = f"127.0.0.1:{free_port()}"
    _trp_hosts(nodes)
    world.alice_trisa = world.endpoints[ALICE]
    world.alice_api = f"127.0.0.1:{free_port()}"
    world.bob_api = f"127.0.0.1:{free_port()}"
    write_directory(world)
    world.api_key = _api_key(world.config)
    world.bob_api_key = _api_key(world.config_of(BOB))
    return world


def _api_key(config: str) -> str:
    code, out, err = cli(TRAVELGATE, "apikey", "create", "--config", config)
    if code != 0:
        raise SystemExit(f"travelgate apikey create failed ({code}):\n{out}{err}")
    return out.strip()


def _trp_hosts(nodes: list[str]) -> None:
    """Re-issue each node's certificate (same key, same CA) so that it also names localhost,
    the host of every TRP URL in the run; TRISA goes on using the node name."""
    from travelgate import pki

    authority = pki.load_authority(RUN_DIR)
    for node in nodes:
        folder = RUN_DIR / label(node)
        kept = pki.load_identity(folder)
        identity = pki.issue_identity(
            authority,
            node,
            key=kept.key,
            dns_names=[node, TRP_HOST],
            ip_addresses=["127.0.0.1"],
            not_after=kept.certificate.not_valid_after_utc,
        )
        pki.write_identity(folder, identity)


def write_directory(world: World) -> None:
    """peers.toml with the loopback ports of this run (the Go peers' customers included)."""
    lines = []
    for node, endpoint in world.endpoints.items():
        lines += [
            "[[peer]]",
            f'name = "{node}"',
            f'endpoint = "{endpoint}"',
            f'cert = "{label(node)}/cert.pem"',
            f'addresses = ["{world.addresses[node]}"]',
            "",
        ]
    (RUN_DIR / "peers.toml").write_text("\n".join(lines), encoding="utf-8")


def _travelgate_env(world: World, node: str, api_listen: str) -> dict[str, str]:
    trp_port = world.trp_listen[node].rsplit(":", 1)[1]
    return {
        "TRAVELGATE_NODE_TRISA_LISTEN": world.endpoints[node],
        "TRAVELGATE_NODE_API_LISTEN": api_listen,
        "TRAVELGATE_TRP_ENABLED": "true",
        "TRAVELGATE_TRP_LISTEN": world.trp_listen[node],
        "TRAVELGATE_TRP_PUBLIC_URL": f"https://{TRP_HOST}:{trp_port}",
        "TRAVELGATE_TRP_IMMEDIATE": "true" if node == BOB else "false",
    }


def start_nodes(world: World) -> None:
    world.alice = start(
        "alice",
        [TRAVELGATE, "serve", "--config", world.config],
        env=_travelgate_env(world, ALICE, world.alice_api),
    )
    world.bob = start(
        "bob",
        [TRAVELGATE, "serve", "--config", world.config_of(BOB)],
        env=_travelgate_env(world, BOB, world.bob_api),
    )
    for node, (policy, delay) in GO_PEERS.items():
        cert, key, trust = world.files(node)
        argv = [
            str(PEER_BIN), "serve", "--listen", world.endpoints[node],
            "--cert", cert, "--key", key, "--trust", trust, "--name", node,
            "--policy", policy, "--peer", f"{ALICE}={world.alice_trisa}",
            "--callback-after", f"{delay:g}",
            "--beneficiary-address", world.addresses[node],
        ]  # fmt: skip
        if node in GO_TRP_PEERS:
            surname, given = world.customer_names[node]
            argv += [
                "--trp-listen", world.trp_listen[node], "--trp-host", TRP_HOST,
                "--trp-customer", f"{surname}, {given}",
            ]  # fmt: skip
            if GO_TRP_PEERS[node]:
                argv.append("--trp-immediate")
        world.peers[node] = start(label(node), argv)
    wait_for(lambda: api_ready(world), 60, "travelgate's internal API")
    wait_for(lambda: api_ready(world, bob=True), 60, "bob's internal API")
    for node, process in world.peers.items():
        wait_for(process.listening, 30, f"trisa-refpeer {node}")


def api_ready(world: World, *, bob: bool = False) -> bool:
    node = world.bob if bob else world.alice
    assert node is not None
    if node.process.poll() is not None:
        raise SystemExit("travelgate serve exited:\n" + node.log.read_text())
    try:
        with urllib.request.urlopen(
            f"http://{world.bob_api if bob else world.alice_api}/healthz", timeout=2
        ):
            return True
    except OSError:
        return False


# -- talking to travelgate's API and the Go peer ---------------------------------------------


def api(
    world: World, method: str, path: str, body: Any = None, *, bob: bool = False
) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://{world.bob_api if bob else world.alice_api}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {world.bob_api_key if bob else world.api_key}",
            "Content-Type": "application/json",
            "Idempotency-Key": os.urandom(8).hex(),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=70) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as exc:
        raise ExpectationError(f"{method} {path}: HTTP {exc.code} {exc.read().decode()}") from None


def hold_to(world: World, peer: str) -> dict[str, Any]:
    surname, given = world.customer_names[peer]
    return api(
        world,
        "POST",
        "/v1/withdrawals",
        {
            "asset": "BTC",
            "network": "bitcoin",
            "amount": "0.5",
            "value": {"amount": "31000.00", "currency": "USD"},
            "destination": {"address": world.addresses[peer], "tag": None},
            "originator": {"customer_id": "cust-1"},
            "beneficiary": {"name": f"{given} {surname}"},
            "beneficiary_vasp": peer,
        },
    )


def settle(world: World, hold: dict[str, Any], *, until: frozenset[str]) -> list[str]:
    """Long-poll the hold until its state is one of `until`; returns the states seen."""
    states = [hold["state"]]
    deadline = time.monotonic() + 60
    while states[-1] not in until and time.monotonic() < deadline:
        view = api(world, "GET", f"/v1/withdrawals/{hold['id']}?wait=10")
        if view["state"] != states[-1]:
            states.append(view["state"])
    return states


def hold_code(view: dict[str, Any]) -> str:
    """The TRISA code behind a hold's decision, in either shape of the decision object."""
    decision = view.get("decision") or {}
    return str(decision.get("trisa_code") or decision.get("code") or decision.get("reason") or "")


def peer_envelopes(world: World, peer: str, envelope_id: str | None = None) -> list[dict[str, Any]]:
    return [
        line
        for line in world.peers[peer].lines()
        if line.get("event") == "envelope" and (envelope_id is None or line["id"] == envelope_id)
    ]


def payload_file(world: World, address: str, name: str) -> str:
    from google.protobuf import json_format

    from travelgate.conformance import Parties
    from travelgate.conformance._payloads import valid_payload

    surname, given = world.customer_names[ALICE]
    parties = Parties(
        beneficiary_address=address,
        beneficiary_name=(surname, given),
        vasp_legal_name="Ref Accept VASP Ltd",
        vasp_country="GB",
    )
    path = RUN_DIR / f"{name}.json"
    path.write_text(json_format.MessageToJson(valid_payload(parties)), encoding="utf-8")
    return str(path)


def go_send(world: World, peer: str, payload: str, *extra: str) -> tuple[Any, str]:
    """`trisa-refpeer send` from `peer` to alice; the opened reply and the stderr."""
    cert, key, trust = world.files(peer)
    code, out, err = cli(
        str(PEER_BIN), "send", "--to", world.alice_trisa, "--server-name", ALICE,
        "--cert", cert, "--key", key, "--trust", trust, "--payload", payload, *extra,
    )  # fmt: skip
    check(code == 0, f"trisa-refpeer send exited {code}: {err.strip()}")
    return json.loads(out), err


def error_code(reply: dict[str, Any]) -> str:
    error = reply.get("error") or {}
    return str(error.get("code", ""))


# -- the cases -------------------------------------------------------------------------------

Case = Callable[[World], str]
CASES: list[tuple[str, Case]] = []


def case(name: str) -> Callable[[Case], Case]:
    def register(function: Case) -> Case:
        CASES.append((name, function))
        return function

    return register


_SHARED: dict[str, Any] = {}


@case("outbound.sync_accept")
def _sync_accept(world: World) -> str:
    hold = hold_to(world, "ref-accept.example")
    states = settle(world, hold, until=FINAL_HOLD_STATES)
    check(states[-1] == "cleared", f"hold went {' -> '.join(states)}, expected cleared")
    view = api(world, "GET", f"/v1/withdrawals/{hold['id']}")
    seen = peer_envelopes(world, "ref-accept.example", view["envelope_id"])
    check(len(seen) == 1, f"the Go peer logged {len(seen)} envelopes for the exchange")
    check(seen[0]["transferState"] == "STARTED", f"Go peer saw {seen[0]['transferState']}")
    check(seen[0]["identity"] is not None, "the Go peer could not open travelgate's envelope")
    _SHARED["cleared"] = view
    return " -> ".join(states)


@case("outbound.completed_after_broadcast")
def _completed(world: World) -> str:
    view = _SHARED.get("cleared")
    check(view is not None, "needs outbound.sync_accept")
    assert view is not None
    released = api(world, "POST", f"/v1/withdrawals/{view['id']}/broadcast", {"txid": "0xabc1"})
    check(released["state"] == "released", f"broadcast left the hold {released['state']}")
    peer = "ref-accept.example"

    def completed() -> list[dict[str, Any]]:
        return [
            e
            for e in peer_envelopes(world, peer, view["envelope_id"])
            if e["transferState"] == "COMPLETED"
        ]

    wait_for(lambda: bool(completed()), 30, "the COMPLETED envelope at the Go peer")
    echo = completed()[0]
    check(echo["reply"] == "COMPLETED", f"Go peer answered {echo['reply']}")
    return "COMPLETED delivered, Go peer echoed COMPLETED"


@case("outbound.reject")
def _reject(world: World) -> str:
    hold = hold_to(world, "ref-reject.example")
    states = settle(world, hold, until=FINAL_HOLD_STATES)
    check(states[-1] == "rejected", f"hold went {' -> '.join(states)}, expected rejected")
    view = api(world, "GET", f"/v1/withdrawals/{hold['id']}")
    return f"{' -> '.join(states)} ({hold_code(view)})"


@case("outbound.repair")
def _repair(world: World) -> str:
    hold = hold_to(world, "ref-repair.example")
    states = settle(world, hold, until=FINAL_HOLD_STATES)
    check(states[-1] == "review", f"hold went {' -> '.join(states)}, expected review")
    return " -> ".join(states)


@case("outbound.pending_then_callback")
def _pending(world: World) -> str:
    hold = hold_to(world, "ref-pending.example")
    states = settle(world, hold, until=FINAL_HOLD_STATES)
    check(states[-1] == "cleared", f"hold went {' -> '.join(states)}, expected cleared")
    view = api(world, "GET", f"/v1/withdrawals/{hold['id']}")
    peer = world.peers["ref-pending.example"]
    wait_for(
        lambda: any(
            e.get("event") == "callback" and e["id"] == view["envelope_id"] for e in peer.lines()
        ),
        10,
        "the Go peer's callback record",
    )
    callback = next(
        e for e in peer.lines() if e.get("event") == "callback" and e["id"] == view["envelope_id"]
    )
    check("error" not in callback, f"callback failed: {callback.get('error')}")
    reply = callback["reply"]
    check(
        reply.get("transferState") == "ACCEPTED" and "payload" in reply,
        f"travelgate answered the callback with {reply}",
    )
    return f"{' -> '.join(states)}; callback echoed ACCEPTED"


@case("outbound.cancel")
def _cancel(world: World) -> str:
    hold = hold_to(world, "ref-hold.example")
    states = settle(world, hold, until=FINAL_HOLD_STATES | {"awaiting_reply"})
    check(states[-1] == "awaiting_reply", f"hold went {' -> '.join(states)}")
    waiting = api(world, "GET", f"/v1/withdrawals/{hold['id']}")
    started = peer_envelopes(world, "ref-hold.example", waiting["envelope_id"])
    check(bool(started) and "pending" in started[0], "the Go peer did not answer PENDING")
    window = started[0]["pending"]
    canceled = api(world, "POST", f"/v1/withdrawals/{hold['id']}/cancel")
    check(canceled["state"] == "canceled", f"cancel left the hold {canceled['state']}")
    view = api(world, "GET", f"/v1/withdrawals/{hold['id']}")
    peer = "ref-hold.example"
    wait_for(
        lambda: any(e["error"] for e in peer_envelopes(world, peer, view["envelope_id"])),
        30,
        "the cancellation envelope at the Go peer",
    )
    sent = next(e for e in peer_envelopes(world, peer, view["envelope_id"]) if e["error"])
    return (
        f"PENDING until {window['replyNotAfter']}, hold deadline {waiting['deadline']}; "
        f"cancel: Go peer got {sent['transferState']} {sent['error']['code']} "
        f"retry={str(sent['error']['retry']).lower()}, answered {sent['reply']}"
    )


@case("outbound.transfer_send_cli")
def _transfer_send(world: World) -> str:
    peer = "ref-accept.example"
    surname, given = world.customer_names[peer]
    from google.protobuf import json_format

    from travelgate.conformance import Parties
    from travelgate.conformance._payloads import valid_payload

    parties = Parties(
        beneficiary_address=world.addresses[peer],
        beneficiary_name=(surname, given),
        vasp_legal_name="Alice VASP Ltd",
    )
    path = RUN_DIR / "transfer-send.json"
    path.write_text(json_format.MessageToJson(valid_payload(parties)), encoding="utf-8")
    code, out, err = cli(
        TRAVELGATE, "transfer", "send", "--config", world.config, "--to", peer,
        "--payload", str(path),
    )  # fmt: skip
    check(code == 0, f"travelgate transfer send exited {code}: {err.strip()[-300:]}")
    reply = json.loads(out)
    check(reply.get("transferState") == "ACCEPTED", f"reply {reply.get('transferState')}")
    check("payload" in reply, f"reply not opened: {reply.get('error')}")
    return "ACCEPTED, the Go peer's sealed reply opened in travelgate"


@case("keys.exchange_outbound")
def _keys_out(world: World) -> str:
    peer = "ref-accept.example"
    code, out, err = cli(TRAVELGATE, "keys", "exchange", "--config", world.config, "--to", peer)
    check(code == 0, f"travelgate keys exchange exited {code}: {err.strip()[-300:]}")
    got = json.loads(out)["public_key_signature"]
    code, expected, err = cli(TRAVELGATE, "keys", "pks", world.files(peer)[0])
    check(code == 0, f"travelgate keys pks exited {code}: {err.strip()}")
    check(got == expected.strip(), f"got {got}, the Go peer's certificate has {expected.strip()}")
    return f"Go peer's key {got[:24]}..."


@case("keys.exchange_inbound")
def _keys_in(world: World) -> str:
    payload = _SHARED.setdefault(
        "payload", payload_file(world, world.addresses[ALICE], "inbound-accepted")
    )
    _reply, err = go_send(world, "ref-accept.example", payload)
    code, expected, _err = cli(TRAVELGATE, "keys", "pks", world.files(ALICE)[0])
    check(code == 0, "travelgate keys pks failed")
    check(expected.strip() in err, f"Go peer learnt {err.strip()}, expected {expected.strip()}")
    return f"travelgate's key {expected.strip()[:24]}..."


@case("inbound.accepted")
def _inbound_accepted(world: World) -> str:
    payload = _SHARED.setdefault(
        "payload", payload_file(world, world.addresses[ALICE], "inbound-accepted")
    )
    reply, _err = go_send(world, "ref-accept.example", payload)
    check(reply["transferState"] == "ACCEPTED", f"travelgate answered {reply}")
    check("payload" in reply, f"the Go peer could not open the reply: {reply.get('error')}")
    identity = json.dumps(reply["payload"].get("identity", {}))
    surname, _given = world.customer_names[ALICE]
    check(surname in identity, "the reply does not carry our customer's identity")
    _SHARED["inbound_id"] = reply["id"]
    return "ACCEPTED with our beneficiary's identity, opened by the Go peer"


@case("inbound.completed")
def _inbound_completed(world: World) -> str:
    envelope_id = _SHARED.get("inbound_id")
    check(envelope_id is not None, "needs inbound.accepted")
    reply, _err = go_send(
        world, "ref-accept.example", _SHARED["payload"], "--id", str(envelope_id),
        "--state", "COMPLETED",
    )  # fmt: skip
    check(reply["transferState"] == "COMPLETED", f"travelgate answered {reply}")
    return "COMPLETED echoed"


@case("inbound.unknown_address")
def _inbound_unknown(world: World) -> str:
    from travelgate.conformance._payloads import unknown_address

    payload = payload_file(world, unknown_address(), "inbound-unknown")
    reply, _err = go_send(world, "ref-accept.example", payload)
    check(reply["transferState"] == "REJECTED", f"travelgate answered {reply}")
    check(error_code(reply) == "UNKNOWN_WALLET_ADDRESS", f"code {error_code(reply)}")
    return "REJECTED UNKNOWN_WALLET_ADDRESS"


_TAMPERS = {
    "hmac": "INVALID_SIGNATURE",
    "ciphertext": "INVALID_SIGNATURE",
    "key": "INVALID_KEY",
    "algorithm": "UNHANDLED_ALGORITHM",
    "unsealed": "BAD_REQUEST",
}


def _tamper_case(tamper: str, expected: str) -> Case:
    def run(world: World) -> str:
        payload = _SHARED.setdefault(
            "payload", payload_file(world, world.addresses[ALICE], "inbound-accepted")
        )
        reply, _err = go_send(world, "ref-accept.example", payload, "--tamper", tamper)
        retry = (reply.get("error") or {}).get("retry", False)
        check(error_code(reply) == expected, f"travelgate answered {reply}")
        return f"{reply['transferState']} {expected} retry={str(retry).lower()}"

    return run


for _tamper, _expected in _TAMPERS.items():
    case(f"inbound.tamper.{_tamper}")(_tamper_case(_tamper, _expected))


@case("inbound.transfer_stream_20")
def _stream(world: World) -> str:
    payload = _SHARED.setdefault(
        "payload", payload_file(world, world.addresses[ALICE], "inbound-accepted")
    )
    replies, _err = go_send(world, "ref-accept.example", payload, "--stream", "20")
    check(len(replies) == 20, f"{len(replies)} replies")
    states = {reply["transferState"] for reply in replies}
    check(states == {"ACCEPTED"}, f"states {sorted(states)}")
    check(all("payload" in reply for reply in replies), "a reply did not open")
    check(len({reply["id"] for reply in replies}) == 20, "replies do not carry 20 distinct ids")
    return "20 ACCEPTED replies, in order, all opened by the Go peer"


@case("envelopes.open_both_ways")
def _open_both_ways(world: World) -> str:
    opened = unopened = 0
    for peer in GO_PEERS:
        for line in peer_envelopes(world, peer):
            if line["peer"] != ALICE or line["error"]:
                continue  # error-only envelopes carry no payload to open
            if line["identity"] is None:
                unopened += 1
            else:
                opened += 1
    check(opened > 0 and unopened == 0, f"{unopened} of travelgate's envelopes did not open")
    return f"{opened} envelopes sealed by travelgate opened in the Go peer"


@case("conformance.required")
def _conformance(world: World) -> str:
    peer = "ref-accept.example"
    output = RUN_DIR / "conformance.txt"
    surname, given = world.customer_names[peer]
    code, out, err = cli(
        TRAVELGATE, "conformance", "--target", world.endpoints[peer], "--config", world.config,
        "--target-name", peer, "--beneficiary-address", world.addresses[peer],
        "--beneficiary-name", f"{surname}, {given}", "--level", "required",
        "--output", str(output),
        timeout=300,
    )  # fmt: skip
    if output.exists():
        write_report(output.read_text(encoding="utf-8"))
    summary = out.strip().splitlines()[-1] if out.strip() else err.strip()[-300:]
    check(code == 0, f"exit {code}: {summary}")
    return summary


@case("conformance.review_after_repair")
def _conformance_review(world: World) -> str:
    """The one case the accepting peer skips: REVIEW after a repair request."""
    peer = "ref-repair.example"
    surname, given = world.customer_names[peer]
    code, out, err = cli(
        TRAVELGATE, "conformance", "--target", world.endpoints[peer], "--config", world.config,
        "--target-name", peer, "--beneficiary-address", world.addresses[peer],
        "--beneficiary-name", f"{surname}, {given}", "--case", "exchange.review",
        timeout=120,
    )  # fmt: skip
    lines = out.strip().splitlines()
    check(code == 0, f"exit {code}: {(lines or [err.strip()])[-1]}")
    check(any(line.startswith("PASS  exchange.review") for line in lines), f"{lines[1:2]}")
    return "exchange.review PASS against the repairing Go peer"


# -- TRP (OpenVASP) ---------------------------------------------------------------------------


def trp_events(
    world: World, peer: str, event: str, identifier: str | None = None
) -> list[dict[str, Any]]:
    return [
        line
        for line in world.peers[peer].lines()
        if line.get("event") == event
        and (identifier is None or line.get("requestIdentifier") == identifier)
    ]


def go_travel_address(world: World, peer: str) -> str:
    listening = next(line for line in world.peers[peer].lines() if line.get("event") == "listening")
    address: str = listening["trpTravelAddress"]
    return address


def trp_withdrawal(
    world: World, peer: str, *, address: str | None, name: tuple[str, str] | None = None
) -> dict[str, Any]:
    """A withdrawal to the Go peer's Travel Address, for its customer unless `name`."""
    surname, given = name or world.customer_names[peer]
    destination: dict[str, Any] = {"travel_address": go_travel_address(world, peer)}
    if address is not None:
        destination["address"] = address
    return api(
        world,
        "POST",
        "/v1/withdrawals",
        {
            "asset": "BTC",
            "network": "bitcoin",
            "amount": "0.5",
            "value": {"amount": "31000.00", "currency": "USD"},
            "destination": destination,
            "originator": {"customer_id": "cust-1"},
            "beneficiary": {"name": f"{given} {surname}"},
        },
    )


def trp_outcome(world: World, peer: str, hold: dict[str, Any], expected: str) -> dict[str, Any]:
    """Settle the hold, check its state and the Go peer's record of the inquiry."""
    states = settle(world, hold, until=FINAL_HOLD_STATES)
    check(states[-1] == expected, f"hold went {' -> '.join(states)}, expected {expected}")
    view = api(world, "GET", f"/v1/withdrawals/{hold['id']}")
    seen = trp_events(world, peer, "trp_inquiry", view["envelope_id"])
    check(len(seen) == 1, f"the Go peer logged {len(seen)} inquiries for the transfer")
    inquiry = seen[0]
    check(
        inquiry.get("asset") == {"dti": "4H95J0R2X", "slip0044": "BTC"}
        and inquiry.get("amount") == 0.5,
        f"the Go peer read asset {inquiry.get('asset')} amount {inquiry.get('amount')}",
    )
    counterparty = view.get("counterparty") or {}
    check(
        counterparty.get("name") == peer and counterparty.get("protocol") == "trp",
        f"counterparty {counterparty}",
    )
    view["_trail"] = " -> ".join(states)
    return view


def wait_resolution_sent(world: World, peer: str, identifier: str) -> dict[str, Any]:
    wait_for(
        lambda: bool(trp_events(world, peer, "trp_resolution", identifier)),
        30,
        "the Go peer's resolution record",
    )
    sent = trp_events(world, peer, "trp_resolution", identifier)[0]
    check(sent.get("delivered") is True, f"the resolution POST failed: {sent.get('error')}")
    return sent


@case("trp.outbound.approved")
def _trp_approved(world: World) -> str:
    peer = "ref-accept.example"
    hold = trp_withdrawal(world, peer, address=world.addresses[peer])
    view = trp_outcome(world, peer, hold, "cleared")
    wait_resolution_sent(world, peer, view["envelope_id"])
    check(hold_code(view) == "REPLY.ACCEPTED", f"decision {view.get('decision')}")
    _SHARED["trp_cleared"] = view
    return f"{view['_trail']}; acknowledged, the library's client POSTed the approval (204)"


@case("trp.outbound.broadcast_txid")
def _trp_txid(world: World) -> str:
    view = _SHARED.get("trp_cleared")
    check(view is not None, "needs trp.outbound.approved")
    assert view is not None
    released = api(world, "POST", f"/v1/withdrawals/{view['id']}/broadcast", {"txid": "trp-tx-1"})
    check(released["state"] == "released", f"broadcast left the hold {released['state']}")
    peer = "ref-accept.example"
    wait_for(
        lambda: bool(trp_events(world, peer, "trp_confirmation", view["envelope_id"])),
        30,
        "the txid confirmation at the Go peer",
    )
    got = trp_events(world, peer, "trp_confirmation", view["envelope_id"])[0]
    check(got["txid"] == "trp-tx-1" and got["answer"] == "204", f"the Go peer logged {got}")
    return 'openvasp.TransferConfirmation took {"txid": "trp-tx-1"}: 204'


@case("trp.outbound.rejected")
def _trp_rejected(world: World) -> str:
    peer = "ref-accept.example"
    hold = trp_withdrawal(world, peer, address=world.addresses[peer], name=("Else", "Somebody"))
    view = trp_outcome(world, peer, hold, "rejected")
    wait_resolution_sent(world, peer, view["envelope_id"])
    reason = str((view.get("decision") or {}).get("reason", ""))
    check("does not match" in reason, f"the Go peer's reason was not kept: {view.get('decision')}")
    return f"{view['_trail']} ({hold_code(view)}: {reason!r})"


@case("trp.outbound.address_mismatch")
def _trp_mismatch(world: World) -> str:
    peer = "ref-accept.example"
    wanted = "bc1qinteropmismatch000000000000000000000"
    hold = trp_withdrawal(world, peer, address=wanted)
    view = trp_outcome(world, peer, hold, "review")
    check(hold_code(view) == "TRP.ADDRESS_MISMATCH", f"decision {view.get('decision')}")
    approved = str((view.get("destination") or {}).get("approved_address"))
    check(approved == world.addresses[peer], f"approved_address {approved}")
    _SHARED["trp_review"] = view
    return f"{view['_trail']} (TRP.ADDRESS_MISMATCH, approved {approved[:16]}...)"


@case("trp.outbound.cancel_after_approval")
def _trp_cancel(world: World) -> str:
    view = _SHARED.get("trp_review")
    check(view is not None, "needs trp.outbound.address_mismatch")
    assert view is not None
    canceled = api(world, "POST", f"/v1/withdrawals/{view['id']}/cancel")
    check(canceled["state"] == "canceled", f"cancel left the hold {canceled['state']}")
    peer = "ref-accept.example"
    wait_for(
        lambda: bool(trp_events(world, peer, "trp_confirmation", view["envelope_id"])),
        30,
        "the cancel confirmation at the Go peer",
    )
    got = trp_events(world, peer, "trp_confirmation", view["envelope_id"])[0]
    check(bool(got["canceled"]) and got["answer"] == "204", f"the Go peer logged {got}")
    return f'review -> canceled; the Go peer took {{"canceled": {got["canceled"]!r}}}: 204'


@case("trp.outbound.immediate_approved")
def _trp_now_approved(world: World) -> str:
    peer = "ref-trpnow.example"
    hold = trp_withdrawal(world, peer, address=None)
    view = trp_outcome(world, peer, hold, "cleared")
    destination = view.get("destination") or {}
    check(
        destination.get("address") == world.addresses[peer],
        f"the approved address did not become the destination: {destination}",
    )
    return f"{view['_trail']}; approval in the 200 body, its address became the destination"


@case("trp.outbound.immediate_rejected")
def _trp_now_rejected(world: World) -> str:
    peer = "ref-trpnow.example"
    hold = trp_withdrawal(world, peer, address=None, name=("Else", "Somebody"))
    view = trp_outcome(world, peer, hold, "rejected")
    return f"{view['_trail']} ({hold_code(view)}), rejection in the 200 body"


def trp_inquiry_file(world: World, sender: str, receiver: str, name: str) -> str:
    """The inquiry the Go client sends: `sender`'s customer pays `receiver`'s."""
    legal_name = f"{label(sender).replace('-', ' ').title()} VASP Ltd"
    document = {
        "asset": {"dti": "4H95J0R2X"},
        "amount": 0.25,
        "IVMS101": {
            "originator": {
                "originatorPersons": [world.person[sender]],
                "accountNumber": [world.addresses[sender]],
            },
            "beneficiary": {"beneficiaryPersons": [world.person[receiver]]},
            "originatingVASP": {
                "originatingVASP": {
                    "legalPerson": {
                        "name": {
                            "nameIdentifier": [
                                {
                                    "legalPersonName": legal_name,
                                    "legalPersonNameIdentifierType": "LEGL",
                                }
                            ]
                        },
                        "geographicAddress": [
                            {
                                "addressType": "GEOG",
                                "streetName": "High Street",
                                "buildingNumber": "1",
                                "townName": "London",
                                "country": "GB",
                            }
                        ],
                        "countryOfRegistration": "GB",
                    }
                }
            },
        },
    }
    path = RUN_DIR / f"{name}.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return str(path)


def go_trp_send(world: World, peer: str, to: str, inquiry: str, *extra: str) -> dict[str, Any]:
    cert, key, trust = world.files(peer)
    code, out, err = cli(
        str(PEER_BIN), "trp-send", "--to", to, "--cert", cert, "--key", key, "--trust", trust,
        "--inquiry", inquiry, *extra,
    )  # fmt: skip
    check(code == 0, f"trisa-refpeer trp-send exited {code}: {err.strip()[-300:]}")
    result: dict[str, Any] = json.loads(out)
    return result


def mint(world: World, customer: str, *, bob: bool = False) -> str:
    minted = api(world, "POST", f"/v1/customers/{customer}/travel-addresses", {}, bob=bob)
    address: str = minted["travel_address"]
    return address


def deposits_for(world: World, identifier: str, *, bob: bool = False) -> list[dict[str, Any]]:
    page = api(world, "GET", "/v1/deposits?limit=100", bob=bob)
    return [item for item in page["items"] if item["envelope_id"] == identifier]


def check_answer_headers(result: dict[str, Any]) -> None:
    headers = result.get("answerHeaders") or {}
    check(headers.get("apiVersion") == "3.1.0", f"answer api-version {headers.get('apiVersion')}")
    check(
        headers.get("requestIdentifier") == result["requestIdentifier"],
        f"request-identifier not echoed: {headers}",
    )
    check("answerInvalid" not in result, f"trp.Resolution.Validate: {result.get('answerInvalid')}")


@case("trp.inbound.callback_approved")
def _trp_in_callback(world: World) -> str:
    peer = "ref-accept.example"
    address = mint(world, "cust-1")
    _SHARED["alice_travel_address"] = address
    inquiry = trp_inquiry_file(world, peer, ALICE, "trp-inquiry-alice")
    result = go_trp_send(world, peer, address, inquiry, "--confirm", "go-trp-tx-1")
    check_answer_headers(result)
    check(result.get("answer") == {"version": "3.1.0"}, f"answer {result.get('answer')}")
    got = result.get("resolution")
    check(got is not None, "no resolution reached the Go callback within 30 s")
    assert got is not None
    check(not got.get("invalid"), f"the library refused our resolution: {got.get('invalid')}")
    check(got["apiVersion"] == "3.1.0", f"resolution api-version {got['apiVersion']}")
    check(
        got["requestIdentifier"] == result["requestIdentifier"],
        f"resolution request-identifier {got['requestIdentifier']}",
    )
    approved = (got.get("resolution") or {}).get("approved") or {}
    check(approved.get("address") == world.addresses[ALICE], f"approved {approved}")
    confirmation = result.get("confirmation") or {}
    check(confirmation.get("delivered") is True, f"txid confirmation: {confirmation}")
    found = deposits_for(world, result["requestIdentifier"])
    check(len(found) == 1, f"{len(found)} deposits for the inquiry")
    check(found[0]["counterparty"]["protocol"] == "trp", f"deposit {found[0]['counterparty']}")
    _SHARED["trp_inbound"] = (inquiry, result)
    return (
        f'ack {{"version": "3.1.0"}}, approval at the Go callback (trp.Resolution valid), '
        f"txid 204; deposit {found[0]['state']}"
    )


@case("trp.inbound.duplicate")
def _trp_in_duplicate(world: World) -> str:
    sent = _SHARED.get("trp_inbound")
    check(sent is not None, "needs trp.inbound.callback_approved")
    assert sent is not None
    inquiry, first = sent
    again = go_trp_send(
        world, "ref-accept.example", _SHARED["alice_travel_address"], inquiry,
        "--request-id", first["requestIdentifier"], "--callback", first["callback"],
    )  # fmt: skip
    check(again.get("answer") == first.get("answer"), f"answer {again.get('answer')}")
    check_answer_headers(again)
    found = deposits_for(world, first["requestIdentifier"])
    check(len(found) == 1, f"{len(found)} deposits after the repeat")
    return "same 200 answer, still one deposit"


@case("trp.inbound.wrong_api_version")
def _trp_in_version(world: World) -> str:
    peer = "ref-accept.example"
    inquiry = trp_inquiry_file(world, peer, ALICE, "trp-inquiry-alice")
    result = go_trp_send(
        world, peer, _SHARED.get("alice_travel_address") or mint(world, "cust-1"), inquiry,
        "--api-version", "3.2.0", "--wait", "0",
    )  # fmt: skip
    error = result.get("error") or {}
    check(error.get("code") == 400, f"travelgate answered {result}")
    check(not deposits_for(world, result["requestIdentifier"]), "a deposit was stored")
    return f"400 {error.get('message')!r}, nothing stored"


@case("trp.inbound.immediate_approved")
def _trp_in_immediate(world: World) -> str:
    peer = "ref-trpnow.example"
    address = mint(world, "bob-cust-1", bob=True)
    inquiry = trp_inquiry_file(world, peer, BOB, "trp-inquiry-bob")
    result = go_trp_send(world, peer, address, inquiry, "--confirm", "go-trp-tx-2")
    check_answer_headers(result)
    approved = (result.get("answer") or {}).get("approved") or {}
    check(approved.get("address") == world.addresses[BOB], f"answer {result.get('answer')}")
    confirmation = result.get("confirmation") or {}
    check(confirmation.get("delivered") is True, f"txid confirmation: {confirmation}")
    found = deposits_for(world, result["requestIdentifier"], bob=True)
    check(len(found) == 1, f"{len(found)} deposits at bob for the inquiry")
    return f"approval in the 200 body (trp.Resolution valid), txid 204; deposit {found[0]['state']}"


@case("trp.inbound.review_then_rejected")
def _trp_in_review(world: World) -> str:
    """A name that is not our customer's: the deposit waits for a person, whose rejection
    reaches the Go callback later and parses as the library's trp.Resolution."""
    peer = "ref-accept.example"
    inquiry = trp_inquiry_file(world, peer, ALICE, "trp-inquiry-stranger")
    document = json.loads(Path(inquiry).read_text(encoding="utf-8"))
    stranger = document["IVMS101"]["beneficiary"]["beneficiaryPersons"][0]["naturalPerson"]
    stranger["name"]["nameIdentifier"][0].update(
        primaryIdentifier="Else", secondaryIdentifier="Somebody"
    )
    Path(inquiry).write_text(json.dumps(document), encoding="utf-8")
    cert, key, trust = world.files(peer)
    identifier = str(uuid.uuid4())
    log = RUN_DIR / "trp-send-review.json"
    with log.open("wb") as handle:
        sender = subprocess.Popen(
            [
                str(PEER_BIN), "trp-send", "--to", _SHARED.get("alice_travel_address")
                or mint(world, "cust-1"), "--cert", cert, "--key", key, "--trust", trust,
                "--inquiry", inquiry, "--request-id", identifier, "--wait", "60",
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=RUN_DIR,
        )  # fmt: skip
    try:

        def review() -> list[dict[str, Any]]:
            found = deposits_for(world, identifier)
            if not found:
                return []
            reviews = api(world, "GET", "/v1/reviews?state=open&limit=100")["items"]
            return [
                r for r in reviews if r["kind"] == "deposit" and r["subject_id"] == found[0]["id"]
            ]

        wait_for(lambda: bool(review()), 30, "the deposit's open review")
        mine = review()
        [deposit] = deposits_for(world, identifier)
        check(deposit["state"] == "pending", f"deposit {deposit['state']} while in review")
        api(
            world,
            "POST",
            f"/v1/reviews/{mine[0]['id']}/decision",
            {"decision": "reject", "reason": "the beneficiary is not our customer"},
        )
        sender.wait(timeout=70)
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait(timeout=10)
    result = json.loads(log.read_text(encoding="utf-8"))
    check(result.get("answer") == {"version": "3.1.0"}, f"answer {result.get('answer')}")
    got = result.get("resolution") or {}
    check(not got.get("invalid"), f"the library refused our resolution: {got.get('invalid')}")
    rejected = (got.get("resolution") or {}).get("rejected")
    check(bool(rejected), f"resolution {got}")
    return f'ack, review, a person rejected: {{"rejected": {rejected!r}}} parsed by the library'


@case("trp.inbound.discoverability")
def _trp_in_discover(world: World) -> str:
    peer = "ref-accept.example"
    cert, key, trust = world.files(peer)
    address = _SHARED.get("alice_travel_address") or mint(world, "cust-1")
    code, out, err = cli(
        str(PEER_BIN), "trp-discover", "--to", address, "--cert", cert, "--key", key,
        "--trust", trust,
    )  # fmt: skip
    check(code == 0, f"trisa-refpeer trp-discover exited {code}: {err.strip()[-300:]}")
    found = json.loads(out)
    failed = {name: value["error"] for name, value in found.items() if "error" in value}
    check(not failed, f"the library could not read {failed}")
    identity = found["identity"]
    check(identity.get("x509", "").startswith("-----BEGIN CERTIFICATE-----"), f"{identity}")
    check(found["version"].get("version") == "3.1.0", f"version {found['version']}")
    return (
        f"identity {identity.get('name')!r}, version {found['version']}, "
        f"uptime {found['uptime']['seconds']:g}s, extensions {found['extensions']}"
    )


@case("trp.inbound.asset_btc_symbol_only")
def _trp_in_btc(world: World) -> str:
    """The library's Asset drops slip0044 BTC (coin type 0 under omitempty): the inquiry
    arrives with an empty asset, which travelgate refuses with 422 and a reason."""
    peer = "ref-accept.example"
    inquiry = trp_inquiry_file(world, peer, ALICE, "trp-inquiry-btc")
    document = json.loads(Path(inquiry).read_text(encoding="utf-8"))
    document["asset"] = {"slip0044": "BTC"}
    Path(inquiry).write_text(json.dumps(document), encoding="utf-8")
    result = go_trp_send(
        world, peer, _SHARED.get("alice_travel_address") or mint(world, "cust-1"), inquiry,
        "--wait", "0",
    )  # fmt: skip
    error = result.get("error") or {}
    check(error.get("code") == 422, f"travelgate answered {result}")
    check(not deposits_for(world, result["requestIdentifier"]), "a deposit was stored")
    return f"422 {error.get('message')!r}, nothing stored"


# Strict encoding input -> both sides; IP literal with a port is the known difference.
_ENCODE_VECTORS = [
    "beneficiary.com/x/12345?t=i",
    "trisa.beneficiary.com:8000/x/12345?t=i",
    "api.testing.21analytics.xyz/transfers/01H11RHY53MBMEQB1VJ4KJF39Z?t=i",
    "10.20.1.231/x/12345?t=i",
    "envoy.local:8100/x/12345?t=i",
    "localhost:8201/transfers/a/Zq3h9v?t=i",
    "beneficiary.com/x/12345",  # no t=i: both refuse
    "https://beneficiary.com/x/12345?t=i",  # scheme: both refuse
    "beneficiary.bear/x/12345?t=i",  # no such TLD: both refuse
]
_IP_WITH_PORT = "127.0.0.1:8201/transfers/a/Zq3h9v?t=i"
_PARSER_VECTORS = [
    _IP_WITH_PORT,
    "127.0.0.1:8201?t=i",
    "[::1]:8201/x?t=i",
    "1vasp.com:8000/x?t=i",
    "a1.com:8000/x?t=i",
]
_DECODE_VECTORS = [
    "ta2W2HPKfHxgSgrzY178knqXHg1H3jfeQrwQ9JrKBs9wv",
    "ta3dgYSWEoAJPfU2Wdr2hvQmXem4dHbfKuBvkbKGfBrzdb61C",
    "taEi7uRVTrhfqLUzffcu7AqS17UJXUjMqhAdZ6p",
    "ta42ZEr7rdvSpGnVvnttK1bWYQU4f4f",
    "ta3MNQE1Y",  # checksum: both refuse
    "taEJKtAQyrS5x6i59GBS2fcbcUxoR14dYiW9cZu",  # no t=i: both refuse
]


def _go_traddr(function: str, values: list[str]) -> list[dict[str, str]]:
    code, out, err = cli(str(PEER_BIN), "traddr", function, *values)
    check(code == 0, f"trisa-refpeer traddr exited {code}: {err.strip()}")
    return [json.loads(line) for line in out.splitlines()]


def _ours(function: str, value: str) -> str | None:
    """`travelgate traddr encode|decode VALUE`: the address or URL, None when refused."""
    code, out, _err = cli(TRAVELGATE, "traddr", function, value)
    if code != 0:
        return None
    return out.strip() if function == "encode" else str(json.loads(out)["url"])


@case("trp.traddr.vectors")
def _trp_vectors(world: World) -> str:
    minted = [go_travel_address(world, peer) for peer in GO_TRP_PEERS]
    if "alice_travel_address" in _SHARED:
        minted.append(_SHARED["alice_travel_address"])
    compared = 0
    disagreements = []
    for function, values in (("encode", _ENCODE_VECTORS), ("decode", _DECODE_VECTORS + minted)):
        for line in _go_traddr(function, values):
            theirs = line.get("output")
            ours = _ours(function, line["input"])
            compared += 1
            if theirs != ours:
                disagreements.append(f"{function} {line['input']}: Go {theirs}, travelgate {ours}")
    check(not disagreements, "; ".join(disagreements))
    # The one difference: Go's url.Parse refuses a scheme-less host that does not start with
    # a letter when a colon follows it; travelgate encodes those and says so on stderr.
    from travelgate.trp import reference_parse_problem

    [go_line] = _go_traddr("encode", [_IP_WITH_PORT])
    ours = _ours("encode", _IP_WITH_PORT)
    check(ours is not None and "error" in go_line, f"IP with port: Go {go_line}, ours {ours}")
    [go_back] = _go_traddr("decode", [ours or ""])
    check("error" in go_back, f"the Go library now decodes {ours}: {go_back}")
    predicted = []
    for line in _go_traddr("encode", [*_ENCODE_VECTORS, *_PARSER_VECTORS]):
        refused = "first path segment" in line.get("error", "")
        if refused != (reference_parse_problem(line["input"]) is not None):
            predicted.append(line["input"])
    check(not predicted, f"reference_parse_problem is wrong about {predicted}")
    return (
        f"{compared} encode/decode results agree (minted addresses of both sides included); "
        f"known difference: {_IP_WITH_PORT.split('/')[0]} (Go: {go_line['error'][-48:]}), "
        f"reference_parse_problem agrees with Go on {len(_ENCODE_VECTORS) + len(_PARSER_VECTORS)} "
        "inputs"
    )


def _stable(text: str) -> str:
    """The report without what changes from run to run (ports, timings), so that a run
    that finds nothing new leaves the committed file as it was."""
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    return re.sub(r"^(\w+\s+\S+\s+(?:required|recommended))\s+[0-9.]+ ms", r"\1", text, flags=re.M)


def write_report(text: str) -> None:
    text = _stable(text)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(
        "# Conformance of the TRISA reference peer\n\n"
        "`travelgate conformance --level required` against `trisa-refpeer serve --policy "
        "accept` (github.com/trisacrypto/trisa v1.7.0), written by `make interop`. "
        "See docs/interop.md for what the differences mean.\n\n"
        "```text\n" + text + "```\n",
        encoding="utf-8",
    )


# -- main ------------------------------------------------------------------------------------


def main() -> int:
    if not PEER_BIN.exists():
        print(f"{PEER_BIN} is missing: run `make interop-build` first", file=sys.stderr)
        return 2
    world = build_world()
    passed = failed = 0
    try:
        try:
            start_nodes(world)
        except (ExpectationError, SystemExit) as exc:
            print(f"FAIL  {'setup':<34} {exc}", flush=True)
            print(f"logs of the run: {RUN_DIR}\n0 passed, 1 failed", flush=True)
            return 1
        for name, function in CASES:
            began = time.monotonic()
            try:
                detail = function(world)
                verdict = "PASS"
                passed += 1
            except ExpectationError as exc:
                detail, verdict = str(exc), "FAIL"
                failed += 1
            except (OSError, subprocess.SubprocessError, ValueError, KeyError) as exc:
                detail, verdict = f"{type(exc).__name__}: {exc}", "FAIL"
                failed += 1
            took = time.monotonic() - began
            print(f"{verdict}  {name:<34} {took:6.1f}s  {detail}", flush=True)
    finally:
        world.stop()
    if failed:
        print(f"logs of the run: {RUN_DIR}", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
