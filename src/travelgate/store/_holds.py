"""Rows of the withdrawal side: holds, the outbox, reviews and API keys.

A mixin of `Tx`: every method runs inside the caller's transaction, so a state change, its
outbox rows and its audit event (`AuditOps`) commit together or not at all.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from google.protobuf.message import Message

from travelgate.errors import WriteConflictError
from travelgate.store._clock import now_text
from travelgate.store._connection import Connection, Row
from travelgate.store._sealer import Sealer
from travelgate.transfers import CONVERSATION_FINAL_STATES

T = TypeVar("T")


def from_row(cls: type[T], row: Row, **converted: Any) -> T:
    """A dataclass from a row whose columns bear its field names; `converted` overrides."""
    values = {
        field.name: converted[field.name] if field.name in converted else row[field.name]
        for field in dataclasses.fields(cls)  # type: ignore[arg-type]
    }
    return cls(**values)


@dataclass(frozen=True)
class Hold:
    id: str
    rowid: int
    api_key_id: str
    idempotency_key: str
    request_hash: str
    request: Mapping[str, Any]
    state: str
    asset: str
    network: str
    amount: str
    destination: str
    customer_id: str | None
    counterparty: str | None
    envelope_id: str | None
    decision: Mapping[str, Any] | None
    decision_rule: str | None
    decision_reason: str | None
    deadline: str | None
    started_at: str | None
    txid: str | None
    version: int
    created_at: str
    updated_at: str
    counterparty_kind: str | None = None
    counterparty_protocol: str | None = None
    decision_code: str | None = None
    trisa_code: str | None = None
    beneficiary_identity: Mapping[str, Any] | None = None
    beneficiary_match: str | None = None
    screening: Mapping[str, Any] | None = None
    release_at: str | None = None
    approved_address: str | None = None


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str
    target: str
    hold_id: str | None
    envelope_id: str | None
    transfer_state: str | None
    body_kind: str
    body: bytes
    event_id: str | None
    request_id: int | None
    state: str
    attempts: int
    next_attempt_at: str
    last_error: str | None
    created_at: str


@dataclass(frozen=True)
class Review:
    id: str
    rowid: int
    kind: str
    subject_id: str
    rule: str | None
    reason: str | None
    state: str
    decision_reason: str | None
    decided_at: str | None
    created_at: str


@dataclass(frozen=True)
class ApiKey:
    id: str
    label: str
    created_at: str
    revoked_at: str | None
    scopes: tuple[str, ...] = ()
    last_used_at: str | None = None


@dataclass(frozen=True)
class HoldFilter:
    """What `GET /v1/withdrawals` narrows a page to (None: any)."""

    state: str | None = None
    customer_id: str | None = None
    counterparty: str | None = None
    created_after: str | None = None  # store time text, exclusive
    created_before: str | None = None  # store time text, exclusive


@dataclass(frozen=True)
class Gauges:
    """The state of the node at one moment, for the Prometheus gauges."""

    holds: Mapping[str, int]
    open_reviews: int
    oldest_review_at: str | None
    outbox_pending: Mapping[str, int]
    outbox_dead: Mapping[str, int]


_HOLD_UPDATABLE = frozenset(
    {
        "state",
        "counterparty",
        "envelope_id",
        "decision",
        "decision_rule",
        "decision_reason",
        "deadline",
        "started_at",
        "txid",
        "decision_code",
        "trisa_code",
        "screening",
        "release_at",
        "beneficiary_identity",
        "beneficiary_match",
        "approved_address",
        "destination",
    }
)


class HoldOps:
    db: Connection
    sealer: Sealer
    enqueued: bool
    purged: dict[str, list[dict[str, Any]]]

    # -- holds ---------------------------------------------------------------------------

    def insert_hold(self, *, stamp: str, request: Mapping[str, Any], **columns: Any) -> None:
        values = {
            **columns,
            "request": self.sealer.seal(json.dumps(request, sort_keys=True).encode()),
            "created_at": stamp,
            "updated_at": stamp,
        }
        for name in ("decision", "screening"):
            if isinstance(values.get(name), Mapping):
                values[name] = json.dumps(values[name], sort_keys=True)
        names = ", ".join(values)
        marks = ", ".join(f":{name}" for name in values)
        self.db.execute(f"INSERT INTO holds ({names}) VALUES ({marks})", values)  # noqa: S608

    def update_hold(
        self, hold_id: str, *, stamp: str, expected_version: int | None = None, **changes: Any
    ) -> None:
        """Set columns of a hold; with `expected_version`, only if nobody changed it since
        (WriteConflictError otherwise: another process moved it first)."""
        unknown = set(changes) - _HOLD_UPDATABLE
        if unknown:
            raise ValueError(f"unknown hold columns: {sorted(unknown)}")
        for name in ("decision", "screening"):
            if isinstance(changes.get(name), Mapping):
                changes[name] = json.dumps(changes[name], sort_keys=True)
        if isinstance(changes.get("beneficiary_identity"), Mapping):
            identity = json.dumps(changes["beneficiary_identity"], sort_keys=True).encode()
            changes["beneficiary_identity"] = self.sealer.seal(identity)
        assignments = ", ".join(f"{name} = :{name}" for name in changes)
        guard = "" if expected_version is None else " AND version = :expected_version"
        cursor = self.db.execute(
            f"UPDATE holds SET {assignments}, updated_at = :stamp, version = version + 1 "  # noqa: S608
            f"WHERE id = :id{guard}",
            {**changes, "stamp": stamp, "id": hold_id, "expected_version": expected_version},
        )
        if expected_version is not None and cursor.rowcount == 0:
            raise WriteConflictError(
                f"hold {hold_id} changed since version {expected_version} was read"
            )

    def claim_idempotency_key(self, key: str, hold_id: str, *, stamp: str) -> bool:
        """Claim an Idempotency-Key for the hold this transaction is about to insert; False
        when another request (of any process) holds a withdrawal with it already."""
        row = self.db.execute(
            "INSERT INTO idempotency_keys (idempotency_key, hold_id, created_at) "
            "VALUES (?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING hold_id",
            (key, hold_id, stamp),
        ).fetchone()
        return row is not None

    def hold_of_idempotency_key(self, key: str) -> Hold | None:
        """The hold that claimed an Idempotency-Key (`claim_idempotency_key`)."""
        row = self.db.execute(
            "SELECT h.rowid, h.* FROM idempotency_keys AS k JOIN holds AS h ON h.id = k.hold_id "
            "WHERE k.idempotency_key = ?",
            (key,),
        ).fetchone()
        return None if row is None else self._hold(row)

    def hold(self, hold_id: str) -> Hold | None:
        row = self.db.execute("SELECT rowid, * FROM holds WHERE id = ?", (hold_id,)).fetchone()
        return None if row is None else self._hold(row)

    def hold_by_idempotency(self, key: str) -> Hold | None:
        """The hold made with this Idempotency-Key by any API key of the node: a key rotation
        in the middle of a retry must not hold (and send) the same withdrawal twice."""
        row = self.db.execute(
            "SELECT rowid, * FROM holds WHERE idempotency_key = ? ORDER BY rowid LIMIT 1",
            (key,),
        ).fetchone()
        return None if row is None else self._hold(row)

    def hold_for_envelope(self, envelope_id: str) -> Hold | None:
        row = self.db.execute(
            "SELECT rowid, * FROM holds WHERE envelope_id = ?", (envelope_id,)
        ).fetchone()
        return None if row is None else self._hold(row)

    def holds_page(
        self, *, state: str | None, before: int | None, limit: int, only: HoldFilter | None = None
    ) -> list[Hold]:
        """Newest first; `before` is the rowid cursor of the previous page (keyset paging)."""
        only = only or HoldFilter(state=state)
        clauses: list[str] = []
        parameters: list[object] = []
        for clause, value in (
            ("state = ?", only.state or state),
            ("customer_id = ?", only.customer_id),
            ("counterparty = ?", only.counterparty),
            ("created_at > ?", only.created_after),
            ("created_at < ?", only.created_before),
            ("rowid < ?", before),
        ):
            if value is not None:
                clauses.append(clause)
                parameters.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.db.execute(
            f"SELECT rowid, * FROM holds {where} ORDER BY rowid DESC LIMIT ?",  # noqa: S608
            (*parameters, limit),
        ).fetchall()
        return [self._hold(row) for row in rows]

    def holds_due(self, now: str, limit: int = 100) -> list[Hold]:
        rows = self.db.execute(
            "SELECT rowid, * FROM holds WHERE deadline IS NOT NULL AND deadline <= ? "
            "AND state IN ('awaiting_reply', 'held') ORDER BY deadline LIMIT ?",
            (now, limit),
        ).fetchall()
        return [self._hold(row) for row in rows]

    def holds_to_release(self, now: str, limit: int = 100) -> list[Hold]:
        """Held withdrawals whose new-destination wait is over."""
        rows = self.db.execute(
            "SELECT rowid, * FROM holds WHERE release_at IS NOT NULL AND release_at <= ? "
            "AND state = 'held' ORDER BY release_at LIMIT ?",
            (now, limit),
        ).fetchall()
        return [self._hold(row) for row in rows]

    def _hold(self, row: Row) -> Hold:
        return from_row(
            Hold,
            row,
            request=json.loads(self.sealer.open(row["request"])),
            decision=json.loads(row["decision"]) if row["decision"] else None,
            screening=json.loads(row["screening"]) if row["screening"] else None,
            beneficiary_identity=(
                json.loads(self.sealer.open(row["beneficiary_identity"]))
                if row["beneficiary_identity"]
                else None
            ),
        )

    def _keyset(self, table: str, state: str | None, before: int | None, limit: int) -> list[Row]:
        """Rows of `table` newest first, optionally of one state, below a rowid cursor."""
        clauses: list[str] = []
        parameters: list[object] = []
        if state is not None:
            clauses.append("state = ?")
            parameters.append(state)
        if before is not None:
            clauses.append("rowid < ?")
            parameters.append(before)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return self.db.execute(
            f"SELECT rowid, * FROM {table} {where} ORDER BY rowid DESC LIMIT ?",  # noqa: S608
            (*parameters, limit),
        ).fetchall()

    # -- outbox --------------------------------------------------------------------------

    def enqueue(
        self,
        *,
        kind: str,
        target: str,
        body_kind: str,
        body: bytes,
        stamp: str,
        hold_id: str | None = None,
        envelope_id: str | None = None,
        transfer_state: str | None = None,
        event_id: str | None = None,
        not_before: str | None = None,
    ) -> int:
        self.enqueued = True
        sealed = body if body_kind == "json" else self.sealer.seal(body)
        row = self.db.execute(
            "INSERT INTO outbox (kind, target, hold_id, envelope_id, transfer_state, body_kind, "
            "body, event_id, next_attempt_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                kind,
                target,
                hold_id,
                envelope_id,
                transfer_state,
                body_kind,
                sealed,
                event_id,
                not_before or stamp,
                stamp,
                stamp,
            ),
        ).fetchone()
        return int(row[0])

    def enqueue_transfer(
        self,
        target: str,
        envelope_id: str,
        state: str,
        *,
        payload: Message | None = None,
        error: Message | None = None,
        hold_id: str | None = None,
    ) -> int:
        """Queue an envelope for a peer: a Payload to seal, or an Error to send as it is."""
        if (payload is None) == (error is None):
            raise ValueError("a transfer carries either a payload or an error")
        body = payload if payload is not None else error
        assert body is not None
        return self.enqueue(
            kind="transfer",
            target=target,
            body_kind="payload" if payload is not None else "error",
            body=body.SerializeToString(),
            stamp=now_text(),
            hold_id=hold_id,
            envelope_id=envelope_id,
            transfer_state=state,
        )

    def outbox_due(self, now: str, limit: int) -> list[OutboxItem]:
        rows = self.db.execute(
            "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?",
            (now, limit),
        ).fetchall()
        return [self._outbox(row) for row in rows]

    def claim_outbox(
        self, owner: str, *, now: str, lease_until: str, limit: int
    ) -> list[OutboxItem]:
        """Claim up to `limit` due rows for `owner` until `lease_until`, in one statement:
        a row is claimed by one process at a time, and a claim whose lease ran out (its
        process died or stalled) is free again. Oldest due first."""
        skip_locked = (
            " FOR UPDATE SKIP LOCKED" if getattr(self, "dialect", "sqlite") == "postgres" else ""
        )
        free = "state = 'pending' AND (lease_until IS NULL OR lease_until <= ?)"
        rows = self.db.execute(
            "UPDATE outbox SET claimed_by = ?, lease_until = ? WHERE id IN ("  # noqa: S608
            f"SELECT id FROM outbox WHERE {free} AND next_attempt_at <= ? "
            f"ORDER BY next_attempt_at, id LIMIT ?{skip_locked}) "
            # Checked again on the row itself: without SKIP LOCKED, a concurrent claim that
            # committed first has made it taken.
            f"AND {free} RETURNING *",
            (owner, lease_until, now, now, limit, now),
        ).fetchall()
        items = [self._outbox(row) for row in rows]
        return sorted(items, key=lambda item: (item.next_attempt_at, item.id))

    def renew_outbox_claims(self, owner: str, item_ids: Sequence[int], *, lease_until: str) -> int:
        """Extend the leases of the rows `owner` is still delivering (a row it claimed but
        no longer works on is left to lapse)."""
        if not item_ids:
            return 0
        marks = ", ".join("?" for _ in item_ids)
        return self.db.execute(
            "UPDATE outbox SET lease_until = ? "  # noqa: S608 - only placeholders are added
            f"WHERE claimed_by = ? AND state = 'pending' AND id IN ({marks})",
            (lease_until, owner, *item_ids),
        ).rowcount

    def release_outbox_claims(self, owner: str) -> int:
        """Give back every claim of `owner` (a clean shutdown: others may deliver now)."""
        return self.db.execute(
            "UPDATE outbox SET claimed_by = NULL, lease_until = NULL "
            "WHERE claimed_by = ? AND state = 'pending'",
            (owner,),
        ).rowcount

    def outbox_item(self, item_id: int) -> OutboxItem | None:
        row = self.db.execute("SELECT * FROM outbox WHERE id = ?", (item_id,)).fetchone()
        return None if row is None else self._outbox(row)

    def outbox_items(
        self, *, state: str | None = None, hold_id: str | None = None, limit: int = 100
    ) -> list[OutboxItem]:
        clauses: list[str] = []
        parameters: list[object] = []
        if state is not None:
            clauses.append("state = ?")
            parameters.append(state)
        if hold_id is not None:
            clauses.append("hold_id = ?")
            parameters.append(hold_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.db.execute(
            f"SELECT * FROM outbox {where} ORDER BY id DESC LIMIT ?",  # noqa: S608
            (*parameters, limit),
        ).fetchall()
        return [self._outbox(row) for row in rows]

    def next_outbox_time(self) -> str | None:
        row = self.db.execute(
            "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'"
        ).fetchone()
        return None if row is None else row[0]

    def outbox_done(self, item_id: int, *, stamp: str) -> None:
        self.db.execute(
            "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, last_error = NULL, "
            "claimed_by = NULL, lease_until = NULL, updated_at = ? WHERE id = ?",
            (stamp, item_id),
        )

    def outbox_failed(self, item_id: int, *, stamp: str, error: str, retry_at: str | None) -> bool:
        """Schedule a retry at `retry_at`, or dead-letter the item when it is None. False
        when the row is no longer pending (another process delivered it meanwhile)."""
        return (
            self.db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, updated_at = ?, "
                "state = CASE WHEN ? IS NULL THEN 'dead' ELSE state END, "
                "claimed_by = NULL, lease_until = NULL, "
                "next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ? AND state = 'pending'",
                (error[:500], stamp, retry_at, retry_at, item_id),
            ).rowcount
            > 0
        )

    def outbox_sealed(self, item_id: int, request_id: int | None) -> None:
        """Point the row at other stored bytes (a re-seal after a re-key), or at none."""
        self.db.execute("UPDATE outbox SET request_id = ? WHERE id = ?", (request_id, item_id))

    def outbox_sealed_once(self, item_id: int, request_id: int) -> bool:
        """Record the first sealed envelope of a row; False when one is recorded already
        (another process sealed it first: its bytes are the ones to send)."""
        return (
            self.db.execute(
                "UPDATE outbox SET request_id = ? WHERE id = ? AND request_id IS NULL",
                (request_id, item_id),
            ).rowcount
            > 0
        )

    def outbox_body(self, item: OutboxItem) -> bytes:
        return item.body if item.body_kind == "json" else self.sealer.open(item.body)

    def envelope_row(self, envelope_row: int) -> tuple[bytes, int | None] | None:
        """The raw bytes and conversation of a stored envelope."""
        row = self.db.execute(
            "SELECT raw, conversation_id FROM envelopes WHERE id = ?", (envelope_row,)
        ).fetchone()
        return None if row is None else (bytes(row[0]), row[1])

    def _outbox(self, row: Row) -> OutboxItem:
        return from_row(OutboxItem, row, body=bytes(row["body"]))

    # -- reviews -------------------------------------------------------------------------

    def open_review(
        self, review_id: str, *, kind: str, subject_id: str, rule: str, reason: str, stamp: str
    ) -> str:
        """Open a review for a subject, or return the one already open for it (one open
        review per subject is a unique index, so concurrent openers agree on one)."""
        self.db.execute(
            "INSERT INTO reviews (id, kind, subject_id, rule, reason, state, created_at) "
            "VALUES (?, ?, ?, ?, ?, 'open', ?) "
            "ON CONFLICT (subject_id) WHERE state = 'open' DO NOTHING",
            (review_id, kind, subject_id, rule, reason, stamp),
        )
        row = self.db.execute(
            "SELECT id FROM reviews WHERE subject_id = ? AND state = 'open'", (subject_id,)
        ).fetchone()
        return review_id if row is None else str(row[0])

    def review(self, review_id: str) -> Review | None:
        row = self.db.execute("SELECT rowid, * FROM reviews WHERE id = ?", (review_id,)).fetchone()
        return None if row is None else self._review(row)

    def reviews_page(self, *, state: str | None, before: int | None, limit: int) -> list[Review]:
        return [self._review(row) for row in self._keyset("reviews", state, before, limit)]

    def close_review(self, review_id: str, *, state: str, reason: str, stamp: str) -> None:
        """Decide an open review (WriteConflictError if another process decided it first:
        the caller's unit of work runs again and sees that decision)."""
        cursor = self.db.execute(
            "UPDATE reviews SET state = ?, decision_reason = ?, decided_at = ? "
            "WHERE id = ? AND state = 'open'",
            (state, reason, stamp, review_id),
        )
        if cursor.rowcount == 0:
            raise WriteConflictError(f"review {review_id} was decided meanwhile")

    def close_reviews_of(self, subject_id: str, *, reason: str, stamp: str) -> None:
        self.db.execute(
            "UPDATE reviews SET state = 'closed', decision_reason = ?, decided_at = ? "
            "WHERE subject_id = ? AND state = 'open'",
            (reason, stamp, subject_id),
        )

    def _review(self, row: Row) -> Review:
        return from_row(Review, row)

    # -- retention -----------------------------------------------------------------------

    def hold_retentions(self) -> list[int]:
        """The distinct per-hold retention periods, in seconds (see `purge`)."""
        rows = self.db.execute(
            "SELECT DISTINCT retention_seconds FROM holds WHERE retention_seconds IS NOT NULL"
        ).fetchall()
        return sorted(int(row[0]) for row in rows)

    def purge(self, cutoff: str, hold_cutoffs: Mapping[int, str] | None = None) -> dict[str, int]:
        """Delete what is older than the retention cutoff and closed (crypto-shred: the
        sealed personal data goes with its row). Open exchanges and holds are kept.

        A hold that recorded its own retention (`retention_seconds`) goes at the cutoff
        `hold_cutoffs` gives for that period, where it gives one, instead; the exchange of
        envelopes that belongs to a hold goes with it (never before it).
        """
        closed_holds = ("released", "rejected", "expired", "canceled")
        own = sorted((hold_cutoffs or {}).items())
        others = ""
        if own:
            marks = ", ".join("?" for _ in own)
            others = f"AND (retention_seconds IS NULL OR retention_seconds NOT IN ({marks})) "
        holds = self.db.execute(
            "DELETE FROM holds WHERE updated_at < ? AND state IN (?, ?, ?, ?) "  # noqa: S608
            f"{others}RETURNING id, customer_id",
            (cutoff, *closed_holds, *(seconds for seconds, _ in own)),
        ).fetchall()
        for seconds, own_cutoff in own:
            holds += self.db.execute(
                "DELETE FROM holds WHERE updated_at < ? AND retention_seconds = ? "
                "AND state IN (?, ?, ?, ?) RETURNING id, customer_id",
                (own_cutoff, seconds, *closed_holds),
            ).fetchall()
        final = sorted(CONVERSATION_FINAL_STATES)
        conversations = self.db.execute(
            "DELETE FROM conversations WHERE updated_at < ? AND state IN (?, ?, ?) "
            "AND (hold_id IS NULL OR NOT EXISTS "
            "(SELECT 1 FROM holds WHERE holds.id = conversations.hold_id)) "
            "RETURNING public_id, role, customer_id",
            (cutoff, *final),
        ).fetchall()
        for row in holds:
            conversations += self.db.execute(
                "DELETE FROM conversations WHERE hold_id = ? "
                "RETURNING public_id, role, customer_id",
                (row[0],),
            ).fetchall()
        envelopes = self.db.execute(
            "DELETE FROM envelopes WHERE conversation_id IS NULL AND created_at < ?", (cutoff,)
        ).rowcount
        # What went, by reference only: the audit trail says so (see `Tx.purge`), so a
        # records export can report a purged record instead of silently missing it.
        self.purged = {
            "holds": [{"id": row[0], "customer_id": row[1]} for row in holds],
            "deposits": [
                {"id": row[0], "customer_id": row[2]}
                for row in conversations
                if row[1] == "beneficiary"
            ],
        }
        counts = {
            "conversations": len(conversations),
            "envelopes": envelopes,
            "holds": len(holds),
            "outbox": self.db.execute(
                "DELETE FROM outbox WHERE updated_at < ? AND state != 'pending'", (cutoff,)
            ).rowcount,
            "reviews": self.db.execute(
                "DELETE FROM reviews WHERE created_at < ? AND state != 'open'", (cutoff,)
            ).rowcount,
        }
        return counts

    # -- API keys --------------------------------------------------------------

    def insert_api_key(self, key_id: str, key_hash: str, label: str, stamp: str) -> None:
        self.db.execute(
            "INSERT INTO api_keys (id, hash, label, created_at) VALUES (?, ?, ?, ?)",
            (key_id, key_hash, label, stamp),
        )

    def insert_scoped_api_key(
        self, key_id: str, key_hash: str, label: str, scopes: tuple[str, ...], stamp: str
    ) -> None:
        self.db.execute(
            "INSERT INTO api_keys (id, hash, label, scopes, created_at) VALUES (?, ?, ?, ?, ?)",
            (key_id, key_hash, label, " ".join(scopes), stamp),
        )

    def api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        row = self.db.execute("SELECT * FROM api_keys WHERE hash = ?", (key_hash,)).fetchone()
        return None if row is None else self._api_key(row)

    def rehash_api_key(self, key_id: str, key_hash: str) -> None:
        self.db.execute("UPDATE api_keys SET hash = ? WHERE id = ?", (key_hash, key_id))

    def api_keys(self) -> list[ApiKey]:
        rows = self.db.execute("SELECT * FROM api_keys ORDER BY created_at, id").fetchall()
        return [self._api_key(row) for row in rows]

    def api_key_used(self, key_id: str, stamp: str) -> None:
        self.db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (stamp, key_id))

    def revoke_api_key(self, key_id: str, stamp: str) -> bool:
        """Revoke a key; False when there is no such key or it was already revoked."""
        cursor = self.db.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (stamp, key_id),
        )
        return cursor.rowcount > 0

    def _api_key(self, row: Row) -> ApiKey:
        return ApiKey(
            id=row["id"],
            label=row["label"],
            created_at=row["created_at"],
            revoked_at=row["revoked_at"],
            scopes=tuple(row["scopes"].split()),
            last_used_at=row["last_used_at"],
        )

    # -- gauges --------------------------------------------------------------------------

    def gauges(self) -> Gauges:
        holds = dict(self.db.execute("SELECT state, count(*) FROM holds GROUP BY state"))
        count, oldest = self.db.execute(
            "SELECT count(*), min(created_at) FROM reviews WHERE state = 'open'"
        ).fetchone()
        outbox: dict[str, dict[str, int]] = {"pending": {}, "dead": {}}
        for state, target, number in self.db.execute(
            "SELECT state, target, count(*) FROM outbox WHERE state IN ('pending', 'dead') "
            "GROUP BY state, target"
        ):
            outbox[state][target] = number
        return Gauges(holds, count, oldest, outbox["pending"], outbox["dead"])
