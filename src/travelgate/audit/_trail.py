"""A node's audit trail read back from its database: checked whole, or exported.

`verify_trail` walks the chain from its start (or from the anchor a retention purge left,
which a signed `audit.purged` record must state) and reports the first record that fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from travelgate.audit._chain import GENESIS, PURGED, AuditRecord, ChainReport, check_chain
from travelgate.audit._key import public_key_text
from travelgate.timestamps import format_timestamp

if TYPE_CHECKING:
    from travelgate.store import Store, Tx


def parse_moment(text: str, what: str) -> str:
    """An RFC 3339 time or a date (UTC midnight) as store time text; ValueError otherwise."""
    cleaned = text.strip()
    try:
        if len(cleaned) == 10:
            moment = datetime.fromisoformat(cleaned).replace(tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{what} must be a date (2026-01-31) or an RFC 3339 time "
            f"(2026-01-31T12:00:00Z), got {text!r}"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"{what} needs a time zone (Z or +hh:mm): {text!r}")
    return format_timestamp(moment)


def check_stored_chain(tx: Tx) -> ChainReport:
    """The whole chain in `tx`'s database, against the store's audit key."""
    anchor = tx.audit_anchor()
    start_seq, start_prev = (1, GENESIS) if anchor is None else (anchor[0] + 1, anchor[1])
    attested: list[bool] = []

    def watched() -> Iterator[AuditRecord]:
        for record in tx.audit_records():
            if (
                anchor is not None
                and record.action == PURGED
                and record.detail.get("through_seq") == anchor[0]
                and record.detail.get("through_hash") == anchor[1]
            ):
                attested.append(True)
            yield record

    report = check_chain(
        watched(), tx.audit_key.public_key, start_seq=start_seq, start_prev=start_prev
    )
    if report.intact and anchor is not None and not attested:
        return ChainReport(
            report.checked,
            f"records 1 to {anchor[0]} were removed without a signed {PURGED} record "
            "stating it (the chain's start was cut)",
            report.head,
        )
    return report


async def verify_trail(db: Store) -> ChainReport:
    return await db.read(check_stored_chain)


def export_lines(tx: Tx, since: str | None, until: str | None) -> Iterator[str]:
    """JSON lines, one per record in the window, each with the audit public key."""
    key = public_key_text(tx.audit_key.public_key)
    for record in tx.audit_records(since=since, until=until):
        line: dict[str, Any] = {**record.as_json(), "public_key": key}
        yield json.dumps(line, sort_keys=True, ensure_ascii=False)
