"""The audit chain, without storage: how a record is hashed and signed, and how a run of
records is checked.

A record's hash is the SHA-256 of its canonical JSON (`seq`, `at`, `actor`, `action`,
`subject`, `detail`, `prev`; keys sorted, no spaces, UTF-8), where `prev` is the hash of
the record before it (64 zeros for the first). The Ed25519 signature is over the 32 raw
bytes of that hash. Anyone with the public key can recompute both from an export.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from travelgate.audit._key import public_key_text, signature_holds

GENESIS = "0" * 64
# Written when the chain starts on a database that already had audit rows: the rows
# before it were chained at upgrade time, not when they happened.
CHAIN_STARTED = "audit.chain_started"
PURGED = "audit.purged"


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    detail: Mapping[str, Any]
    prev: str
    hash: str
    signature: str  # hex

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "detail": dict(self.detail),
            "prev": self.prev,
            "hash": self.hash,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> AuditRecord:
        """A record from an export line; ValueError naming what is missing or wrong."""
        try:
            record = cls(
                seq=int(value["seq"]),
                at=str(value["at"]),
                actor=str(value["actor"]),
                action=str(value["action"]),
                subject=str(value["subject"]),
                detail=dict(value["detail"]),
                prev=str(value["prev"]),
                hash=str(value["hash"]),
                signature=str(value["signature"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an audit record: {exc}") from None
        return record


def canonical(
    *, seq: int, at: str, actor: str, action: str, subject: str, detail: Any, prev: str
) -> bytes:
    body = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "subject": subject,
        "detail": detail,
        "prev": prev,
    }
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def digest_of(record: AuditRecord) -> str:
    """The hash the record's content gives (not the one it claims)."""
    return hashlib.sha256(
        canonical(
            seq=record.seq,
            at=record.at,
            actor=record.actor,
            action=record.action,
            subject=record.subject,
            detail=record.detail,
            prev=record.prev,
        )
    ).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a check: how many records held, and the first that did not."""

    checked: int
    failure: str | None  # names the first record that fails, and why
    head: str  # hash of the last record that held

    @property
    def intact(self) -> bool:
        return self.failure is None

    def summary(self) -> str:
        if self.failure is None:
            return f"{self.checked} records, chain intact"
        return self.failure


def check_chain(
    records: Iterable[AuditRecord],
    public_key: bytes,
    *,
    start_seq: int | None = None,
    start_prev: str = GENESIS,
) -> ChainReport:
    """Check records in order: each follows the one before (`seq` + 1, `prev` = its hash),
    its content gives its hash, and the audit key signed that hash.

    A changed record fails its hash or signature; a removed one leaves a gap in `seq` and a
    `prev` that does not match; a reordered one breaks both.
    """
    expected_seq, expected_prev, checked = start_seq, start_prev, 0
    key_name = public_key_text(public_key)
    for record in records:
        where = f"record {record.seq} ({record.action} at {record.at})"
        if expected_seq is not None and record.seq != expected_seq:
            missing = (
                "is missing or out of order"
                if record.seq > expected_seq
                else "is repeated or out of order"
            )
            return ChainReport(
                checked,
                f"record {expected_seq} {missing}: found {where} in its place",
                expected_prev,
            )
        if record.prev != expected_prev:
            return ChainReport(
                checked,
                f"{where}: does not follow the record before it (previous hash differs: a "
                "record was removed, reordered or changed)",
                expected_prev,
            )
        actual = digest_of(record)
        if actual != record.hash:
            return ChainReport(
                checked, f"{where}: content was changed (hash differs)", expected_prev
            )
        try:
            signature = bytes.fromhex(record.signature)
        except ValueError:
            signature = b""
        if not signature_holds(public_key, bytes.fromhex(actual), signature):
            return ChainReport(
                checked,
                f"{where}: signature does not verify with the audit key {key_name}",
                expected_prev,
            )
        checked += 1
        expected_seq, expected_prev = record.seq + 1, record.hash
    return ChainReport(checked, None, expected_prev)
