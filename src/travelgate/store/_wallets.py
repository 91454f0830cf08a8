"""Rows of wallet ownership and alerts: challenges, the customers' address book, alerts.

A mixin of `Tx`. A challenge's nonce is spent in the same transaction that records the
wallet, so a replayed challenge finds it spent. An alert's dedupe key is unique, so the
same occurrence raised twice (by two workers, or after a restart) is stored once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from travelgate.store._connection import Connection
from travelgate.store._holds import from_row


@dataclass(frozen=True)
class WalletChallenge:
    nonce: str
    customer_id: str
    address: str
    network: str
    expires_at: str
    used_at: str | None
    created_at: str


@dataclass(frozen=True)
class BookEntry:
    """One address of a customer's book: a verified self-hosted wallet or a VASP destination."""

    customer_id: str
    address_key: str
    address: str
    network: str
    kind: str
    method: str | None
    evidence: str | None
    verified_by: str | None
    verified_at: str
    vasp: str | None
    beneficiary_name: str | None
    first_used_at: str | None
    last_used_at: str | None


@dataclass(frozen=True)
class Alert:
    id: str
    rowid: int
    type: str
    severity: str
    subject: str
    detail: dict[str, Any]
    dedupe_key: str
    created_at: str


class WalletOps:
    db: Connection

    # -- challenges ----------------------------------------------------------------------

    def insert_challenge(
        self,
        *,
        nonce: str,
        customer_id: str,
        address: str,
        network: str,
        expires_at: str,
        stamp: str,
        forget_before: str,
    ) -> None:
        self.db.execute(
            "INSERT INTO wallet_challenges (nonce, customer_id, address, network, expires_at, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (nonce, customer_id, address, network, expires_at, stamp),
        )
        # Challenges long expired prove nothing any more: keep the table small.
        self.db.execute("DELETE FROM wallet_challenges WHERE expires_at < ?", (forget_before,))

    def challenge(self, nonce: str) -> WalletChallenge | None:
        row = self.db.execute(
            "SELECT * FROM wallet_challenges WHERE nonce = ?", (nonce,)
        ).fetchone()
        return None if row is None else from_row(WalletChallenge, row)

    def spend_challenge(self, nonce: str, stamp: str) -> bool:
        """Mark a challenge used; False when it was already used (a replay)."""
        cursor = self.db.execute(
            "UPDATE wallet_challenges SET used_at = ? WHERE nonce = ? AND used_at IS NULL",
            (stamp, nonce),
        )
        return cursor.rowcount == 1

    # -- the address book ----------------------------------------------------------------

    def put_book_entry(
        self,
        *,
        customer_id: str,
        address_key: str,
        address: str,
        network: str,
        kind: str,
        stamp: str,
        method: str | None = None,
        evidence: str | None = None,
        verified_by: str | None = None,
        vasp: str | None = None,
        beneficiary_name: str | None = None,
    ) -> BookEntry:
        """Record (or re-verify) an address; a self-hosted proof wins over a VASP's word."""
        self.db.execute(
            "INSERT INTO customer_wallets (customer_id, address_key, address, network, kind, "
            "method, evidence, verified_by, verified_at, vasp, beneficiary_name) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (customer_id, address_key, network) DO UPDATE SET "
            "address = excluded.address, kind = excluded.kind, method = excluded.method, "
            "evidence = excluded.evidence, verified_by = excluded.verified_by, "
            "verified_at = excluded.verified_at, vasp = excluded.vasp, "
            "beneficiary_name = excluded.beneficiary_name "
            "WHERE customer_wallets.kind = 'vasp' OR excluded.kind = 'self_hosted'",
            (
                customer_id,
                address_key,
                address,
                network,
                kind,
                method,
                evidence,
                verified_by,
                stamp,
                vasp,
                beneficiary_name,
            ),
        )
        entry = self.book_entry(customer_id, address_key, network)
        assert entry is not None
        return entry

    def book_entry(self, customer_id: str, address_key: str, network: str) -> BookEntry | None:
        row = self.db.execute(
            "SELECT * FROM customer_wallets WHERE customer_id = ? AND address_key = ? "
            "AND network = ?",
            (customer_id, address_key, network),
        ).fetchone()
        return None if row is None else from_row(BookEntry, row)

    def book_entries(self, customer_id: str, address_key: str | None = None) -> list[BookEntry]:
        if address_key is None:
            rows = self.db.execute(
                "SELECT * FROM customer_wallets WHERE customer_id = ? ORDER BY id",
                (customer_id,),
            ).fetchall()
        else:
            rows = self.db.execute(
                "SELECT * FROM customer_wallets WHERE customer_id = ? AND address_key = ? "
                "ORDER BY id",
                (customer_id, address_key),
            ).fetchall()
        return [from_row(BookEntry, row) for row in rows]

    def delete_book_entries(self, customer_id: str, address_key: str) -> int:
        cursor = self.db.execute(
            "DELETE FROM customer_wallets WHERE customer_id = ? AND address_key = ?",
            (customer_id, address_key),
        )
        return cursor.rowcount

    def book_entry_used(self, customer_id: str, address_key: str, network: str, stamp: str) -> None:
        self.db.execute(
            "UPDATE customer_wallets SET first_used_at = coalesce(first_used_at, ?), "
            "last_used_at = ? WHERE customer_id = ? AND address_key = ? AND network = ?",
            (stamp, stamp, customer_id, address_key, network),
        )

    # -- alerts --------------------------------------------------------------------------

    def insert_alert(
        self,
        *,
        alert_id: str,
        type: str,
        severity: str,
        subject: str,
        detail: dict[str, Any],
        dedupe_key: str,
        stamp: str,
    ) -> bool:
        """Store an alert; False when this occurrence was already raised."""
        cursor = self.db.execute(
            "INSERT INTO alerts (id, type, severity, subject, detail, dedupe_key, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
            (
                alert_id,
                type,
                severity,
                subject,
                json.dumps(detail, sort_keys=True),
                dedupe_key,
                stamp,
            ),
        )
        return cursor.rowcount == 1

    def alerts_page(self, *, type: str | None, before: int | None, limit: int) -> list[Alert]:
        clauses, parameters = [], []
        for clause, value in (("type = ?", type), ("rowid < ?", before)):
            if value is not None:
                clauses.append(clause)
                parameters.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.db.execute(
            f"SELECT rowid, * FROM alerts {where} ORDER BY rowid DESC LIMIT ?",  # noqa: S608
            (*parameters, limit),
        ).fetchall()
        return [from_row(Alert, row, detail=json.loads(row["detail"])) for row in rows]

    def oldest_open_review(self) -> tuple[str, str] | None:
        """(id, created_at) of the oldest open review, or None."""
        row = self.db.execute(
            "SELECT id, created_at FROM reviews WHERE state = 'open' ORDER BY created_at LIMIT 1"
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))
