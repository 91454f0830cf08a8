"""Where the GIL goes on the receive path of a sync Transfer (`python -m bench.receive_profile`).

Bob's `travelgate serve` (one process) answers sync Transfers from an independent peer
(bench/workers.py's, 16 in flight) while py-spy samples only the thread holding the GIL
(`--gil`): every sample is Python work that keeps the other threads waiting. The shares
printed are of those samples, grouped by the first frame of each stack that falls in one
of the GROUPS below (RSA runs in crypto threads, but it holds the GIL only while it enters
and leaves OpenSSL). py-spy is a profiling tool, not a dependency: `pip install py-spy`.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.workers import IN_FLIGHT, _env, _Serving

# (group, substring of a frame "function (file:line)"): the first match from the leaf wins.
GROUPS = (
    # The lines that call OpenSSL's RSA (py-spy names frames by file and line only).
    ("RSA (OpenSSL calls)", "envelope/_open.py:128)"),
    ("RSA (OpenSSL calls)", "envelope/_open.py:129)"),
    ("RSA (OpenSSL calls)", "envelope/_seal.py:61)"),
    ("RSA (OpenSSL calls)", "envelope/_seal.py:64)"),
    ("IVMS101 validation", "ivms101/"),
    ("SQLite", "sqlite3"),
    ("SQLite", "store/"),
    ("policy", "transfers/"),
    ("screening", "screening/"),
    ("logging", "structlog"),
    ("logging", "logging.py"),
    ("protobuf", "google/protobuf"),
    ("envelope (AES, HMAC, parse)", "envelope/"),
    ("gRPC", "grpc"),
    ("asyncio", "asyncio/"),
    ("threads", "threading.py"),
    ("threads", "concurrent/futures"),
)


def _group(stack: str) -> str:
    frames = stack.split(";")
    if frames[-1].startswith("Handle._run "):
        # Compiled code a loop callback runs: grpc.aio's Cython completion callbacks.
        return "gRPC (compiled callbacks)"
    for frame in reversed(frames):
        for name, marker in GROUPS:
            if marker in frame:
                return name
    return "other"


def shares(collapsed: str) -> dict[str, float]:
    """Share of the samples per group, from py-spy's collapsed (raw) output."""
    counts: collections.Counter[str] = collections.Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[_group(stack)] += int(count)
    total = sum(counts.values()) or 1
    return {name: count / total for name, count in counts.most_common()}


RATE = 200  # samples per second


def profile(seconds: float = 20.0) -> tuple[dict[str, float], float]:
    """(share per group, GIL milliseconds per exchange) over `seconds` of sampling."""
    from travelgate.demo import ensure_pki

    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    with tempfile.TemporaryDirectory(prefix="travelgate-pki-") as folder:
        root = Path(folder)
        ensure_pki(root)
        state = root / "state"
        state.mkdir()
        bob = _Serving(root / "bob.toml", 1, _env(state, "bob"))
        try:
            port = bob.wait_started(timeout=120)["trisa"]
            out = root / "profile.txt"
            # The peer's window covers the sampling; it seals its envelopes first.
            window = seconds + 6
            sealed = int(window * 250) + 4 * IN_FLIGHT
            drive = ["drive-transfers", str(root), str(port), str(window), str(sealed)]
            peer = subprocess.Popen(
                [sys.executable, "-m", "bench.workers", *drive],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=Path(__file__).parent.parent,
            )
            assert peer.stderr is not None
            for line in peer.stderr:
                if line.strip() == b"timing":
                    break
            time.sleep(2.0)  # past the first seconds of a cold cache
            record = ["record", "--gil", "--format", "raw", "--rate", str(RATE), "--nonblocking"]
            target = ["--pid", str(bob.process.pid), "--output", str(out)]
            subprocess.run(
                [spy, *record, "--duration", str(int(seconds)), *target],
                check=True,
                capture_output=True,
            )
            measured = json.loads(peer.communicate(timeout=300)[0])
            collapsed = out.read_text()
            keep = os.environ.get("BENCH_PROFILE_OUT")
            if keep:
                Path(keep).write_text(collapsed)
            samples = sum(int(line.rpartition(" ")[2]) for line in collapsed.splitlines())
            exchanges = measured["done"] / measured["seconds"] * seconds
            return shares(collapsed), 1000 * samples / RATE / exchanges
        finally:
            bob.stop()


def main() -> int:
    from travelgate.logging import configure

    configure("warning")
    groups, per_exchange = profile()
    for name, share in groups.items():
        print(f"{name:32} {share:6.1%}")
    print(f"GIL held per exchange: {per_exchange:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
