"""The console's sign-in sessions and the reads its pages need beyond the API's.

A mixin of `Tx`. A session is found by a keyed digest of its cookie's token, so a copy of
the database cannot be replayed as a cookie; ending a session only ever sets `ended_at`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from travelgate.audit._chain import AuditRecord
from travelgate.store._connection import Connection
from travelgate.store._sealer import Sealer


@dataclass(frozen=True)
class ConsoleSession:
    token_digest: str
    user_id: str
    created_at: str
    last_seen_at: str
    expires_at: str
    ended_at: str | None


@dataclass(frozen=True)
class PeerActivity:
    """What the counterparties page shows of one peer's traffic."""

    peer: str
    last_exchange_at: str | None
    failed_envelopes: int
    dead_letters: int


class ConsoleOps:
    db: Connection
    sealer: Sealer

    def session_digest(self, token: str) -> str:
        return self.sealer.digest(b"console session\x00" + token.encode("ascii"))

    def insert_console_session(
        self, token: str, *, user_id: str, stamp: str, expires_at: str
    ) -> None:
        self.db.execute(
            "INSERT INTO console_sessions (token_digest, user_id, created_at, last_seen_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?)",
            (self.session_digest(token), user_id, stamp, stamp, expires_at),
        )

    def console_session(self, token: str) -> ConsoleSession | None:
        row = self.db.execute(
            "SELECT token_digest, user_id, created_at, last_seen_at, expires_at, ended_at "
            "FROM console_sessions WHERE token_digest = ?",
            (self.session_digest(token),),
        ).fetchone()
        return None if row is None else ConsoleSession(*row)

    def touch_console_session(self, token: str, stamp: str) -> None:
        self.db.execute(
            "UPDATE console_sessions SET last_seen_at = ? WHERE token_digest = ? "
            "AND ended_at IS NULL",
            (stamp, self.session_digest(token)),
        )

    def end_console_session(self, token: str, stamp: str) -> bool:
        """End one session; False when it had ended already (or never was)."""
        return (
            self.db.execute(
                "UPDATE console_sessions SET ended_at = ? WHERE token_digest = ? "
                "AND ended_at IS NULL",
                (stamp, self.session_digest(token)),
            ).rowcount
            > 0
        )

    def end_console_sessions_of(self, user_id: str, stamp: str, *, keep: str = "") -> int:
        """End every open session of a person (disabled, or new credentials), but the one
        whose token is `keep`."""
        return self.db.execute(
            "UPDATE console_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL "
            "AND token_digest <> ?",
            (stamp, user_id, self.session_digest(keep) if keep else ""),
        ).rowcount

    def purge_console_sessions(self, cutoff: str) -> int:
        """Forget sessions that ended or expired before `cutoff`."""
        return self.db.execute(
            "DELETE FROM console_sessions WHERE expires_at < ? OR ended_at < ?",
            (cutoff, cutoff),
        ).rowcount

    def block_counterparty(self, peer: str, *, actor: str, stamp: str) -> bool:
        """Block a counterparty; False when it was blocked already."""
        return (
            self.db.execute(
                "INSERT INTO counterparty_blocks (peer, blocked_by, blocked_at) "
                "VALUES (?, ?, ?) ON CONFLICT (peer) DO NOTHING",
                (peer, actor, stamp),
            ).rowcount
            > 0
        )

    def unblock_counterparty(self, peer: str) -> bool:
        return (
            self.db.execute("DELETE FROM counterparty_blocks WHERE peer = ?", (peer,)).rowcount > 0
        )

    def counterparty_blocks(self) -> dict[str, tuple[str, str]]:
        """Blocked counterparties: name -> (who blocked it, when)."""
        rows = self.db.execute("SELECT peer, blocked_by, blocked_at FROM counterparty_blocks")
        return {row[0]: (row[1], row[2]) for row in rows}

    def oldest_open_review_id(self) -> str | None:
        row = self.db.execute(
            "SELECT id FROM reviews WHERE state = 'open' ORDER BY created_at, id LIMIT 1"
        ).fetchone()
        return None if row is None else str(row[0])

    def audit_page(
        self,
        *,
        before: int | None,
        limit: int,
        actor: str | None = None,
        action: str | None = None,
        subject: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[AuditRecord]:
        """Chained audit records, newest first, keyset paged by sequence number; `action`
        matches a whole action or a family (`review` matches `review.accepted`)."""
        clauses, parameters = ["hash IS NOT NULL"], list[object]()
        for column, value in (("actor", actor), ("subject", subject)):
            if value:
                clauses.append(f"{column} = ?")
                parameters.append(value)
        if action:
            clauses.append("(action = ? OR substr(action, 1, ?) = ?)")
            parameters.extend((action, len(action) + 1, f"{action}."))
        if since:
            clauses.append("at >= ?")
            parameters.append(since)
        if until:
            clauses.append("at < ?")
            parameters.append(until)
        if before is not None:
            clauses.append("id < ?")
            parameters.append(before)
        where = " AND ".join(clauses)
        columns = "id, at, actor, action, subject, detail, prev_hash, hash, signature"
        sql = f"SELECT {columns} FROM audit WHERE {where} ORDER BY id DESC LIMIT ?"  # noqa: S608
        rows = self.db.execute(sql, (*parameters, limit)).fetchall()
        return [
            AuditRecord(
                seq=int(row[0]),
                at=row[1],
                actor=row[2],
                action=row[3],
                subject=row[4],
                detail=json.loads(row[5]),
                prev=row[6],
                hash=row[7],
                signature=row[8] or "",
            )
            for row in rows
        ]

    def peer_activity(self, peers: list[str]) -> list[PeerActivity]:
        """Per peer: its last exchange, envelopes from it we could not open, dead letters."""
        found = []
        for peer in peers:
            last = self.db.execute(
                "SELECT max(updated_at) FROM conversations WHERE peer = ?", (peer,)
            ).fetchone()[0]
            failed = self.db.execute(
                "SELECT count(*) FROM failed_envelopes WHERE peer = ?", (peer,)
            ).fetchone()[0]
            dead = self.db.execute(
                "SELECT count(*) FROM outbox WHERE target = ? AND state = 'dead'", (peer,)
            ).fetchone()[0]
            found.append(PeerActivity(peer, last, int(failed), int(dead)))
        return found
