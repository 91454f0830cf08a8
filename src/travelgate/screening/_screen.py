"""Loading lists into the store (audited, atomic per file) and screening an address against them.

Matching ignores the asset: a sanctioned address is sanctioned whatever is sent to it (an
ETH-listed address receiving USDT is still a hit); the list's asset is reported with the hit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from travelgate.screening._addresses import address_key
from travelgate.screening._lists import DEFAULT_SIZE_LIMIT, ListFile, ListFormat, read_list_file
from travelgate.store import ListedAddress, Store, Tx, now_text

LIST_REPLACED = "screening.list_replaced"


@dataclass(frozen=True)
class ScreeningResult:
    address: str
    asset: str
    network: str
    hits: tuple[ListedAddress, ...]

    @property
    def listed(self) -> bool:
        return bool(self.hits)

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "asset": self.asset,
            "network": self.network,
            "listed": self.listed,
            "hits": [
                {
                    "list": hit.list,
                    "address": hit.address,
                    "asset": hit.asset,
                    "reference": hit.reference,
                }
                for hit in self.hits
            ],
        }


def screen(tx: Tx, address: str, asset: str, network: str) -> ScreeningResult:
    """Screen one address inside the caller's transaction (so a decision and its hit agree)."""
    hits = tuple(tx.listed_addresses(address_key(address)))
    return ScreeningResult(address, asset, network, hits)


class Screener:
    """The sanctions lists of one database, for callers outside a transaction."""

    def __init__(self, db: Store) -> None:
        self.db = db

    async def screen(self, address: str, asset: str, network: str) -> ScreeningResult:
        return await self.db.read(lambda tx: screen(tx, address, asset, network))


@dataclass(frozen=True)
class ImportResult:
    source: str
    counts: dict[str, int]  # list name -> addresses now on it
    unchanged: bool = False  # the same file was already loaded: nothing was replaced

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """The CLI's line: "loaded 3 addresses into OFAC-SDN" (several lists: "EU (2), UK (1)")."""
        noun = "address" if self.total == 1 else "addresses"
        if len(self.counts) == 1:
            (name,) = self.counts
            return f"loaded {self.total} {noun} into {name}"
        lists = ", ".join(f"{name} ({count})" for name, count in sorted(self.counts.items()))
        return f"loaded {self.total} {noun} into {lists}"


def replace_lists(
    tx: Tx, parsed: ListFile, *, actor: str, skip_unchanged: bool = False
) -> ImportResult:
    """Replace every list the file names, with one audit record per list, in one transaction."""
    if skip_unchanged:
        stored = [tx.screening_list(name) for name in parsed.lists]
        if all(item is not None and item.digest == parsed.digest for item in stored):
            counts = {item.name: item.entries for item in stored if item is not None}
            return ImportResult(parsed.source, counts, unchanged=True)
    stamp = now_text()
    counts = {}
    for name, entries in parsed.lists.items():
        previous = tx.screening_list(name)
        counts[name] = tx.replace_screening_list(
            name,
            ((entry.key, entry.address, entry.asset, entry.reference) for entry in entries),
            format=parsed.format,
            source=parsed.source,
            digest=parsed.digest,
            stamp=stamp,
        )
        tx.audit(
            actor=actor,
            action=LIST_REPLACED,
            subject=f"screening_list:{name}",
            detail={
                "source": parsed.source,
                "format": parsed.format,
                "digest": parsed.digest,
                "entries": counts[name],
                "previous_entries": None if previous is None else previous.entries,
                "previous_digest": None if previous is None else previous.digest,
            },
            stamp=stamp,
        )
    return ImportResult(parsed.source, counts)


async def import_list_file(
    db: Store,
    path: Path,
    *,
    format: ListFormat | None = None,
    list_name: str | None = None,
    actor: str = "cli",
    skip_unchanged: bool = False,
    limit: int = DEFAULT_SIZE_LIMIT,
) -> ImportResult:
    """Parse `path` (off the event loop), then replace the lists it names atomically."""
    parsed = await asyncio.to_thread(
        read_list_file, path, format=format, list_name=list_name, limit=limit
    )
    return await db.write(
        lambda tx: replace_lists(tx, parsed, actor=actor, skip_unchanged=skip_unchanged)
    )


async def load_configured_lists(db: Store, lists: Sequence[Path]) -> list[ImportResult]:
    """`[screening] lists` at start: each file is (re)loaded unless it is already loaded as is."""
    return [await import_list_file(db, path, actor="config", skip_unchanged=True) for path in lists]
