"""Worker processes: what `travelgate serve --workers N` gets out of the machine's cores.

Two loads, each against the node under test as its own processes, driven by an independent
peer process (never the node under test):

* **exchanges**: the peer sends synchronous Transfers to Bob's `serve --workers N`, 16 in
  flight, each caller on its own connection (SO_REUSEPORT spreads connections, not calls).
  Envelopes are sealed before the timed window, so the peer spends almost nothing on RSA.
* **holds**: the peer POSTs withdrawals to Alice's `serve --workers N` and long-polls each
  until it is cleared, 16 in flight; Alice's outbox sends each to a sync-accept robot Bob
  (a third process), so both nodes' RSA shares the machine.

R = figure / (decrypts/2): one envelope open costs two RSA-4096 decrypts, so R = 1 is one
core doing nothing but opening envelopes, and a node on two cores can reach at most 2.

`BENCH_DATABASE` (a path or a PostgreSQL URL, where "{node}" stands for the node's name)
replaces the fresh SQLite file of each run;
the rows then name that database.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import grpc
from cryptography.hazmat.primitives.asymmetric import rsa

from bench._common import ONE_BUSY_PEER, THROUGHPUT_API, Row, bracketed, print_rows
from bench.overload import _Node, _node_env, _sealed
from travelgate._pb.trisa.api.v1beta1 import api_pb2, api_pb2_grpc
from travelgate.demo import BOB
from travelgate.demo._script import withdrawal_body
from travelgate.service import SCOPES

IN_FLIGHT = 16
WORKER_COUNTS = (1, 2)
DATABASE = os.environ.get("BENCH_DATABASE", "")
# Every caller gets in: the admission limits that keep latency flat are measured by overload.
LET_EVERYONE_IN = {
    **ONE_BUSY_PEER,
    **THROUGHPUT_API,
    "TRAVELGATE_TRISA_MAX_INFLIGHT_WORK": "256",
    "TRAVELGATE_OUTBOX_PER_TARGET": str(IN_FLIGHT),
    "TRAVELGATE_TRP_LISTEN": "127.0.0.1:0",
    "TRAVELGATE_TRP_PUBLIC_URL": "",
}


def database_name() -> str:
    if DATABASE.startswith(("postgres://", "postgresql://")):
        return "PostgreSQL"
    return "SQLite"


def _env(state: Path, label: str) -> dict[str, str]:
    env = _node_env(state, label, LET_EVERYONE_IN)
    if DATABASE:
        # "{node}" in the URL gives each node its own database (a database records the keys
        # of the node that first used it, and refuses another node's).
        env["TRAVELGATE_NODE_DATABASE"] = DATABASE.replace("{node}", label)
    return env


class _Serving(_Node):
    """`travelgate serve --workers N`: "node started" is logged once all workers serve."""

    def __init__(self, config: Path, workers: int, env: dict[str, str]) -> None:
        super().__init__("serve", "--config", str(config), "--workers", str(workers), env=env)


# -- the independent peer ------------------------------------------------------------------


def _channel(root: Path, port: int) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(root / "ca.pem").read_bytes(),
        private_key=(root / "alice" / "key.pem").read_bytes(),
        certificate_chain=(root / "alice" / "cert.pem").read_bytes(),
    )
    return grpc.aio.secure_channel(
        f"127.0.0.1:{port}", credentials, options=[("grpc.ssl_target_name_override", BOB)]
    )


async def drive_transfers(root: Path, port: int, seconds: float, count: int) -> dict[str, float]:
    """IN_FLIGHT callers, each on its own connection, sending sealed Transfers back to back."""
    sealed = _sealed(root, count)
    channels = [_channel(root, port) for _ in range(IN_FLIGHT)]
    stubs = [api_pb2_grpc.TRISANetworkStub(channel) for channel in channels]
    # Warm up: every connection's handshake and every worker's key lookup, off the clock.
    for stub in stubs:
        reply = await stub.Transfer(sealed.pop(), timeout=60)
        if reply.transfer_state != api_pb2.ACCEPTED:
            raise RuntimeError(f"unexpected reply {reply}")
    queue = iter(sealed)
    done = 0
    ran_out = False
    stop_at = time.perf_counter() + seconds

    async def caller(stub: api_pb2_grpc.TRISANetworkStub) -> None:
        nonlocal done, ran_out
        while time.perf_counter() < stop_at:
            envelope = next(queue, None)
            if envelope is None:
                ran_out = True
                return
            reply = await stub.Transfer(envelope, timeout=60)
            if reply.transfer_state != api_pb2.ACCEPTED:
                raise RuntimeError(f"unexpected reply {reply}")
            done += 1

    began = time.perf_counter()
    print("timing", file=sys.stderr, flush=True)  # for a profiler waiting on the warm-up
    try:
        await asyncio.gather(*(caller(stub) for stub in stubs))
    finally:
        for channel in channels:
            await channel.close()
    if ran_out:
        raise RuntimeError("the peer ran out of sealed envelopes: seal more")
    return {"done": done, "seconds": time.perf_counter() - began}


async def drive_holds(base: str, key: str, seconds: float) -> dict[str, float]:
    """IN_FLIGHT callers: POST a withdrawal, long-poll it until cleared, again."""
    headers = {"Authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT, force_close=True)
    done = 0
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def one() -> None:
            async with session.post(
                f"{base}/v1/withdrawals",
                json=withdrawal_body(),
                headers={"Idempotency-Key": str(uuid.uuid4())},
            ) as response:
                hold = await response.json()
                if response.status != 201:
                    raise RuntimeError(f"HTTP {response.status}: {hold}")
            while hold["state"] != "cleared":
                if hold["state"] not in ("held", "awaiting_reply"):
                    raise RuntimeError(f"unexpected hold {hold}")
                async with session.get(
                    f"{base}/v1/withdrawals/{hold['id']}?wait=10&version={hold['version']}"
                ) as response:
                    hold = await response.json()

        for _ in range(2):
            await one()  # warm up: key exchange, channels
        stop_at = time.perf_counter() + seconds

        async def caller() -> None:
            nonlocal done
            while time.perf_counter() < stop_at:
                await one()
                done += 1

        began = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(IN_FLIGHT)))
    return {"done": done, "seconds": time.perf_counter() - began}


def _peer(*args: str) -> dict[str, float]:
    """Run the peer as its own process; what it measured, as a dict."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.workers", *args],
        capture_output=True,
        cwd=Path(__file__).parent.parent,
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode(errors="replace"))
        raise RuntimeError(f"the peer failed with {done.returncode}")
    measured: dict[str, float] = json.loads(done.stdout)
    return measured


# -- one measure ---------------------------------------------------------------------------


def exchanges(root: Path, workers: int, seconds: float, decrypts: float) -> float:
    """Sync Transfers/s that Bob's `serve --workers N` answers ACCEPTED."""
    with tempfile.TemporaryDirectory(prefix="travelgate-bench-") as state:
        bob = _Serving(root / "bob.toml", workers, _env(Path(state), "bob"))
        try:
            port = bob.wait_started(timeout=120)["trisa"]
            # Enough for twice the two-core limit, sealed before the clock starts.
            count = int(seconds * decrypts * 2) + 4 * IN_FLIGHT
            measured = _peer("drive-transfers", str(root), str(port), str(seconds), str(count))
        finally:
            bob.stop()
    return measured["done"] / measured["seconds"]


def holds(root: Path, workers: int, seconds: float) -> float:
    """Withdrawals created and cleared/s through Alice's `serve --workers N`."""
    with tempfile.TemporaryDirectory(prefix="travelgate-bench-") as folder:
        state = Path(folder)
        bob = _Node(
            "robot",
            "--policy",
            "sync-accept",
            "--config",
            str(root / "bob.toml"),
            env={**_env(state, "bob"), "TRAVELGATE_NODE_DATABASE": str(state / "bob.db")},
        )
        alice: _Node | None = None
        try:
            bob_port = bob.wait_started()["trisa"]
            peers = root / "peers.toml"
            original = peers.read_text()
            peers.write_text(original.replace("127.0.0.1:8101", f"127.0.0.1:{bob_port}"))
            alice_env = _env(state, "alice")
            made = subprocess.run(
                [str(Path(sys.executable).parent / "travelgate"), "apikey", "create"]
                + ["--config", str(root / "alice.toml")]
                + [arg for scope in SCOPES for arg in ("--scope", scope)],
                capture_output=True,
                check=True,
                env={**os.environ, **alice_env},
            )
            key = made.stdout.decode().split()[-1]
            alice = _Serving(root / "alice.toml", workers, alice_env)
            base = f"http://127.0.0.1:{alice.wait_started(timeout=120)['api']}"
            peers.write_text(original)
            measured = _peer("drive-holds", base, key, str(seconds))
        finally:
            if alice is not None:
                alice.stop()
            bob.stop()
    return measured["done"] / measured["seconds"]


def run(seconds: float = 10.0, counts: tuple[int, ...] = WORKER_COUNTS) -> list[Row]:
    from bench._common import rsa_decrypts_per_second
    from travelgate.demo import ensure_pki

    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    decrypts = rsa_decrypts_per_second(key, seconds=2)
    name = database_name()
    # PostgreSQL rows are a benchmark of their own, so either run replaces only its rows.
    bench = "workers" if name == "SQLite" else "workers-postgres"
    rows = [Row(bench, "raw RSA-4096 OAEP-SHA512 decrypts/s (1 core)", decrypts, "ops/s")]
    note = "R = value / (decrypts/2); two cores allow R = 2"
    with tempfile.TemporaryDirectory(prefix="travelgate-pki-") as folder:
        root = Path(folder)
        ensure_pki(root)
        for workers in counts:
            rate, around = bracketed(
                key, functools.partial(exchanges, root, workers, seconds, decrypts)
            )
            rows.append(
                Row(
                    bench,
                    f"sync exchanges/s, {workers} worker(s), {name}, {IN_FLIGHT} in flight",
                    rate,
                    "ops/s",
                    bound=around / 2,
                    note=note,
                )
            )
        for workers in counts:
            rate, around = bracketed(key, functools.partial(holds, root, workers, seconds))
            rows.append(
                Row(
                    bench,
                    f"holds cleared/s, {workers} worker(s), {name}, {IN_FLIGHT} in flight",
                    rate,
                    "ops/s",
                    bound=around / 2,
                    note=note,
                )
            )
    return rows


def main() -> int:
    from travelgate.logging import configure

    if len(sys.argv) > 1 and sys.argv[1] == "drive-transfers":
        root, port, seconds, count = sys.argv[2:6]
        measured = asyncio.run(drive_transfers(Path(root), int(port), float(seconds), int(count)))
        print(json.dumps(measured))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "drive-holds":
        base, key, seconds = sys.argv[2:5]
        print(json.dumps(asyncio.run(drive_holds(base, key, float(seconds)))))
        return 0
    configure("warning")
    print_rows(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
