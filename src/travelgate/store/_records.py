"""Finding what a records request covers: the holds and deposits of a customer, an address
or an id, their conversations, reviews and the outbound payloads as they were sent.

A mixin of `Tx`, read-only. Each method names one lookup; the export assembles them.
"""

from __future__ import annotations

import json
from typing import Any

from travelgate.store._connection import Connection
from travelgate.store._holds import Review, from_row
from travelgate.store._sealer import Sealer


class RecordsOps:
    db: Connection
    sealer: Sealer

    def hold_ids(
        self, *, customer_id: str | None = None, destination: str | None = None
    ) -> list[str]:
        """Holds of a customer, or to a destination address, oldest first."""
        column, value = (
            ("customer_id", customer_id)
            if customer_id is not None
            else ("destination", destination)
        )
        rows = self.db.execute(
            f"SELECT id FROM holds WHERE {column} = ? ORDER BY rowid",  # noqa: S608 - fixed names
            (value,),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def deposit_ids(self, *, customer_id: str) -> list[str]:
        """Deposits (inbound transfers) matched to a customer, oldest first, by public id."""
        rows = self.db.execute(
            "SELECT public_id FROM conversations WHERE role = 'beneficiary' AND customer_id = ? "
            "ORDER BY id",
            (customer_id,),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def conversation_ids_of_hold(self, hold_id: str) -> list[int]:
        rows = self.db.execute(
            "SELECT id FROM conversations WHERE hold_id = ? ORDER BY id", (hold_id,)
        ).fetchall()
        return [int(row[0]) for row in rows]

    def reviews_of(self, subject_ids: tuple[str, ...]) -> list[Review]:
        marks = ", ".join("?" for _ in subject_ids)
        rows = self.db.execute(
            f"SELECT rowid, * FROM reviews WHERE subject_id IN ({marks}) ORDER BY rowid",  # noqa: S608
            subject_ids,
        ).fetchall()
        return [from_row(Review, row) for row in rows]

    def sent_body(self, envelope_row: int) -> tuple[str, bytes] | None:
        """What we sealed into an outbound envelope (`payload` or `error` protobuf, opened),
        as the outbox kept it; None once the outbox row is purged."""
        row = self.db.execute(
            "SELECT body_kind, body FROM outbox WHERE request_id = ? ORDER BY id LIMIT 1",
            (envelope_row,),
        ).fetchone()
        if row is None:
            return None
        body = bytes(row[1])
        return str(row[0]), body if row[0] == "json" else self.sealer.open(body)

    def purge_records(self) -> list[tuple[int, str, dict[str, Any]]]:
        """Every `records.purged` audit record still kept: (seq, at, detail)."""
        rows = self.db.execute(
            "SELECT id, at, detail FROM audit WHERE action = 'records.purged' ORDER BY id"
        ).fetchall()
        return [(int(row[0]), str(row[1]), json.loads(row[2])) for row in rows]
