"""Rows of sunrise: one-time links that let a counterparty on no travel-rule network answer
a withdrawal by email.

A mixin of `Tx`. A link row stands for one emailed invitation: the hold it concerns, the
peer and address it went to, the identity shown on the page (sealed at rest), and only
keyed digests of the token in the link and of the optional one-time code. The token itself
is never stored: whoever reads the database cannot open a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from travelgate.errors import StoreError
from travelgate.store._clock import now_text
from travelgate.store._connection import Connection
from travelgate.store._holds import from_row
from travelgate.store._sealer import Sealer

OPEN = "open"


@dataclass(frozen=True)
class SunriseLink:
    id: str
    hold_id: str
    peer: str
    email: str
    email_code: bool
    token_hash: str | None
    code_hash: str | None
    code_tries: int
    unlock_hash: str | None
    identity: bytes  # IVMS101 JSON of what the page shows, opened
    state: str  # open | accepted | rejected | void | locked
    expires_at: str
    viewed_at: str | None
    decided_at: str | None
    created_at: str
    updated_at: str


_UPDATABLE = frozenset(
    {"token_hash", "code_hash", "code_tries", "unlock_hash", "state", "viewed_at", "decided_at"}
)


class SunriseOps:
    db: Connection
    sealer: Sealer

    def insert_sunrise_link(
        self,
        link_id: str,
        *,
        hold_id: str,
        peer: str,
        email: str,
        email_code: bool,
        identity: bytes,
        expires_at: str,
    ) -> None:
        stamp = now_text()
        self.db.execute(
            "INSERT INTO sunrise_links (id, hold_id, peer, email, email_code, code_tries, "
            "identity, state, expires_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
            (
                link_id,
                hold_id,
                peer,
                email,
                1 if email_code else 0,
                self.sealer.seal(identity),
                OPEN,
                expires_at,
                stamp,
                stamp,
            ),
        )

    def update_sunrise_link(self, link_id: str, **changes: Any) -> None:
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise StoreError(f"unknown sunrise link columns: {sorted(unknown)}")
        changes["updated_at"] = now_text()
        assignments = ", ".join(f"{name} = :{name}" for name in changes)
        self.db.execute(
            f"UPDATE sunrise_links SET {assignments} WHERE id = :id",  # noqa: S608 - whitelisted
            {**changes, "id": link_id},
        )

    def spend_sunrise_link(self, link_id: str, state: str) -> bool:
        """Record the link's one decision; False when another request spent it first."""
        return (
            self.db.execute(
                "UPDATE sunrise_links SET state = ?, decided_at = ?, updated_at = ? "
                "WHERE id = ? AND state = 'open'",
                (state, now_text(), now_text(), link_id),
            ).rowcount
            == 1
        )

    def sunrise_link(self, link_id: str) -> SunriseLink | None:
        return self._sunrise_one("id = ?", link_id)

    def sunrise_link_by_token(self, token_hash: str) -> SunriseLink | None:
        return self._sunrise_one("token_hash = ?", token_hash)

    def sunrise_link_for_hold(self, hold_id: str) -> SunriseLink | None:
        """The hold's latest link (a person's acceptance after review sends a new one)."""
        return self._sunrise_one("hold_id = ?", hold_id)

    def void_sunrise_links(self, hold_id: str) -> int:
        """Every open link of a hold stops working (the hold was canceled or decided)."""
        return self.db.execute(
            "UPDATE sunrise_links SET state = 'void', updated_at = ? "
            "WHERE hold_id = ? AND state = 'open'",
            (now_text(), hold_id),
        ).rowcount

    def purge_sunrise(self, cutoff: str) -> int:
        """Links of holds that retention removed, once they are old."""
        return self.db.execute(
            "DELETE FROM sunrise_links WHERE updated_at < ? "
            "AND NOT EXISTS (SELECT 1 FROM holds WHERE holds.id = sunrise_links.hold_id)",
            (cutoff,),
        ).rowcount

    def _sunrise_one(self, where: str, parameter: object) -> SunriseLink | None:
        row = self.db.execute(
            f"SELECT * FROM sunrise_links WHERE {where} "  # noqa: S608 - fixed clauses
            "ORDER BY created_at DESC, id DESC LIMIT 1",
            (parameter,),
        ).fetchone()
        if row is None:
            return None
        return from_row(
            SunriseLink,
            row,
            email_code=bool(row["email_code"]),
            identity=self.sealer.open(bytes(row["identity"])),
        )
