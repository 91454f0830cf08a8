"""Which PostgreSQL driver: psycopg 3 in worker threads (what `store.postgres` does) against
asyncpg called straight from the event loop, on one typical unit of work.

The unit of work: create a hold (its request sealed, under the store's write lock) and
read it back (unsealed), as two transactions, the way the API's create-then-get does.
Both drivers run the same SQL on the same throwaway database, with the same pool size and
the same number of concurrent callers. Writes its section of bench/RESULTS.md.

    .venv/bin/python -m bench.driver [--url postgresql://...] [--units 400]

Without --url (or TRAVELGATE_TEST_POSTGRES) a throwaway cluster is started as the tests do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench._common import machine
from travelgate.store import Sealer, Tx, now_text
from travelgate.store.postgres import PostgresStore
from travelgate.store.postgres._database import WRITE_LOCK

# The throwaway cluster of the tests (tests/support is not an installed package).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.postgres import ENV_URL, PostgresServer, unavailable

RESULTS = Path(__file__).parent / "RESULTS.md"
HEADING = "## Database driver (bench/driver.py)"
POOL = 10
WHY = """\
Why psycopg 3 in threads: every operation of the store is a synchronous closure over a
`Tx`, shared with SQLite, run on a pooled connection in one of `pool_size` threads. asyncpg
would mean writing every operation twice (or all of them async), and it buys no speed on
this unit of work: one caller at a time, the three are alike (the cost is the round trips:
begin, write lock, insert, commit, then the read). With 16 callers psycopg in threads did
better here (a shared, busy machine: take the ratio, not the figures), most likely because
a thread commits as soon as its statement returns, while asyncpg's coroutines wait for a
turn of the one event loop (busy with the others' sealing and JSON) while they hold the
write lock. asyncpg's default pool also resets each connection on release (one more round
trip). The event loop never blocks on psycopg: it waits in threads.
"""
REQUEST = {"asset": "BTC", "destination": {"address": "bc1qdriver"}, "amount": "0.5"}


def _columns(hold_id: str) -> dict[str, Any]:
    return {
        "id": hold_id,
        "api_key_id": "bench",
        "idempotency_key": hold_id,
        "request_hash": "h",
        "state": "held",
        "asset": "BTC",
        "network": "bitcoin",
        "amount": "0.5",
        "destination": "bc1qdriver",
    }


async def _psycopg_unit(store: PostgresStore) -> None:
    hold_id = str(uuid.uuid4())

    def create(tx: Tx) -> None:
        tx.insert_hold(stamp=now_text(), request=REQUEST, **_columns(hold_id))

    await store.write(create)
    hold = await store.read(lambda tx: tx.hold(hold_id))
    assert hold is not None
    assert hold.request == REQUEST


def _asyncpg_unit(pool: asyncpg.Pool, sealer: Sealer) -> Callable[[], Awaitable[None]]:
    async def unit() -> None:
        hold_id = str(uuid.uuid4())
        values = {
            **_columns(hold_id),
            "request": sealer.seal(json.dumps(REQUEST, sort_keys=True).encode()),
            "created_at": now_text(),
            "updated_at": now_text(),
        }
        names = ", ".join(values)
        marks = ", ".join(f"${n}" for n in range(1, len(values) + 1))
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
            await connection.execute(
                f"INSERT INTO holds ({names}) VALUES ({marks})",  # noqa: S608
                *values.values(),
            )
        async with pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow("SELECT * FROM holds WHERE id = $1", hold_id)
        assert row is not None
        assert json.loads(sealer.open(row["request"])) == REQUEST

    return unit


async def _keep_session(_connection: Any) -> None:
    return None


async def _measure(unit: Callable[[], Awaitable[None]], units: int, callers: int) -> list[float]:
    """Latencies (ms) of `units` units of work run by `callers` concurrent callers."""
    latencies: list[float] = []
    left = iter(range(units))

    async def caller() -> None:
        for _ in left:
            started = time.perf_counter()
            await unit()
            latencies.append((time.perf_counter() - started) * 1000)

    await unit()  # warm up: connections, prepared statements
    await asyncio.gather(*(caller() for _ in range(callers)))
    return latencies


async def run(url: str, units: int) -> list[tuple[str, int, float, float, float]]:
    sealer = Sealer(b"d" * 32)
    store = PostgresStore(url, sealer, pool_size=POOL)
    await store.open()
    pool = await asyncpg.create_pool(url, min_size=POOL, max_size=POOL)
    # asyncpg's pool resets a connection (a round trip) on every release; without it,
    # a connection may come back with a session state someone left, but it is faster.
    lean = await asyncpg.create_pool(url, min_size=POOL, max_size=POOL, reset=_keep_session)
    assert pool is not None
    assert lean is not None
    figures = []
    try:
        for callers in (1, 16):
            for name, unit in (
                ("psycopg 3, threads", lambda: _psycopg_unit(store)),
                ("asyncpg, event loop", _asyncpg_unit(pool, sealer)),
                ("asyncpg, no reset on release", _asyncpg_unit(lean, sealer)),
            ):
                started = time.perf_counter()
                latencies = await _measure(unit, units, callers)
                elapsed = time.perf_counter() - started
                ordered = sorted(latencies)
                figures.append(
                    (
                        name,
                        callers,
                        len(latencies) / elapsed,
                        statistics.median(ordered),
                        ordered[int(len(ordered) * 0.99) - 1],
                    )
                )
                print(f"{name:22} callers={callers:3} {figures[-1][2]:8.1f} units/s")
    finally:
        await pool.close()
        await lean.close()
        await store.close()
    return figures


def write(figures: list[tuple[str, int, float, float, float]], units: int) -> None:
    table = [
        HEADING,
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}, PostgreSQL on the same "
        f"machine (throwaway cluster, fsync off), pool of {POOL}, {units} units per line. "
        "A unit: create a hold (sealed request, under the write lock) in one transaction, "
        "read it back (unsealed) in another.",
        "",
        "| driver | callers | units/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {name} | {callers} | {rate:,.1f} | {p50:.2f} | {p99:.2f} |"
            for name, callers, rate, p50, p99 in figures
        ),
        "",
        *WHY.splitlines(),
        "",
    ]
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if HEADING in text:
        text = text[: text.index(HEADING)]
    RESULTS.write_text(text.rstrip("\n") + "\n\n" + "\n".join(table))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get(ENV_URL), help="PostgreSQL to use")
    parser.add_argument("--units", type=int, default=400, help="units of work per line")
    args = parser.parse_args()
    server = None
    url = args.url
    if url is None:
        reason = unavailable()
        if reason is not None:
            print(reason, file=sys.stderr)
            return 1
        server = PostgresServer()
    try:
        url = url or server.database()  # type: ignore[union-attr]
        figures = asyncio.run(run(url, args.units))
    finally:
        if server is not None:
            server.stop()
    write(figures, args.units)
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
