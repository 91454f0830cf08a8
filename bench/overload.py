"""Overload: drive a node past its capacity and check that it sheds instead of stalling.

Two loads, each first measured unloaded (one client) and then far past capacity:

* **TRISA**: a peer fires sealed Transfers at Bob's node from many concurrent callers,
  more than its RSA threads can open. Envelopes past `[trisa] max_inflight_work` must be
  refused at once (RESOURCE_EXHAUSTED) while the admitted ones keep a p99 within 3x of the
  unloaded p99.
* **API**: many clients POST withdrawals (self-hosted, below every threshold, so each is
  pure API and database work) to Alice's node, more than SQLite can write. Requests past
  `[api] max_inflight` must be answered 503 at once, admitted ones within 3x.

The node under load runs as its own process (`travelgate robot` for TRISA, `travelgate
serve` for the API), the load comes from this one, as an outside caller's would. Memory is
the node's resident set before and after the overload. The figures are ratios: admitted
p99 over unloaded p99, and the admitted rate against the RSA bound of the same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import grpc
from cryptography.hazmat.primitives.asymmetric import rsa

from bench._common import ONE_BUSY_PEER, Row, bracketed, print_rows, rsa_decrypts_per_second
from bench.exchange import payload
from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2, api_pb2_grpc
from travelgate.demo import BOB, ensure_pki
from travelgate.service import SCOPES

UNLOADED_CLIENTS = 1
TRISA_CLIENTS = 64
API_CLIENTS = 256
REFUSED_BACKOFF = 0.1
WARM_UP = 1.0
# Node settings under test, e.g. BENCH_NODE_SETTINGS="TRAVELGATE_API_MAX_INFLIGHT=8".
TUNING = dict(
    item.split("=", 1) for item in os.environ.get("BENCH_NODE_SETTINGS", "").split() if item
)


@dataclass
class Load:
    """What a load saw: latencies of admitted and of refused calls, and its duration."""

    admitted: list[float] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def admitted_rate(self) -> float:
        return len(self.admitted) / self.seconds if self.seconds else 0.0


@dataclass
class _Result:
    quiet: Load  # the probe alone
    probe: Load  # the probe during the overload
    driven: Load  # the overload (counts only)
    memory_growth: float


def _p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


class _Node:
    """A travelgate node as a subprocess on ephemeral ports, its ports read from its log."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        command = [str(Path(sys.executable).parent / "travelgate"), *args]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, **env},
        )
        self.ports: dict[str, int] = {}

    def wait_started(self, timeout: float = 60) -> dict[str, int]:
        assert self.process.stderr is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                raise RuntimeError(f"node exited with {self.process.wait()}")
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("event") == "node started":
                self.ports = {"trisa": int(event["trisa_port"]), "api": int(event["api_port"])}
                # Keep the pipe drained so that the node never blocks on its log.
                threading.Thread(target=self._drain, daemon=True).start()
                return self.ports
        raise RuntimeError("node did not start")

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for _line in self.process.stderr:
            pass

    def rss_mib(self) -> float:
        with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _node_env(state: Path, label: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "TRAVELGATE_NODE_TRISA_LISTEN": "127.0.0.1:0",
        "TRAVELGATE_NODE_API_LISTEN": "127.0.0.1:0",
        "TRAVELGATE_NODE_DATABASE": str(state / f"{label}.db"),
        "TRAVELGATE_LOGGING_LEVEL": "info",
        **(extra or {}),
        **TUNING,
    }


# -- TRISA ---------------------------------------------------------------------------------


def _trisa_stub(root: Path, port: int) -> tuple[grpc.aio.Channel, api_pb2_grpc.TRISANetworkStub]:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(root / "ca.pem").read_bytes(),
        private_key=(root / "alice" / "key.pem").read_bytes(),
        certificate_chain=(root / "alice" / "cert.pem").read_bytes(),
    )
    channel = grpc.aio.secure_channel(
        f"127.0.0.1:{port}", credentials, options=[("grpc.ssl_target_name_override", BOB)]
    )
    return channel, api_pb2_grpc.TRISANetworkStub(channel)


def _sealed(root: Path, count: int) -> list[api_pb2.SecureEnvelope]:
    key = env.load_public_key((root / "bob" / "cert.pem").read_bytes())
    assert isinstance(key, rsa.RSAPublicKey)
    body = payload()
    return [env.seal(body, key) for _ in range(count)]


async def _trisa_load(root: Path, port: int, clients: int, seconds: float) -> Load:
    """`clients` callers sending Transfers back to back for `seconds` (sealed beforehand)."""
    load = Load()
    channel, stub = _trisa_stub(root, port)
    queue = iter(_sealed(root, int(clients * seconds * 20) + 50))
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        for envelope in queue:
            if time.perf_counter() >= stop_at:
                return
            started = time.perf_counter()
            try:
                reply = await stub.Transfer(envelope, timeout=30)
            except grpc.aio.AioRpcError as exc:
                if exc.code() is not grpc.StatusCode.RESOURCE_EXHAUSTED:
                    raise
                load.refused.append(time.perf_counter() - started)
                # A peer backs off before it tries again (as grpc's retry policy would).
                await asyncio.sleep(REFUSED_BACKOFF)
                continue
            if reply.transfer_state != api_pb2.ACCEPTED:
                raise RuntimeError(f"unexpected reply {reply}")
            load.admitted.append(time.perf_counter() - started)

    began = time.perf_counter()
    try:
        await asyncio.gather(*(client() for _ in range(clients)))
    finally:
        await channel.close()
    load.seconds = time.perf_counter() - began
    return load


# -- API -----------------------------------------------------------------------------------


def _self_hosted_body() -> dict[str, object]:
    return {
        "asset": "BTC",
        "network": "bitcoin",
        "amount": "0.001",
        "value": {"amount": "10.00", "currency": "USD"},
        "destination": {"address": f"bc1qself{uuid.uuid4().hex[:30]}", "kind": "self_hosted"},
        "originator": {"customer_id": "cust-1"},
        "beneficiary": {"name": "Alice Smith"},
    }


async def _api_load(base: str, key: str, clients: int, seconds: float) -> Load:
    """`clients` callers POSTing withdrawals back to back for `seconds`."""
    load = Load()
    stop_at = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                async with session.post(
                    f"{base}/v1/withdrawals",
                    json=_self_hosted_body(),
                    headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                ) as response:
                    await response.read()
                    elapsed = time.perf_counter() - started
                    if response.status == 503:
                        load.refused.append(elapsed)
                        # A well-behaved client waits as told; a hostile one would not.
                        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                    elif response.status == 201:
                        load.admitted.append(elapsed)
                    else:
                        raise RuntimeError(f"HTTP {response.status}: {await response.text()}")

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        load.seconds = time.perf_counter() - began
    return load


# -- one run: unloaded probe, then the probe while another process drives the overload ---


def _driver(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.overload", *args],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )


def _driven(driver: subprocess.Popen[bytes]) -> Load:
    out, _ = driver.communicate(timeout=600)
    if driver.returncode != 0:
        raise RuntimeError(f"the load driver failed with {driver.returncode}")
    counts = json.loads(out)
    load = Load(seconds=counts["seconds"])
    load.admitted = [0.0] * counts["admitted"]
    load.refused = [0.0] * counts["refused"]
    return load


async def _trisa(root: Path, state: Path, seconds: float) -> _Result:
    bob = _Node(
        "robot",
        "--policy",
        "sync-accept",
        "--config",
        str(root / "bob.toml"),
        env=_node_env(state, "bob", ONE_BUSY_PEER),
    )
    try:
        port = bob.wait_started()["trisa"]
        quiet = await _trisa_load(root, port, 1, seconds / 2)
        before = bob.rss_mib()
        driver = _driver(["drive-trisa", str(root), str(port), str(TRISA_CLIENTS), str(seconds)])
        await asyncio.sleep(WARM_UP)
        probe = await _trisa_load(root, port, 1, seconds - 2 * WARM_UP)
        driven = await asyncio.to_thread(_driven, driver)
        after = bob.rss_mib()
    finally:
        bob.stop()
    return _Result(quiet, probe, driven, after - before)


async def _api(root: Path, state: Path, seconds: float) -> _Result:
    config = str(root / "alice.toml")
    made = subprocess.run(  # noqa: ASYNC221 (once, before any load)
        [str(Path(sys.executable).parent / "travelgate"), "apikey", "create", "--config", config]
        + [arg for scope in SCOPES for arg in ("--scope", scope)],
        capture_output=True,
        check=True,
        env={**os.environ, **_node_env(state, "alice")},
    )
    key = made.stdout.decode().split()[-1]
    alice = _Node("serve", "--config", config, env=_node_env(state, "alice"))
    try:
        base = f"http://127.0.0.1:{alice.wait_started()['api']}"
        quiet = await _api_load(base, key, 1, seconds / 2)
        before = alice.rss_mib()
        driver = _driver(["drive-api", base, key, str(API_CLIENTS), str(seconds)])
        await asyncio.sleep(WARM_UP)
        probe = await _api_load(base, key, 1, seconds - 2 * WARM_UP)
        driven = await asyncio.to_thread(_driven, driver)
        after = alice.rss_mib()
    finally:
        alice.stop()
    return _Result(quiet, probe, driven, after - before)


# -- rows ----------------------------------------------------------------------------------


def _rows(kind: str, result: _Result) -> list[Row]:
    unloaded_p99 = _p99(result.quiet.admitted) * 1000
    admitted_p99 = _p99(result.probe.admitted) * 1000
    ratio = admitted_p99 / unloaded_p99 if unloaded_p99 else 0.0
    driven = result.driven
    offered = len(driven.admitted) + len(driven.refused)
    return [
        Row("overload", f"{kind}: unloaded p99 (1 client)", unloaded_p99, "ms"),
        Row("overload", f"{kind}: admitted p99 under overload (probe)", admitted_p99, "ms"),
        Row("overload", f"{kind}: admitted p99 / unloaded p99", ratio, "x", note="goal <= 3"),
        Row("overload", f"{kind}: refused, p99 (probe)", _p99(result.probe.refused) * 1000, "ms"),
        Row(
            "overload",
            f"{kind}: share of the overload refused",
            100 * len(driven.refused) / offered if offered else 0.0,
            "%",
        ),
        Row("overload", f"{kind}: admitted/s under overload", driven.admitted_rate, "ops/s"),
        Row("overload", f"{kind}: resident memory growth", result.memory_growth, "MiB"),
    ]


def run(seconds: float = 10.0) -> list[Row]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    decrypts = rsa_decrypts_per_second(key, seconds=2)
    rows = [Row("overload", "raw RSA-4096 OAEP-SHA512 decrypts/s (1 core)", decrypts, "ops/s")]
    with tempfile.TemporaryDirectory(prefix="travelgate-pki-") as folder:
        root = Path(folder)
        ensure_pki(root)
        with tempfile.TemporaryDirectory(prefix="travelgate-bench-") as state:
            trisa, around = bracketed(key, lambda: asyncio.run(_trisa(root, Path(state), seconds)))
        rows += _rows("TRISA Transfer", trisa)
        # Bob opens each envelope (two decrypts): the bound for admitted Transfers/s.
        rows.append(
            Row(
                "overload",
                "TRISA Transfer: admitted/s vs the open bound",
                trisa.driven.admitted_rate,
                "ops/s",
                bound=around / 2,
                note="bound = decrypts/2 (1 core)",
            )
        )
        with tempfile.TemporaryDirectory(prefix="travelgate-bench-") as state:
            api = asyncio.run(_api(root, Path(state), seconds))
        rows += _rows("API POST /v1/withdrawals", api)
    return rows


def _drive(argv: list[str]) -> int:
    """The overload itself, in its own process: prints what it saw as one JSON object."""
    kind, *args = argv
    if kind == "drive-trisa":
        root, port, clients, seconds = Path(args[0]), int(args[1]), int(args[2]), float(args[3])
        load = asyncio.run(_trisa_load(root, port, clients, seconds))
    else:
        base, key, clients, seconds = args[0], args[1], int(args[2]), float(args[3])
        load = asyncio.run(_api_load(base, key, clients, seconds))
    print(
        json.dumps(
            {"admitted": len(load.admitted), "refused": len(load.refused), "seconds": load.seconds}
        )
    )
    return 0


def main() -> int:
    from travelgate.logging import configure

    if len(sys.argv) > 1 and sys.argv[1].startswith("drive-"):
        return _drive(sys.argv[1:])
    configure("warning")
    print_rows(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
