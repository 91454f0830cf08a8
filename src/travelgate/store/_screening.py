"""Rows of sanctions screening: the loaded lists and their addresses.

A mixin of `Tx`. Replacing a list deletes and inserts inside the caller's transaction, so a
reader sees the whole old list or the whole new one, never a mix, and the caller's audit
record commits with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from travelgate.store._connection import Connection
from travelgate.store._holds import from_row


@dataclass(frozen=True)
class ScreeningList:
    name: str
    format: str
    source: str
    digest: str
    entries: int
    loaded_at: str


@dataclass(frozen=True)
class ListedAddress:
    list: str
    address: str
    asset: str
    reference: str


class ScreeningOps:
    db: Connection

    def replace_screening_list(
        self,
        name: str,
        entries: Iterable[tuple[str, str, str, str]],
        *,
        format: str,
        source: str,
        digest: str,
        stamp: str,
    ) -> int:
        """Replace list `name` by `entries` (address key, address, asset, reference); count."""
        self.db.execute("DELETE FROM screening_entries WHERE list = ?", (name,))
        self.db.execute(
            "INSERT INTO screening_lists (name, format, source, digest, entries, loaded_at) "
            "VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (name) DO UPDATE SET format = excluded.format, "
            "source = excluded.source, digest = excluded.digest, loaded_at = excluded.loaded_at",
            (name, format, source, digest, stamp),
        )
        self.db.executemany(
            "INSERT INTO screening_entries (list, address_key, address, asset, reference) "
            "VALUES (?, ?, ?, ?, ?)",
            ((name, *entry) for entry in entries),
        )
        count = int(
            self.db.execute(
                "SELECT count(*) FROM screening_entries WHERE list = ?", (name,)
            ).fetchone()[0]
        )
        self.db.execute("UPDATE screening_lists SET entries = ? WHERE name = ?", (count, name))
        return count

    def screening_list(self, name: str) -> ScreeningList | None:
        row = self.db.execute("SELECT * FROM screening_lists WHERE name = ?", (name,)).fetchone()
        return None if row is None else from_row(ScreeningList, row)

    def screening_lists(self) -> list[ScreeningList]:
        rows = self.db.execute("SELECT * FROM screening_lists ORDER BY name").fetchall()
        return [from_row(ScreeningList, row) for row in rows]

    def listed_addresses(self, address_key: str) -> list[ListedAddress]:
        """Every list entry under this normalised address, in a stable order."""
        rows = self.db.execute(
            "SELECT list, address, asset, reference FROM screening_entries "
            "WHERE address_key = ? ORDER BY list, id",
            (address_key,),
        ).fetchall()
        return [from_row(ListedAddress, row) for row in rows]
