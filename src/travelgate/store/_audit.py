"""The audit trail's rows: appending to the hash chain, reading it back, purging its head.

A mixin of `Tx`. Appending reads the last record and writes the next inside the caller's
write transaction, which every backend serialises across processes (SQLite's write lock,
PostgreSQL's write advisory lock); the unique index on `prev_hash` makes a fork impossible
even if two writers ever raced. Free text a person or a peer wrote (reasons, messages) may
name persons: it is sealed in `audit_notes` and the record keeps a reference, so the trail
itself holds no personal data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from travelgate.audit._chain import CHAIN_STARTED, GENESIS, PURGED, AuditRecord, canonical
from travelgate.audit._key import AuditKey, fingerprint
from travelgate.store._clock import now_text
from travelgate.store._connection import Connection
from travelgate.store._sealer import Sealer

# Detail keys whose values are free text; everything else in a detail is a code, an id,
# a count or a digest.
SEALED_DETAIL_KEYS = frozenset({"reason", "message", "note"})
NOTE_PREFIX = "audit_note:"
SYSTEM_ACTOR = "system"


class AuditOps:
    db: Connection
    sealer: Sealer
    audit_key: AuditKey

    def audit(
        self, *, actor: str, action: str, subject: str, detail: Mapping[str, Any], stamp: str
    ) -> int:
        """Append one record to the chain; returns its sequence number."""
        stored = {key: self._seal_note(key, value) for key, value in detail.items()}
        seq = self._append(actor, action, subject, stored, stamp)
        notes = [
            int(v.removeprefix(NOTE_PREFIX)) for k, v in stored.items() if stored[k] != detail[k]
        ]
        if notes:
            self.db.executemany(
                "UPDATE audit_notes SET audit_seq = ? WHERE id = ?", [(seq, n) for n in notes]
            )
        return seq

    def _seal_note(self, key: str, value: Any) -> Any:
        if key not in SEALED_DETAIL_KEYS or not isinstance(value, str) or not value:
            return value
        sealed = self.sealer.seal(value.encode("utf-8"))
        row = self.db.execute(
            "INSERT INTO audit_notes (sealed) VALUES (?) RETURNING id", (sealed,)
        ).fetchone()
        return f"{NOTE_PREFIX}{row[0]}"

    def _append(
        self, actor: str, action: str, subject: str, detail: Mapping[str, Any], stamp: str
    ) -> int:
        last = self.db.execute(
            "SELECT id, hash FROM audit WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if last is None:
            anchor = self.audit_anchor()
            seq, prev = (1, GENESIS) if anchor is None else (anchor[0] + 1, anchor[1])
        else:
            seq, prev = int(last[0]) + 1, str(last[1])
        detail_text = json.dumps(detail, sort_keys=True, default=str)
        content = canonical(
            seq=seq,
            at=stamp,
            actor=actor,
            action=action,
            subject=subject,
            detail=json.loads(detail_text),
            prev=prev,
        )
        digest = hashlib.sha256(content).digest()
        self.db.execute(
            "INSERT INTO audit (id, at, actor, action, subject, detail, prev_hash, hash, "
            "signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                stamp,
                actor,
                action,
                subject,
                detail_text,
                prev,
                digest.hex(),
                self.audit_key.sign(digest).hex(),
            ),
        )
        return seq

    def audit_anchor(self) -> tuple[int, str] | None:
        """The last purged record (its seq and hash), where the kept chain starts from."""
        row = self.db.execute("SELECT seq, hash FROM audit_anchor WHERE id = 1").fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def chain_legacy_audit(self, stamp: str) -> int:
        """Chain the rows written before the chain existed, in their order, and mark where
        the chain started. Run once, by the migration that adds the chain."""
        rows = self.db.execute(
            "SELECT id, at, actor, action, subject, detail FROM audit WHERE hash IS NULL "
            "ORDER BY id"
        ).fetchall()
        if not rows:
            return 0
        # Renumbered from 1 in their order: the chain's sequence has no gaps.
        self.db.execute("DELETE FROM audit WHERE hash IS NULL")
        for row in rows:
            self.audit(
                actor=row[2], action=row[3], subject=row[4], detail=json.loads(row[5]), stamp=row[1]
            )
        self._append(
            SYSTEM_ACTOR,
            CHAIN_STARTED,
            "audit",
            {
                "chained_at_upgrade": len(rows),
                "audit_key": fingerprint(self.audit_key.public_key),
            },
            stamp,
        )
        return len(rows)

    def audit_records(
        self,
        *,
        since: str | None = None,
        until: str | None = None,
        subjects: tuple[str, ...] = (),
    ) -> Iterator[AuditRecord]:
        """Records in chain order, optionally only those at or after `since`, before
        `until`, and about one of `subjects`."""
        clauses, parameters = ["hash IS NOT NULL"], list[object]()
        if since is not None:
            clauses.append("at >= ?")
            parameters.append(since)
        if until is not None:
            clauses.append("at < ?")
            parameters.append(until)
        if subjects:
            clauses.append(f"subject IN ({', '.join('?' for _ in subjects)})")
            parameters.extend(subjects)
        cursor = self.db.execute(
            f"SELECT * FROM audit WHERE {' AND '.join(clauses)} ORDER BY id",  # noqa: S608
            parameters,
        )
        for row in cursor:
            yield AuditRecord(
                seq=int(row["id"]),
                at=row["at"],
                actor=row["actor"],
                action=row["action"],
                subject=row["subject"],
                detail=json.loads(row["detail"]),
                prev=row["prev_hash"],
                hash=row["hash"],
                signature=row["signature"] or "",
            )

    def audit_notes(self, detail: Mapping[str, Any]) -> dict[str, str | None]:
        """The sealed notes a detail refers to, opened (None: purged with its subject)."""
        notes: dict[str, str | None] = {}
        for value in detail.values():
            if isinstance(value, str) and value.startswith(NOTE_PREFIX):
                notes[value] = self.audit_note(value)
        return notes

    def audit_note(self, reference: str) -> str | None:
        number = reference.removeprefix(NOTE_PREFIX)
        if not number.isdigit():
            return None
        row = self.db.execute(
            "SELECT sealed FROM audit_notes WHERE id = ?", (int(number),)
        ).fetchone()
        return None if row is None else self.sealer.open(row[0]).decode("utf-8")

    def audit_of(self, subject: str) -> list[dict[str, Any]]:
        """A subject's records as the API and the services read them: notes opened."""
        found = []
        for record in self.audit_records(subjects=(subject,)):
            notes = self.audit_notes(record.detail)
            detail = {
                key: notes.get(value, value) if isinstance(value, str) else value
                for key, value in record.detail.items()
            }
            found.append(
                {"at": record.at, "actor": record.actor, "action": record.action, "detail": detail}
            )
        return found

    def purge_audit(self, cutoff: str) -> int:
        """Delete the records older than `cutoff` from the head of the chain.

        The chain stays checkable: the last deleted record's seq and hash become the anchor
        the kept records start from, and a signed `audit.purged` record states that anchor,
        so nobody can cut the head without the audit key.
        """
        row = self.db.execute(
            "SELECT id, hash FROM audit WHERE hash IS NOT NULL AND at < ? ORDER BY id DESC LIMIT 1",
            (cutoff,),
        ).fetchone()
        if row is None:
            return 0
        through, last_hash = int(row[0]), str(row[1])
        deleted = self.db.execute("DELETE FROM audit WHERE id <= ?", (through,)).rowcount
        if not deleted:
            return 0
        self.db.execute("DELETE FROM audit_notes WHERE audit_seq <= ?", (through,))
        self.db.execute(
            "INSERT INTO audit_anchor (id, seq, hash) VALUES (1, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            (through, last_hash),
        )
        self._append(
            SYSTEM_ACTOR,
            PURGED,
            "audit",
            {"through_seq": through, "through_hash": last_hash, "records": deleted},
            now_text(),
        )
        return deleted
