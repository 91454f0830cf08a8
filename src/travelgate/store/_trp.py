"""Rows of the TRP side: minted Travel Addresses and TRP transfers in either role.

A mixin of `Tx`. A TRP transfer row links the protocol's identifiers (the peer's
`request-identifier`, the callback URL we minted, the peer's callback) to what they concern
in our records: the withdrawal hold (we are the originator) or the deposit conversation
(we are the beneficiary). The answer we gave an inquiry is kept to replay it on a repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from travelgate.errors import StoreError
from travelgate.store._clock import now_text
from travelgate.store._connection import Connection
from travelgate.store._holds import from_row
from travelgate.store._sealer import Sealer


@dataclass(frozen=True)
class TravelAddressRecord:
    token: str
    customer_id: str
    address: str
    travel_address: str
    created_at: str


@dataclass(frozen=True)
class TrpTransfer:
    id: int
    role: str
    peer: str
    request_identifier: str
    hold_id: str | None
    conversation_id: int | None
    callback_token: str
    peer_callback: str | None
    inquiry_url: str | None
    answer: bytes | None
    approved_address: str | None
    state: str
    created_at: str
    updated_at: str


_UPDATABLE = frozenset({"peer", "peer_callback", "answer", "approved_address", "state"})


class TrpOps:
    db: Connection
    sealer: Sealer

    def insert_travel_address(
        self, token: str, *, customer_id: str, address: str, travel_address: str
    ) -> None:
        self.db.execute(
            "INSERT INTO trp_addresses (token, customer_id, address, travel_address, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (token, customer_id, address, travel_address, now_text()),
        )

    def travel_address(self, token: str) -> TravelAddressRecord | None:
        row = self.db.execute("SELECT * FROM trp_addresses WHERE token = ?", (token,)).fetchone()
        return None if row is None else from_row(TravelAddressRecord, row)

    def insert_trp_transfer(
        self,
        *,
        role: str,
        peer: str,
        request_identifier: str,
        callback_token: str,
        state: str,
        hold_id: str | None = None,
        conversation_id: int | None = None,
        peer_callback: str | None = None,
        inquiry_url: str | None = None,
        answer: bytes | None = None,
    ) -> int:
        stamp = now_text()
        row = self.db.execute(
            "INSERT INTO trp_transfers (role, peer, request_identifier, hold_id, "
            "conversation_id, callback_token, peer_callback, inquiry_url, answer, state, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                role,
                peer,
                request_identifier,
                hold_id,
                conversation_id,
                callback_token,
                peer_callback,
                inquiry_url,
                answer,
                state,
                stamp,
                stamp,
            ),
        ).fetchone()
        return int(row[0])

    def update_trp_transfer(self, transfer_id: int, **changes: Any) -> None:
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise StoreError(f"unknown TRP transfer columns: {sorted(unknown)}")
        changes["updated_at"] = now_text()
        assignments = ", ".join(f"{name} = :{name}" for name in changes)
        self.db.execute(
            f"UPDATE trp_transfers SET {assignments} WHERE id = :id",  # noqa: S608 - whitelisted
            {**changes, "id": transfer_id},
        )

    def trp_transfer_by_token(self, token: str) -> TrpTransfer | None:
        return self._trp_one("callback_token = ?", token)

    def trp_transfer_for_hold(self, hold_id: str) -> TrpTransfer | None:
        return self._trp_one("hold_id = ? AND role = 'originator'", hold_id)

    def trp_sent(self, request_identifier: str) -> TrpTransfer | None:
        """Our inquiry sent under this identifier (we mint a fresh one per inquiry)."""
        return self._trp_one("role = 'originator' AND request_identifier = ?", request_identifier)

    def trp_transfer_for_conversation(self, conversation_id: int) -> TrpTransfer | None:
        return self._trp_one("conversation_id = ? AND role = 'beneficiary'", conversation_id)

    def trp_inquiry(self, peer: str, request_identifier: str) -> TrpTransfer | None:
        """The inquiry `peer` already sent under this identifier, if any."""
        return self._trp_one(
            "role = 'beneficiary' AND peer = ? AND request_identifier = ?", peer, request_identifier
        )

    def _trp_one(self, where: str, *parameters: object) -> TrpTransfer | None:
        row = self.db.execute(
            # A hold asked again after a review has several rows: the latest counts.
            f"SELECT * FROM trp_transfers WHERE {where} ORDER BY id DESC LIMIT 1",  # noqa: S608
            parameters,
        ).fetchone()
        if row is None:
            return None
        answer = None if row["answer"] is None else bytes(row["answer"])
        return from_row(TrpTransfer, row, answer=answer)
