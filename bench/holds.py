"""Withdrawal holds: end-to-end holds/s against a robot, and API latency vs table size.

End to end, one hold is one HTTP request, one policy decision, one outbox delivery and one
full TRISA exchange (about four RSA-4096 decrypts across both nodes), so the bound is a
quarter of the raw decrypt rate measured in the same run. Lookups are by primary key and
pages by rowid keyset, so their latency must not grow with the number of holds.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from bench._common import (
    ONE_BUSY_PEER,
    THROUGHPUT_API,
    Row,
    bracketed,
    print_rows,
    rsa_decrypts_per_second,
)
from travelgate.demo import ensure_pki, load_node, running
from travelgate.demo._script import withdrawal_body
from travelgate.robots import RobotPolicy
from travelgate.service import create_api_key
from travelgate.store import Tx, now_text

SIZES = (1_000, 100_000, 1_000_000)


async def _api(
    session: aiohttp.ClientSession,
    base: str,
    key: str,
    method: str,
    path: str,
    body: Any = None,
    **headers: str,
) -> Any:
    async with session.request(
        method, base + path, json=body, headers={"Authorization": f"Bearer {key}", **headers}
    ) as response:
        return await response.json()


async def end_to_end(root: Path, state: Path, holds: int, concurrency: int) -> float:
    alice = load_node(root, "alice", ephemeral=True, state=state, settings=THROUGHPUT_API)
    bob = load_node(
        root,
        "bob",
        robot=RobotPolicy.SYNC_ACCEPT,
        ephemeral=True,
        state=state,
        settings=ONE_BUSY_PEER,
    )
    async with running(bob, alice):
        _id, key = await create_api_key(alice.gateway.db, "bench")
        base = f"http://127.0.0.1:{alice.api_port}"
        limit = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession() as session:

            async def one() -> None:
                async with limit:
                    hold = await _api(
                        session,
                        base,
                        key,
                        "POST",
                        "/v1/withdrawals",
                        withdrawal_body(),
                        **{"Idempotency-Key": str(uuid.uuid4())},
                    )
                    while hold["state"] != "cleared":
                        hold = await _api(
                            session, base, key, "GET", f"/v1/withdrawals/{hold['id']}?wait=5"
                        )
                        if hold["state"] not in ("held", "awaiting_reply", "cleared"):
                            raise RuntimeError(f"unexpected hold {hold}")

            await one()  # warm up: key exchange, channels
            started = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(holds)))
            return holds / (time.perf_counter() - started)


def _fill(tx: Tx, count: int, start: int) -> list[str]:
    stamp = now_text()
    request = {"asset": "BTC", "destination": {"address": "x"}}
    ids = [str(uuid.UUID(int=random.getrandbits(128), version=4)) for _ in range(count)]
    for number, hold_id in enumerate(ids):
        tx.insert_hold(
            stamp=stamp,
            request=request,
            id=hold_id,
            api_key_id="bench",
            idempotency_key=f"k{start + number}",
            request_hash="h",
            state=random.choice(("held", "cleared", "released")),
            asset="BTC",
            network="bitcoin",
            amount="0.5",
            destination="x",
        )
    return ids


async def lookups(
    root: Path,
    state: Path,
    sizes: tuple[int, ...] = SIZES,
    samples: int = 400,
    *,
    database: str = "",
    bench: str = "holds",
) -> list[Row]:
    settings = {**THROUGHPUT_API, **({"TRAVELGATE_NODE_DATABASE": database} if database else {})}
    alice = load_node(root, "alice", ephemeral=True, state=state, settings=settings)
    rows: list[Row] = []
    async with running(alice):
        db = alice.gateway.db
        _id, key = await create_api_key(db, "bench")
        base = f"http://127.0.0.1:{alice.api_port}"
        ids: list[str] = []
        async with aiohttp.ClientSession() as session:
            for size in sizes:
                while len(ids) < size:
                    chunk = min(20_000, size - len(ids))
                    ids += await db.write(functools.partial(_fill, count=chunk, start=len(ids)))
                paths = {
                    "GET /v1/withdrawals/{id}": [
                        f"/v1/withdrawals/{random.choice(ids)}" for _ in range(samples)
                    ],
                    "GET /v1/withdrawals?state=held&limit=50": [
                        "/v1/withdrawals?state=held&limit=50"
                    ]
                    * samples,
                }
                for label, targets in paths.items():
                    latencies = []
                    for target in targets:
                        began = time.perf_counter()
                        await _api(session, base, key, "GET", target)
                        latencies.append((time.perf_counter() - began) * 1000)
                    latencies.sort()
                    rows.append(
                        Row(
                            bench,
                            f"{label}, {size:,} holds: p50",
                            statistics.median(latencies),
                            "ms",
                        )
                    )
                    rows.append(
                        Row(
                            bench,
                            f"{label}, {size:,} holds: p99",
                            latencies[int(0.99 * len(latencies)) - 1],
                            "ms",
                        )
                    )
    return rows


def run(holds: int = 200, concurrency: int = 16, sizes: tuple[int, ...] = SIZES) -> list[Row]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    decrypts = rsa_decrypts_per_second(key, seconds=3)
    rows = [Row("holds", "raw RSA-4096 OAEP-SHA512 decrypts/s (1 core)", decrypts, "ops/s")]
    with tempfile.TemporaryDirectory(prefix="travelgate-bench-") as folder:
        root = Path(folder) / "pki"
        ensure_pki(root)
        state = Path(folder) / "e2e"
        state.mkdir()
        rate, around = bracketed(
            key, lambda: asyncio.run(end_to_end(root, state, holds, concurrency))
        )
        rows.append(
            Row(
                "holds",
                f"holds created and cleared/s end to end ({concurrency} clients)",
                rate,
                "ops/s",
                bound=around / 4,
                note="bound = decrypts/4 (1 core), decrypts measured around the figure",
            )
        )
        table = Path(folder) / "lookups"
        table.mkdir()
        rows += asyncio.run(lookups(root, table, sizes))
    return rows


def run_lookups(sizes: tuple[int, ...] = SIZES) -> list[Row]:
    """Lookup and page latency on the database `BENCH_DATABASE` names (rows "holds-postgres"
    for a PostgreSQL URL), else on a fresh SQLite file."""
    database = os.environ.get("BENCH_DATABASE", "").replace("{node}", "alice")
    bench = "holds-postgres" if database.startswith("postgresql://") else "holds"
    with tempfile.TemporaryDirectory(prefix="travelgate-bench-") as folder:
        root = Path(folder) / "pki"
        ensure_pki(root)
        table = Path(folder) / "lookups"
        table.mkdir()
        return asyncio.run(lookups(root, table, sizes, database=database, bench=bench))


def main() -> int:
    from travelgate.logging import configure

    configure("warning")
    print_rows(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
