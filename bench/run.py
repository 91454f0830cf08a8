"""Run every benchmark and write bench/RESULTS.md: figures beside the crypto bound.

Each benchmark measures raw RSA-4096 OAEP-SHA512 private-key decrypts on one core in the
same run, and reports its figures as ratios to the bound that follows from it, so results
from different machines (or a busy one) stay comparable.
"""

from __future__ import annotations

import argparse
import platform
from datetime import UTC, datetime
from pathlib import Path

from bench import envelope, exchange, holds, ivms, overload, workers
from bench._common import Row, machine, print_rows

RESULTS = Path(__file__).parent / "RESULTS.md"

HOW = """\
How it was measured (`make bench`, one process, both nodes on loopback with real mTLS):

* **bound**: raw RSA-4096 OAEP-SHA512 private-key decrypts per second on one core,
  measured in the same run. An envelope open costs two decrypts (key and HMAC secret are
  sealed separately): bound = decrypts/2. A full synchronous exchange costs about four
  across both nodes: bound = decrypts/4 for one core; the nodes run RSA in thread pools
  off their event loops, so a machine with more cores can exceed the one-core bound.
* **envelope**: seal and open of 1 KiB and 64 KiB payloads on one thread.
* **ivms**: IVMS101 validations of a two-person payload per second on one core, per
  encoding; the ratio is validations per RSA decrypt (must be far above 1).
* **exchange**: full sync exchanges (seal, Transfer over mTLS, open, validate, decide, store,
  seal reply, open reply, store) between two nodes, N concurrent clients.
* **holds**: withdrawals created through the HTTP API and cleared by a sync-accept robot,
  end to end; then API latency for a lookup by id and a page of held withdrawals with 1k,
  100k and 1M holds in the database. Throughput runs raise `[api] max_inflight` so that
  every client gets in; the default's shedding is measured by **overload**.
* **overload**: the node under test as its own process, driven far past capacity by
  another process (64 callers sending Transfers, 256 POSTing withdrawals), while a probe
  caller measures what an admitted request sees. The ratio that matters is admitted p99
  over the probe's unloaded p99 (goal: at most 3x), with the share refused and the
  node's memory growth.
* **workers**: `travelgate serve --workers N` as its own processes, driven by an independent
  peer process, 16 in flight: sync Transfers answered by Bob (envelopes sealed before the
  timed window, one connection per caller), and withdrawals created and cleared through
  Alice against a sync-accept robot Bob (a third process). R = figure / (decrypts/2), so
  R = 1 is one core doing nothing but opening envelopes; two cores allow R = 2.
  `BENCH_DATABASE` (a path or PostgreSQL URL) replaces the fresh SQLite file.
"""


def _ivms_rows(decrypts: float) -> list[Row]:
    rows = []
    for item in ivms.run():
        rows.append(
            Row(
                "ivms",
                str(item["name"]),
                float(item["value"]),
                str(item["unit"]),
                bound=decrypts,
                note="ratio = validations per RSA decrypt",
            )
        )
    return rows


def _table_row(row: Row) -> str:
    bound = f"{row.bound:,.1f}" if row.bound else ""
    ratio = f"{row.ratio:.0%}" if row.ratio is not None and row.bound else ""
    if row.bench == "ivms" and row.ratio is not None:
        ratio = f"{row.ratio:,.0f}x"
    if row.bench.startswith("workers") and row.ratio is not None:
        ratio = f"R {row.ratio:.2f}"
    cells = [row.bench, row.name.strip(), f"{row.value:,.1f}", row.unit, bound, ratio]
    return "| " + " | ".join(cells) + " |"


def replace_rows(bench: str, rows: list[Row]) -> None:
    """Put one benchmark's new rows in place of its old ones; the other rows are kept."""
    note = f"{bench} rows from a run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}."
    lines = [
        line
        for line in RESULTS.read_text().splitlines()
        if not line.startswith((f"| {bench} |", f"{bench} rows from a run"))
    ]
    # The main table (other sections of the file have tables of their own).
    header = next(i for i, line in enumerate(lines) if line.startswith("| benchmark | figure"))
    table_end = header
    while table_end + 1 < len(lines) and lines[table_end + 1].startswith("|"):
        table_end += 1
    fresh = [_table_row(row) for row in rows]
    lines = [*lines[: table_end + 1], *fresh, *lines[table_end + 1 :]]
    while lines and not lines[-1].strip():
        lines.pop()
    RESULTS.write_text("\n".join([*lines, "", note, ""]))


def write(rows: list[Row]) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
        "",
        HOW,
        "| benchmark | figure | value | unit | bound | ratio |",
        "|---|---|---:|---|---:|---:|",
    ]
    lines += [_table_row(row) for row in rows]
    lines.append("")
    RESULTS.write_text("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="short runs and small tables (smoke test)"
    )
    parser.add_argument(
        "--only",
        choices=["overload", "workers", "lookups"],
        help="run one benchmark and replace only its rows in RESULTS.md",
    )
    args = parser.parse_args()
    from travelgate.logging import configure

    configure("warning")
    if args.only == "overload":
        fresh = overload.run(seconds=4.0 if args.quick else 10.0)
        print_rows(fresh)
        replace_rows("overload", fresh)
        return 0
    if args.only == "lookups":
        # API latency at 1k to 1M holds on the database BENCH_DATABASE names (e.g. PostgreSQL).
        fresh = holds.run_lookups(sizes=(1_000, 10_000) if args.quick else holds.SIZES)
        print_rows(fresh)
        replace_rows(fresh[0].bench, fresh)
        return 0
    if args.only == "workers":
        fresh = workers.run(seconds=4.0 if args.quick else 10.0)
        print_rows(fresh)
        replace_rows(fresh[0].bench, fresh)
        return 0
    rows: list[Row] = []
    rows += envelope.run(seconds=1.0 if args.quick else 3.0)
    decrypts = rows[0].value
    rows += _ivms_rows(decrypts)
    rows += exchange.run(
        seconds=3.0 if args.quick else 10.0, concurrency=(1, 8) if args.quick else (1, 8, 32)
    )
    rows += holds.run(
        holds=40 if args.quick else 300,
        sizes=(1_000, 10_000) if args.quick else holds.SIZES,
    )
    rows += overload.run(seconds=4.0 if args.quick else 10.0)
    rows += workers.run(seconds=4.0 if args.quick else 10.0)
    print_rows(rows)
    write(rows)
    print(f"\nwrote {RESULTS} ({platform.node()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
