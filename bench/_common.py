"""Shared benchmark helpers: timed loops, the RSA bound, result rows and machine facts."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric import rsa

from travelgate.envelope import OAEP

T = TypeVar("T")

# The benchmarks drive one peer (alice) at full speed; a counterparty that busy gets higher
# per-peer limits, as an operator would give it in peers.toml.
# Throughput figures let every client in: the API's admission limit (which keeps latency
# flat by refusing excess work, see bench/overload.py) is measured on its own.
THROUGHPUT_API = {"TRAVELGATE_API_MAX_INFLIGHT": "256"}
ONE_BUSY_PEER = {
    "TRAVELGATE_TRISA_PER_PEER_STREAMS": "256",
    "TRAVELGATE_TRISA_PER_PEER_RPS": "100000",
}


@dataclass(frozen=True)
class Row:
    """One benchmark figure, with its ratio to the crypto bound measured in the same run."""

    bench: str
    name: str
    value: float
    unit: str
    bound: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return None if not self.bound else self.value / self.bound


def rate(operation: Callable[[], object], *, seconds: float = 2.0, minimum: int = 20) -> float:
    """Operations per second of `operation` on this thread, over at least `seconds`."""
    operation()
    count = 0
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds or count < minimum:
        operation()
        count += 1
        elapsed = time.perf_counter() - start
    return count / elapsed


def rsa_decrypts_per_second(key: rsa.RSAPrivateKey, *, seconds: float = 2.0) -> float:
    """Raw RSA OAEP-SHA512 private-key decrypts/s on one core: the crypto bound."""
    ciphertext = key.public_key().encrypt(os.urandom(32), OAEP)
    return rate(lambda: key.decrypt(ciphertext, OAEP), seconds=seconds)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def print_rows(rows: list[Row]) -> None:
    for row in rows:
        ratio = f"  ({row.ratio:.0%} of bound {row.bound:,.0f})" if row.ratio is not None else ""
        print(f"{row.bench:10} {row.name:48} {row.value:12,.1f} {row.unit}{ratio}")


def bracketed(
    key: rsa.RSAPrivateKey, measure: Callable[[], T], *, seconds: float = 1.5
) -> tuple[T, float]:
    """(figure, decrypts/s): the RSA rate is taken just before and just after the figure
    and averaged, so a machine whose speed drifts (shared CPUs) still gives a fair ratio."""
    before = rsa_decrypts_per_second(key, seconds=seconds)
    figure = measure()
    after = rsa_decrypts_per_second(key, seconds=seconds)
    return figure, (before + after) / 2
