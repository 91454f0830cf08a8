"""Customers' wallets: ownership challenges and proofs, and the address book.

A challenge is a text naming our VASP, the customer, the address and a nonce; its nonce is
stored and spent by the proof that uses it (single use, 15 minutes). A proof is checked
with `verify_wallet_proof` (eip191, bip137) or attested by a person (`manual`, with
evidence, by a key holding the `reviews` scope). The book also learns a destination when
an exchange with the beneficiary's VASP ends in its acceptance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from travelgate.errors import (
    BadParameterError,
    InvalidRequestError,
    NotFoundError,
    NotPermittedError,
)
from travelgate.screening import (
    InvalidProofError,
    address_key,
    check_challenge,
    new_challenge,
    verify_wallet_proof,
)
from travelgate.service._records import Recorder
from travelgate.store import ApiKey, BookEntry, Hold, Store, Tx, now_text
from travelgate.timestamps import format_timestamp

PROOF_METHODS = ("eip191", "bip137", "manual")
SELF_HOSTED_KIND = "self_hosted"
VASP_KIND = "vasp"
_MAX_TEXT = 256
_MAX_EVIDENCE = 2000
_MAX_MESSAGE = 4096


def book_view(entry: BookEntry) -> dict[str, Any]:
    return {
        "address": entry.address,
        "network": entry.network,
        "kind": entry.kind,
        "verified": True,
        "method": entry.method,
        "verified_at": entry.verified_at,
        "vasp": entry.vasp,
        "beneficiary_name": entry.beneficiary_name,
        "first_used_at": entry.first_used_at,
        "last_used_at": entry.last_used_at,
    }


def _invalid_proof(message: str) -> InvalidRequestError:
    return InvalidRequestError("invalid_proof", message, field="proof")


def _string(body: dict[str, Any], name: str, field: str, limit: int = _MAX_TEXT) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError("missing_field", f"{field} is required (a string)", field=field)
    if len(value) > limit:
        raise InvalidRequestError(
            "invalid_field", f"{field} is longer than {limit} characters", field=field
        )
    return value if name == "message" else value.strip()


def _unknown(body: dict[str, Any], allowed: set[str], prefix: str = "") -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise InvalidRequestError(
            "unknown_field", f"unknown field {prefix}{extra[0]}", field=f"{prefix}{extra[0]}"
        )


class WalletService:
    def __init__(self, db: Store, recorder: Recorder, vasp_name: str) -> None:
        self.db = db
        self.recorder = recorder
        self.vasp_name = vasp_name

    async def challenge(self, customer_id: str, address: str, network: str) -> dict[str, Any]:
        for name, value in (("address", address), ("network", network)):
            if not value.strip() or len(value) > _MAX_TEXT or "\n" in value:
                raise BadParameterError(
                    "bad_parameter", f"{name} must be a single line of text", field=name
                )
        await self._customer_or_404(customer_id)
        now = datetime.now(UTC)
        try:
            challenge = new_challenge(
                vasp=self.vasp_name,
                customer=customer_id,
                address=address.strip(),
                network=network.strip(),
                now=now,
            )
        except InvalidProofError as exc:
            raise BadParameterError("bad_parameter", exc.message, field="address") from None

        def write(tx: Tx) -> None:
            tx.insert_challenge(
                nonce=challenge.nonce,
                customer_id=customer_id,
                address=challenge.address,
                network=challenge.network,
                expires_at=format_timestamp(challenge.expires_at),
                stamp=now_text(),
                forget_before=format_timestamp(now - timedelta(days=1)),
            )

        await self.db.write(write)
        return {
            "message": challenge.message,
            "expires_at": format_timestamp(challenge.expires_at),
        }

    async def register(self, customer_id: str, body: object, key: ApiKey) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise InvalidRequestError(
                "invalid_field", "the body must be a JSON object", field="body"
            )
        _unknown(body, {"address", "network", "proof"})
        address = _string(body, "address", "address")
        network = _string(body, "network", "network")
        proof = body.get("proof")
        if not isinstance(proof, dict):
            raise InvalidRequestError(
                "missing_field", "proof (an object) is required", field="proof"
            )
        method = proof.get("type")
        if method not in PROOF_METHODS:
            raise InvalidRequestError(
                "invalid_value",
                f"proof.type must be one of {', '.join(PROOF_METHODS)}",
                field="proof.type",
            )
        await self._customer_or_404(customer_id)
        actor = f"api:{key.id}"
        if method == "manual":
            _unknown(proof, {"type", "evidence"}, "proof.")
            evidence = _string(proof, "evidence", "proof.evidence", _MAX_EVIDENCE)
            if "reviews" not in key.scopes:
                raise NotPermittedError(
                    "forbidden_scope",
                    "a manual wallet attestation needs a key with the 'reviews' scope "
                    "(the compliance role)",
                    field="Authorization",
                )
            return await self._record(
                customer_id, address, network, "manual", actor, evidence=evidence, nonce=None
            )
        _unknown(proof, {"type", "message", "signature"}, "proof.")
        message = _string(proof, "message", "proof.message", _MAX_MESSAGE)
        signature = _string(proof, "signature", "proof.signature")
        try:
            challenge = check_challenge(
                message,
                vasp=self.vasp_name,
                customer=customer_id,
                address=address,
                network=network,
                now=datetime.now(UTC),
            )
            verify_wallet_proof(
                method, address=address, network=network, message=message, signature=signature
            )
        except InvalidProofError as exc:
            raise _invalid_proof(exc.message) from None
        return await self._record(
            customer_id, address, network, method, actor, evidence=None, nonce=challenge.nonce
        )

    async def _record(
        self,
        customer_id: str,
        address: str,
        network: str,
        method: str,
        actor: str,
        *,
        evidence: str | None,
        nonce: str | None,
    ) -> dict[str, Any]:
        def write(tx: Tx) -> BookEntry:
            stamp = now_text()
            if nonce is not None:
                stored = tx.challenge(nonce)
                if stored is None or stored.customer_id != customer_id:
                    raise _invalid_proof("the challenge was not issued by this node")
                if not tx.spend_challenge(nonce, stamp):
                    raise _invalid_proof("the challenge was already used; ask for a new one")
            entry = tx.put_book_entry(
                customer_id=customer_id,
                address_key=address_key(address),
                address=address,
                network=network,
                kind=SELF_HOSTED_KIND,
                stamp=stamp,
                method=method,
                evidence=evidence,
                verified_by=actor,
            )
            self.recorder.audit(
                tx,
                actor,
                "wallet.verified",
                f"customer:{customer_id}",
                address=address,
                network=network,
                method=method,
            )
            return entry

        entry = await self.db.write(write)
        return {
            "address": entry.address,
            "network": entry.network,
            "verified": True,
            "method": entry.method,
            "verified_at": entry.verified_at,
        }

    async def book(self, customer_id: str) -> dict[str, Any]:
        await self._customer_or_404(customer_id)
        entries = await self.db.read(lambda tx: tx.book_entries(customer_id))
        return {"items": [book_view(entry) for entry in entries], "next_cursor": None}

    async def forget(self, customer_id: str, address: str, actor: str) -> None:
        await self._customer_or_404(customer_id)

        def write(tx: Tx) -> int:
            removed = tx.delete_book_entries(customer_id, address_key(address))
            if removed:
                self.recorder.audit(
                    tx, actor, "wallet.removed", f"customer:{customer_id}", address=address
                )
            return removed

        if not await self.db.write(write):
            raise NotFoundError(
                "not_found", f"{address!r} is not in the customer's book", field="address"
            )

    async def _customer_or_404(self, customer_id: str) -> None:
        customer = await self.db.read(lambda tx: tx.get_customer(customer_id))
        if customer is None:
            raise NotFoundError("not_found", f"no customer {customer_id!r}", field="id")


def verified_wallet(tx: Tx, customer_id: str | None, address: str, network: str) -> bool:
    """Whether `address` is a verified self-hosted wallet of this customer on `network`."""
    if customer_id is None:
        return False
    entry = tx.book_entry(customer_id, address_key(address), network)
    return entry is not None and entry.kind == SELF_HOSTED_KIND


def in_book(tx: Tx, customer_id: str, address: str) -> bool:
    return bool(tx.book_entries(customer_id, address_key(address)))


def learn_destination(tx: Tx, hold: Hold, beneficiary_name: str | None) -> None:
    """An accepted exchange verified this destination: remember it and note its use."""
    if hold.customer_id is None:
        return
    stamp = now_text()
    key = address_key(hold.destination)
    if tx.book_entry(hold.customer_id, key, hold.network) is None:
        tx.put_book_entry(
            customer_id=hold.customer_id,
            address_key=key,
            address=hold.destination,
            network=hold.network,
            kind=VASP_KIND,
            stamp=stamp,
            verified_by=f"peer:{hold.counterparty}",
            vasp=hold.counterparty,
            beneficiary_name=beneficiary_name,
        )
    tx.book_entry_used(hold.customer_id, key, hold.network, stamp)
