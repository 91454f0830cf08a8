"""Operations inside one database transaction (run on a database thread, synchronous)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from travelgate.audit._key import AuditKey
from travelgate.errors import (
    AddressTakenError,
    StoreError,
)
from travelgate.store._audit import SYSTEM_ACTOR, AuditOps
from travelgate.store._clock import now_text
from travelgate.store._connection import Connection, Dialect, Row
from travelgate.store._console import ConsoleOps
from travelgate.store._holds import HoldOps, from_row
from travelgate.store._records import RecordsOps
from travelgate.store._screening import ScreeningOps
from travelgate.store._sealer import Sealer
from travelgate.store._sunrise import SunriseOps
from travelgate.store._trp import TrpOps
from travelgate.store._users import UserOps
from travelgate.store._wallets import WalletOps


@dataclass(frozen=True)
class Customer:
    id: str
    person: Mapping[str, Any]
    addresses: tuple[str, ...]
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Conversation:
    id: int
    peer: str
    envelope_id: str
    role: str
    state: str
    customer_id: str | None
    hold_id: str | None
    payload: bytes | None
    last_in_state: str | None
    last_in_digest: str | None
    reply_not_after: str | None
    created_at: str
    updated_at: str
    public_id: str  # the deposit id of the internal API (a UUID)
    version: int  # bumped on every change (long polls, webhooks)
    decision: Mapping[str, Any] | None  # the decision of record on our side, if any
    protocol: str = "trisa"  # trisa | trp


@dataclass(frozen=True)
class CustomerRow:
    """A customer as listed: its rowid is the page cursor."""

    rowid: int
    customer: Customer


@dataclass(frozen=True)
class StoredEnvelope:
    id: int
    conversation_id: int | None
    peer: str
    envelope_id: str
    direction: str
    transfer_state: str
    error_code: int | None
    raw: bytes
    reply_to: int | None
    created_at: str


@dataclass(frozen=True)
class FailedEnvelope:
    """An inbound envelope we could not open: what it was, never its bytes."""

    id: int
    peer: str
    envelope_id: str
    code: int
    size: int
    sha256: str
    created_at: str


# The PostgreSQL channel that carries committed changes to every replica.
CHANGES_CHANNEL = "travelgate_changes"


class Tx(
    HoldOps, ScreeningOps, WalletOps, AuditOps, UserOps, RecordsOps, TrpOps, SunriseOps, ConsoleOps
):
    """The unit of work handed to `Store.read`/`Store.write`: named domain operations only.

    `db` is the backend's connection adapter, for the operation modules of this package
    alone: their SQL is one portable text for SQLite and PostgreSQL. `dialect` ("sqlite" |
    "postgres") names the backend for the rare statement that must differ (e.g. `FOR UPDATE
    SKIP LOCKED` on PostgreSQL).
    """

    def __init__(
        self,
        connection: Connection,
        sealer: Sealer,
        audit_key: AuditKey,
        dialect: Dialect = "sqlite",
    ) -> None:
        self.db = connection
        self.sealer = sealer
        self.audit_key = audit_key
        self.dialect: Dialect = dialect
        self.enqueued = False  # set by `enqueue`: the outbox worker is woken after commit
        self.changes: set[str] = set()  # subjects named by `changed`, told after commit
        self.purged = {"holds": [], "deposits": []}

    def changed(self, subject: str) -> None:
        """Note that `subject` (a hold id, "conversation:<id>" ...) changed: its long polls
        wake once this transaction commits, in this process and in every other replica."""
        self.changes.add(subject)
        if self.dialect == "postgres":
            # Sent inside the transaction: PostgreSQL delivers it on commit, never before.
            self.db.execute("SELECT pg_notify(?, ?)", (CHANGES_CHANNEL, subject))

    def purge(self, cutoff: str, hold_cutoffs: Mapping[int, str] | None = None) -> dict[str, int]:
        """Retention: closed records (see `HoldOps.purge`) and the chain's old head."""
        counts = super().purge(cutoff, hold_cutoffs)
        counts["sunrise_links"] = self.purge_sunrise(cutoff)
        # The trail's head first: the record of what this purge removed must outlive it.
        counts["audit"] = self.purge_audit(cutoff)
        if self.purged["holds"] or self.purged["deposits"]:
            self.audit(
                actor=SYSTEM_ACTOR,
                action="records.purged",
                subject="retention",
                detail={"cutoff": cutoff, **self.purged},
                stamp=now_text(),
            )
        return counts

    def node_key(self, name: str, fingerprint: str, *, stamp: str) -> str:
        """The fingerprint of the node's `name` key as the database knows it: the one
        given, recorded by the first process that opens it, or another process's."""
        self.db.execute(
            "INSERT INTO node_keys (name, fingerprint, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO NOTHING",
            (name, fingerprint, stamp),
        )
        row = self.db.execute(
            "SELECT fingerprint FROM node_keys WHERE name = ?", (name,)
        ).fetchone()
        return str(row[0])

    # -- customers -----------------------------------------------------------------------

    def put_customer(
        self, customer_id: str, person: Mapping[str, Any], addresses: Sequence[str]
    ) -> bool:
        """Create or replace a customer and their addresses; True when it was created."""
        for address in addresses:
            row = self.db.execute(
                "SELECT customer_id FROM customer_addresses WHERE address = ?", (address,)
            ).fetchone()
            if row is not None and row[0] != customer_id:
                raise AddressTakenError(address, row[0])
        sealed = self.sealer.seal(json.dumps(person, sort_keys=True).encode())
        stamp = now_text()
        created = (
            self.db.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone()
            is None
        )
        self.db.execute(
            "INSERT INTO customers (id, person, created_at, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET person = excluded.person, "
            "updated_at = excluded.updated_at",
            (customer_id, sealed, stamp, stamp),
        )
        self.db.execute("DELETE FROM customer_addresses WHERE customer_id = ?", (customer_id,))
        self.db.executemany(
            "INSERT INTO customer_addresses (address, customer_id) VALUES (?, ?)",
            [(address, customer_id) for address in dict.fromkeys(addresses)],
        )
        return created

    def get_customer(self, customer_id: str) -> Customer | None:
        row = self.db.execute(
            "SELECT id, person, created_at, updated_at FROM customers WHERE id = ?",
            (customer_id,),
        ).fetchone()
        if row is None:
            return None
        addresses = tuple(
            r[0]
            for r in self.db.execute(
                "SELECT address FROM customer_addresses WHERE customer_id = ? ORDER BY address",
                (customer_id,),
            )
        )
        person = json.loads(self.sealer.open(row["person"]))
        return Customer(row["id"], person, addresses, row["created_at"], row["updated_at"])

    def customers_page(self, *, before: int | None, limit: int) -> list[CustomerRow]:
        """Newest first; `before` is the rowid cursor of the previous page."""
        where = "WHERE rowid < ?" if before is not None else ""
        parameters = (before, limit) if before is not None else (limit,)
        rows = self.db.execute(
            f"SELECT rowid, id FROM customers {where} ORDER BY rowid DESC LIMIT ?",  # noqa: S608
            parameters,
        ).fetchall()
        found = [(row[0], self.get_customer(row[1])) for row in rows]
        return [CustomerRow(rowid, c) for rowid, c in found if c is not None]

    def delete_customer(self, customer_id: str) -> bool:
        return self.db.execute("DELETE FROM customers WHERE id = ?", (customer_id,)).rowcount > 0

    def customer_for_address(self, address: str) -> Customer | None:
        row = self.db.execute(
            "SELECT customer_id FROM customer_addresses WHERE address = ?", (address,)
        ).fetchone()
        return None if row is None else self.get_customer(row[0])

    # -- conversations and envelopes -----------------------------------------------------

    def conversation(self, peer: str, envelope_id: str) -> Conversation | None:
        row = self.db.execute(
            "SELECT * FROM conversations WHERE peer = ? AND envelope_id = ?", (peer, envelope_id)
        ).fetchone()
        return None if row is None else self._conversation(row)

    def conversation_by_id(self, conversation_id: int) -> Conversation | None:
        row = self.db.execute(
            "SELECT * FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        return None if row is None else self._conversation(row)

    def conversation_by_public_id(self, public_id: str) -> Conversation | None:
        row = self.db.execute(
            "SELECT * FROM conversations WHERE public_id = ?", (public_id,)
        ).fetchone()
        return None if row is None else self._conversation(row)

    def deposits_page(
        self,
        *,
        state: str | None,
        customer_id: str | None,
        peer: str | None,
        before: int | None,
        limit: int,
    ) -> list[Conversation]:
        """Inbound transfers (we are the beneficiary VASP), newest first, keyset paged."""
        clauses, parameters = ["role = 'beneficiary'"], list[object]()
        for column, value in (("state", state), ("customer_id", customer_id), ("peer", peer)):
            if value is not None:
                clauses.append(f"{column} = ?")
                parameters.append(value)
        if before is not None:
            clauses.append("id < ?")
            parameters.append(before)
        rows = self.db.execute(
            f"SELECT * FROM conversations WHERE {' AND '.join(clauses)} "  # noqa: S608
            "ORDER BY id DESC LIMIT ?",
            (*parameters, limit),
        ).fetchall()
        return [self._conversation(row) for row in rows]

    def _conversation(self, row: Row) -> Conversation:
        payload = None if row["payload"] is None else self.sealer.open(row["payload"])
        decision = json.loads(row["decision"]) if row["decision"] else None
        return from_row(Conversation, row, payload=payload, decision=decision)

    def create_conversation(
        self,
        peer: str,
        envelope_id: str,
        *,
        role: str,
        state: str,
        hold_id: str | None = None,
        customer_id: str | None = None,
        protocol: str = "trisa",
    ) -> int:
        stamp = now_text()
        row = self.db.execute(
            "INSERT INTO conversations (peer, envelope_id, role, state, hold_id, customer_id, "
            "public_id, created_at, updated_at, protocol) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                peer,
                envelope_id,
                role,
                state,
                hold_id,
                customer_id,
                str(uuid.uuid4()),
                stamp,
                stamp,
                protocol,
            ),
        ).fetchone()
        return int(row[0])

    def update_conversation(self, conversation_id: int, **changes: Any) -> None:
        """Set columns of a conversation; `payload` is given clear and sealed here."""
        allowed = {
            "state",
            "customer_id",
            "hold_id",
            "payload",
            "last_in_state",
            "last_in_digest",
            "reply_not_after",
            "decision",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise StoreError(f"unknown conversation columns: {sorted(unknown)}")
        if changes.get("payload") is not None:
            changes["payload"] = self.sealer.seal(changes["payload"])
        if isinstance(changes.get("decision"), Mapping):
            changes["decision"] = json.dumps(changes["decision"], sort_keys=True)
        changes["updated_at"] = now_text()
        assignments = ", ".join(f"{name} = :{name}" for name in changes)
        self.db.execute(
            f"UPDATE conversations SET {assignments}, version = version + 1 WHERE id = :id",  # noqa: S608 - names are whitelisted
            {**changes, "id": conversation_id},
        )

    def insert_envelope(
        self,
        *,
        peer: str,
        envelope_id: str,
        direction: str,
        transfer_state: str,
        raw: bytes,
        conversation_id: int | None = None,
        error_code: int | None = None,
        message_key: str | None = None,
        reply_to: int | None = None,
    ) -> int:
        row = self.db.execute(
            "INSERT INTO envelopes (conversation_id, peer, envelope_id, direction, "
            "transfer_state, error_code, message_key, raw, reply_to, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                conversation_id,
                peer,
                envelope_id,
                direction,
                transfer_state,
                error_code,
                message_key,
                raw,
                reply_to,
                now_text(),
            ),
        ).fetchone()
        return int(row[0])

    def claim_inbound_envelope(
        self,
        *,
        peer: str,
        envelope_id: str,
        transfer_state: str,
        raw: bytes,
        message_key: str,
        error_code: int | None = None,
    ) -> int | None:
        """Store an inbound message under its idempotency key; None when it is stored
        already (the same message reached another process first: its reply stands)."""
        row = self.db.execute(
            "INSERT INTO envelopes (peer, envelope_id, direction, transfer_state, error_code, "
            "message_key, raw, created_at) VALUES (?, ?, 'in', ?, ?, ?, ?, ?) "
            "ON CONFLICT (message_key) DO NOTHING RETURNING id",
            (peer, envelope_id, transfer_state, error_code, message_key, raw, now_text()),
        ).fetchone()
        return None if row is None else int(row[0])

    def attach_envelope(self, envelope_row: int, conversation_id: int) -> None:
        self.db.execute(
            "UPDATE envelopes SET conversation_id = ? WHERE id = ?", (conversation_id, envelope_row)
        )

    def conversation_for(
        self,
        peer: str,
        envelope_id: str,
        *,
        role: str,
        state: str,
        customer_id: str | None = None,
        hold_id: str | None = None,
    ) -> Conversation:
        """The conversation of (peer, envelope id), created if there is none yet; of two
        processes creating it at once, both get the one that was stored."""
        stamp = now_text()
        self.db.execute(
            "INSERT INTO conversations (peer, envelope_id, role, state, customer_id, hold_id, "
            "public_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (peer, envelope_id) DO NOTHING",
            (
                peer,
                envelope_id,
                role,
                state,
                customer_id,
                hold_id,
                str(uuid.uuid4()),
                stamp,
                stamp,
            ),
        )
        found = self.conversation(peer, envelope_id)
        if found is None:
            raise StoreError(f"conversation {envelope_id} with {peer} vanished")
        return found

    def reply_for_message(self, message_key: str) -> bytes | None:
        """The stored reply to an inbound message already answered (exact duplicate)."""
        row = self.db.execute(
            "SELECT reply.raw FROM envelopes AS request JOIN envelopes AS reply "
            "ON reply.reply_to = request.id WHERE request.message_key = ? "
            "ORDER BY reply.id LIMIT 1",
            (message_key,),
        ).fetchone()
        return None if row is None else bytes(row[0])

    def conversations(self) -> list[Conversation]:
        """Every conversation, oldest first (an overview for operators' tools and tests)."""
        rows = self.db.execute("SELECT * FROM conversations ORDER BY id").fetchall()
        return [self._conversation(row) for row in rows]

    def envelopes(self, *, direction: str | None = None) -> list[StoredEnvelope]:
        """Every stored envelope, or those of one direction ("in" | "out"), oldest first."""
        rows = self.db.execute(
            "SELECT * FROM envelopes WHERE ? IS NULL OR direction = ? ORDER BY id",
            (direction, direction),
        ).fetchall()
        return [from_row(StoredEnvelope, r, raw=bytes(r["raw"])) for r in rows]

    def envelopes_of(self, conversation_id: int) -> list[StoredEnvelope]:
        rows = self.db.execute(
            "SELECT * FROM envelopes WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        ).fetchall()
        return [from_row(StoredEnvelope, r, raw=bytes(r["raw"])) for r in rows]

    # -- envelopes we could not open ------------------------------------------------------

    def insert_failed_envelope(
        self, *, peer: str, envelope_id: str, code: int, size: int, sha256: str, keep: int
    ) -> int:
        """Record a failed envelope; only the newest `keep` of the peer are kept."""
        row = self.db.execute(
            "INSERT INTO failed_envelopes (peer, envelope_id, code, size, sha256, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (peer, envelope_id, code, size, sha256, now_text()),
        ).fetchone()
        self.db.execute(
            "DELETE FROM failed_envelopes WHERE peer = ? AND id <= ("
            "SELECT id FROM failed_envelopes WHERE peer = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (peer, peer, keep),
        )
        return int(row[0])

    def failed_envelopes(self, peer: str, limit: int = 100) -> list[FailedEnvelope]:
        """The peer's most recent failed envelopes, newest first."""
        rows = self.db.execute(
            "SELECT * FROM failed_envelopes WHERE peer = ? ORDER BY id DESC LIMIT ?",
            (peer, limit),
        ).fetchall()
        return [from_row(FailedEnvelope, row) for row in rows]

    def purge_failed(self, cutoff: str) -> int:
        """Delete failed-envelope records older than `cutoff` (their own retention)."""
        return self.db.execute(
            "DELETE FROM failed_envelopes WHERE created_at < ?", (cutoff,)
        ).rowcount

    def count(self, table: str) -> int:
        if not table.isidentifier():
            raise StoreError(f"bad table name {table!r}")
        return int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
