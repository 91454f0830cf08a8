"""Records for a law-enforcement request: what a selection covers, gathered in one
transaction, written as a signed zip (`travelgate.audit` builds and checks the zip).

The records are read in one transaction (a consistent snapshot); the export is then itself
an audit record, which names the files' digests, and the signed manifest names that record.
A record that retention purged (or whose sealed data no longer opens) is listed as purged,
never left out silently.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from travelgate import envelope as env
from travelgate._pb.ivms101 import ivms101_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2
from travelgate.audit import AuditRecord
from travelgate.audit._bundle import AUDIT_FILE, build_bundle, file_entry
from travelgate.errors import StoreError, TravelgateError
from travelgate.service._deposits import deposit_view
from travelgate.service._records import hold_view
from travelgate.service._reviews import review_view
from travelgate.store import Conversation, Hold, Store, Tx, now_text

CSV_COLUMNS = (
    "kind",
    "id",
    "state",
    "created_at",
    "updated_at",
    "originator_name",
    "originator_account",
    "originator_vasp",
    "beneficiary_name",
    "beneficiary_account",
    "beneficiary_vasp",
    "asset",
    "network",
    "amount",
    "value",
    "value_currency",
    "txid",
    "envelope_id",
    "decision",
    "decision_rule",
    "decision_reason",
)
SHREDDED = "crypto-shredded: its sealed data no longer opens with the storage key"


@dataclass(frozen=True)
class Selection:
    """What a request covers: any mix of customers, addresses, holds and deposits, and
    optionally a window on when the transfers were created ([since, until))."""

    customers: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    holds: tuple[str, ...] = ()
    deposits: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "customers": list(self.customers),
            "addresses": list(self.addresses),
            "holds": list(self.holds),
            "deposits": list(self.deposits),
            "from": self.since,
            "to": self.until,
        }

    def in_window(self, created_at: str) -> bool:
        return (self.since is None or created_at >= self.since) and (
            self.until is None or created_at < self.until
        )


@dataclass
class _Gathered:
    holds: list[dict[str, Any]] = field(default_factory=list)
    deposits: list[dict[str, Any]] = field(default_factory=list)
    purged: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExportResult:
    bundle: bytes
    holds: int
    deposits: int
    purged: int
    audit_records: int
    audit_seq: int


async def export_records(
    db: Store,
    selection: Selection,
    *,
    case: str,
    exported_by: Mapping[str, Any],
    node: str,
    keyring: env.KeyRing | None = None,
) -> ExportResult:
    """Gather, audit and sign; the zip's bytes are returned."""

    def read(tx: Tx) -> tuple[_Gathered, list[AuditRecord], dict[str, str | None]]:
        gathered = _gather(tx, selection, keyring)
        trail = list(tx.audit_records(subjects=tuple(dict.fromkeys(gathered.subjects))))
        notes: dict[str, str | None] = {}
        for record in trail:
            notes.update(tx.audit_notes(record.detail))
        return gathered, trail, notes

    # One read transaction: a consistent snapshot that never holds up the node's writes
    # while envelopes are decrypted.
    gathered, trail, notes = await db.read(read)
    records_json = {
        "case": case,
        "selection": selection.as_json(),
        "holds": gathered.holds,
        "deposits": gathered.deposits,
        "purged": gathered.purged,
        "audit_notes": notes,
    }
    files = {
        "records.json": _json_bytes(records_json),
        "records.csv": _csv_bytes(gathered.rows),
        AUDIT_FILE: _audit_lines(trail),
    }
    counts = {
        "holds": len(gathered.holds),
        "deposits": len(gathered.deposits),
        "purged": len(gathered.purged),
    }
    selection_text = json.dumps(selection.as_json(), sort_keys=True).encode()

    def record(tx: Tx) -> tuple[int, str, str]:
        stamp = now_text()
        seq = tx.audit(
            actor=str(exported_by.get("actor", "operator")),
            action="records.exported",
            subject=f"case:{case}",
            detail={
                "case": case,
                # The selection names customers and addresses: the trail keeps its digest,
                # the manifest (signed) keeps the selection itself.
                "selection_sha256": hashlib.sha256(selection_text).hexdigest(),
                "files": {name: file_entry(data)["sha256"] for name, data in files.items()},
                **counts,
                "login": exported_by.get("login"),
            },
            stamp=stamp,
        )
        written = next(tx.audit_records(since=stamp, subjects=(f"case:{case}",)))
        return seq, written.hash, stamp

    seq, record_hash, stamp = await db.write(record)
    manifest = {
        "case": case,
        "node": node,
        "exported_at": stamp,
        "exported_by": dict(exported_by),
        "selection": selection.as_json(),
        "counts": {**counts, "audit_records": len(trail)},
        "audit_record": {"seq": seq, "hash": record_hash},
    }
    bundle = build_bundle(manifest, files, db.audit_key)
    return ExportResult(
        bundle, counts["holds"], counts["deposits"], counts["purged"], len(trail), seq
    )


# -- gathering -------------------------------------------------------------------------


def _gather(tx: Tx, selection: Selection, keyring: env.KeyRing | None) -> _Gathered:
    gathered = _Gathered()
    hold_ids: list[str] = list(selection.holds)
    deposit_ids: list[str] = list(selection.deposits)
    for customer in selection.customers:
        hold_ids += tx.hold_ids(customer_id=customer)
        deposit_ids += tx.deposit_ids(customer_id=customer)
    for address in selection.addresses:
        hold_ids += tx.hold_ids(destination=address)
        owner = tx.customer_for_address(address)
        if owner is not None:
            deposit_ids += [
                deposit
                for deposit in tx.deposit_ids(customer_id=owner.id)
                if _deposit_address(tx, deposit) == address
            ]
    purges = tx.purge_records()
    for hold_id in dict.fromkeys(hold_ids):
        _add_hold(tx, gathered, hold_id, selection, keyring, purges)
    for deposit_id in dict.fromkeys(deposit_ids):
        _add_deposit(tx, gathered, deposit_id, selection, keyring, purges)
    _add_purged_of_customers(gathered, selection, purges)
    return gathered


def _purge_of(
    kind: str, subject_id: str, purges: list[tuple[int, str, dict[str, Any]]]
) -> dict[str, Any] | None:
    for seq, at, detail in purges:
        if any(entry.get("id") == subject_id for entry in detail.get(kind, [])):
            return {"purged_at": at, "audit_seq": seq}
    return None


def _report_missing(
    tx: Tx,
    gathered: _Gathered,
    kind: str,
    subject_id: str,
    purges: list[tuple[int, str, dict[str, Any]]],
) -> None:
    subject = f"hold:{subject_id}" if kind == "holds" else f"deposit:{subject_id}"
    purge = _purge_of(kind, subject_id, purges)
    if purge is not None:
        status = "purged after the retention period"
    elif kind == "holds" and tx.audit_of(subject):
        status = "purged: no longer stored (its audit records remain)"
    else:
        status = "not found: no such record was ever stored, or its purge is older than the trail"
    gathered.purged.append({"kind": kind[:-1], "id": subject_id, "status": status, **(purge or {})})
    gathered.subjects.append(subject)


def _add_purged_of_customers(
    gathered: _Gathered, selection: Selection, purges: list[tuple[int, str, dict[str, Any]]]
) -> None:
    listed = {(entry["kind"], entry["id"]) for entry in gathered.purged}
    for seq, at, detail in purges:
        for kind in ("holds", "deposits"):
            for entry in detail.get(kind, []):
                if (
                    entry.get("customer_id") in selection.customers
                    and (kind[:-1], entry.get("id")) not in listed
                ):
                    gathered.purged.append(
                        {
                            "kind": kind[:-1],
                            "id": entry.get("id"),
                            "status": "purged after the retention period",
                            "purged_at": at,
                            "audit_seq": seq,
                        }
                    )


def _add_hold(
    tx: Tx,
    gathered: _Gathered,
    hold_id: str,
    selection: Selection,
    keyring: env.KeyRing | None,
    purges: list[tuple[int, str, dict[str, Any]]],
) -> None:
    try:
        hold = tx.hold(hold_id)
    except StoreError:
        gathered.purged.append({"kind": "hold", "id": hold_id, "status": SHREDDED})
        return
    if hold is None:
        _report_missing(tx, gathered, "holds", hold_id, purges)
        return
    if not selection.in_window(hold.created_at):
        return
    conversations = []
    payload: api_pb2.Payload | None = None
    for conversation_id in tx.conversation_ids_of_hold(hold_id):
        conversation = tx.conversation_by_id(conversation_id)
        if conversation is None:
            continue
        conversations.append(_conversation_json(tx, conversation, keyring))
        payload = _payload_of(conversation) or payload
        gathered.subjects.append(f"conversation:{conversation.id}")
    reviews = tx.reviews_of((hold_id,))
    gathered.subjects += [f"hold:{hold_id}", *(f"review:{review.id}" for review in reviews)]
    gathered.holds.append(
        {
            "withdrawal": hold_view(hold),
            "request": dict(hold.request),
            "decision_of_record": dict(hold.decision) if hold.decision else None,
            "conversations": conversations,
            "reviews": [review_view(review) for review in reviews],
        }
    )
    gathered.rows.append(_hold_row(tx, hold, payload))


def _add_deposit(
    tx: Tx,
    gathered: _Gathered,
    deposit_id: str,
    selection: Selection,
    keyring: env.KeyRing | None,
    purges: list[tuple[int, str, dict[str, Any]]],
) -> None:
    try:
        conversation = tx.conversation_by_public_id(deposit_id)
    except StoreError:
        gathered.purged.append({"kind": "deposit", "id": deposit_id, "status": SHREDDED})
        return
    if conversation is None or conversation.role != "beneficiary":
        _report_missing(tx, gathered, "deposits", deposit_id, purges)
        return
    if not selection.in_window(conversation.created_at):
        return
    reviews = tx.reviews_of((conversation.public_id, str(conversation.id)))
    gathered.subjects += [
        f"conversation:{conversation.id}",
        *(f"review:{review.id}" for review in reviews),
    ]
    view = deposit_view(conversation)
    gathered.deposits.append(
        {
            "deposit": view,
            "conversation": _conversation_json(tx, conversation, keyring),
            "reviews": [review_view(review) for review in reviews],
        }
    )
    gathered.rows.append(_deposit_row(view, _payload_of(conversation)))


def _deposit_address(tx: Tx, deposit_id: str) -> str | None:
    conversation = tx.conversation_by_public_id(deposit_id)
    if conversation is None:
        return None
    payload = _payload_of(conversation)
    if payload is None:
        return None
    parts = _parts(payload)
    return None if parts is None else parts.underlying_transaction.beneficiary or None


# -- envelopes and payloads ------------------------------------------------------------


def _payload_of(conversation: Conversation) -> api_pb2.Payload | None:
    if conversation.payload is None:
        return None
    payload = api_pb2.Payload()
    try:
        payload.ParseFromString(conversation.payload)
    except ValueError:
        return None
    return payload


def _parts(payload: api_pb2.Payload) -> env.PayloadParts | None:
    try:
        return env.check_payload(payload, accept_confirmation_receipt=True)
    except (TravelgateError, ValueError):
        return None


def _conversation_json(
    tx: Tx, conversation: Conversation, keyring: env.KeyRing | None
) -> dict[str, Any]:
    payload = _payload_of(conversation)
    return {
        "peer": conversation.peer,
        "envelope_id": conversation.envelope_id,
        "role": conversation.role,
        "state": conversation.state,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "decision": dict(conversation.decision) if conversation.decision else None,
        "latest_payload": None if payload is None else env.message_to_dict(payload),
        "envelopes": [
            _envelope_json(tx, stored, keyring) for stored in tx.envelopes_of(conversation.id)
        ],
    }


def _envelope_json(tx: Tx, stored: Any, keyring: env.KeyRing | None) -> dict[str, Any]:
    head = {
        "direction": stored.direction,
        "envelope_id": stored.envelope_id,
        "transfer_state": stored.transfer_state,
        "error_code": stored.error_code,
        "created_at": stored.created_at,
        "sha256": hashlib.sha256(stored.raw).hexdigest(),
        "bytes": len(stored.raw),
    }
    envelope = api_pb2.SecureEnvelope()
    try:
        envelope.ParseFromString(stored.raw)
    except ValueError:
        return {**head, "payload": None, "payload_status": "not a SecureEnvelope"}
    if env.has_error(envelope):
        return {
            **head,
            "error": env.message_to_dict(envelope.error),
            "payload": None,
            "payload_status": "error envelope: it carries no payload",
        }
    if stored.direction == "out":
        return {**head, **_sent_payload(tx, stored.id)}
    return {**head, **_received_payload(envelope, keyring)}


def _sent_payload(tx: Tx, envelope_row: int) -> dict[str, Any]:
    try:
        sent = tx.sent_body(envelope_row)
    except StoreError:
        return {"payload": None, "payload_status": SHREDDED}
    if sent is None:
        return {
            "payload": None,
            "payload_status": "purged: the sent payload was kept until its outbox row's "
            "retention (the envelope itself is sealed to the counterparty's key)",
        }
    kind, body = sent
    message: Any = api_pb2.Payload() if kind == "payload" else errors_pb2.Error()
    message.ParseFromString(body)
    return {"payload": env.message_to_dict(message), "payload_status": "decrypted"}


def _received_payload(
    envelope: api_pb2.SecureEnvelope, keyring: env.KeyRing | None
) -> dict[str, Any]:
    if keyring is None:
        return {"payload": None, "payload_status": "not decrypted: no sealing key was loaded"}
    try:
        kind = env.check_structure(envelope)
        opened = env.open_envelope(
            envelope,
            keyring,
            allow_unsealed=kind is env.EnvelopeKind.UNSEALED,
            accept_confirmation_receipt=True,
        )
    except TravelgateError as exc:
        return {"payload": None, "payload_status": f"cannot be decrypted: {exc.message}"}
    return {"payload": env.message_to_dict(opened.payload), "payload_status": "decrypted"}


# -- the CSV ---------------------------------------------------------------------------


def display_name(person: ivms101_pb2.Person) -> str:
    """A person's legal name as one line: given names then family name, or the legal
    person's name."""
    if person.HasField("natural_person"):
        for name in person.natural_person.name.name_identifiers:
            return " ".join(f"{name.secondary_identifier} {name.primary_identifier}".split())
    if person.HasField("legal_person"):
        for legal in person.legal_person.name.name_identifiers:
            return legal.legal_person_name
    return ""


def _names(persons: Iterable[ivms101_pb2.Person]) -> str:
    return "; ".join(name for name in (display_name(p) for p in persons) if name)


def _identity_columns(payload: api_pb2.Payload | None) -> dict[str, str]:
    parts = None if payload is None else _parts(payload)
    if parts is None:
        return {}
    identity = parts.identity
    return {
        "originator_name": _names(identity.originator.originator_persons),
        "originator_account": "; ".join(identity.originator.account_numbers),
        "originator_vasp": display_name(identity.originating_vasp.originating_vasp),
        "beneficiary_name": _names(identity.beneficiary.beneficiary_persons),
        "beneficiary_account": "; ".join(identity.beneficiary.account_numbers),
        "beneficiary_vasp": display_name(identity.beneficiary_vasp.beneficiary_vasp),
    }


def _hold_row(tx: Tx, hold: Hold, payload: api_pb2.Payload | None) -> dict[str, str]:
    request = hold.request
    value = request.get("value") if isinstance(request.get("value"), dict) else {}
    beneficiary = request.get("beneficiary") or {}
    columns = {
        "originator_account": hold.customer_id or "",
        "beneficiary_name": beneficiary.get("name") or "" if isinstance(beneficiary, dict) else "",
        "beneficiary_account": hold.destination,
        "beneficiary_vasp": hold.counterparty or "",
    }
    if hold.customer_id:
        customer = tx.get_customer(hold.customer_id)
        if customer is not None:
            from travelgate.trisa import person_from_json

            columns["originator_name"] = display_name(person_from_json(customer.person))
    columns.update({k: v for k, v in _identity_columns(payload).items() if v})
    return {
        "kind": "withdrawal",
        "id": hold.id,
        "state": hold.state,
        "created_at": hold.created_at,
        "updated_at": hold.updated_at,
        **columns,
        "asset": hold.asset,
        "network": hold.network,
        "amount": hold.amount,
        "value": str((value or {}).get("amount") or ""),
        "value_currency": str((value or {}).get("currency") or ""),
        "txid": hold.txid or "",
        "envelope_id": hold.envelope_id or "",
        "decision": hold.decision_code or "",
        "decision_rule": hold.decision_rule or "",
        "decision_reason": hold.decision_reason or "",
    }


def _deposit_row(view: Mapping[str, Any], payload: api_pb2.Payload | None) -> dict[str, str]:
    decision = view.get("decision") or {}
    value: dict[str, Any] = {}
    parts = None if payload is None else _parts(payload)
    if parts is not None:
        try:
            extra = json.loads(parts.underlying_transaction.extra_json or "{}")
            value = extra.get("value") if isinstance(extra.get("value"), dict) else {}
        except ValueError:
            value = {}
    return {
        "kind": "deposit",
        "id": str(view["id"]),
        "state": str(view["state"]),
        "created_at": str(view["created_at"]),
        "updated_at": str(view["updated_at"]),
        "beneficiary_account": str(view.get("address") or ""),
        **{k: v for k, v in _identity_columns(payload).items() if v},
        "asset": str(view.get("asset") or ""),
        "network": str(view.get("network") or ""),
        "amount": str(view.get("amount") or ""),
        "value": str(value.get("amount") or ""),
        "value_currency": str(value.get("currency") or ""),
        "txid": str(view.get("txid") or ""),
        "envelope_id": str(view.get("envelope_id") or ""),
        "decision": str(decision.get("code") or ""),
        "decision_rule": str(decision.get("rule") or ""),
        "decision_reason": str(decision.get("reason") or ""),
    }


def _cell(value: str) -> str:
    """A spreadsheet must show a value, never run it as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv_bytes(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: _cell(str(row.get(column, ""))) for column in CSV_COLUMNS})
    return buffer.getvalue().encode("utf-8")


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _audit_lines(records: list[AuditRecord]) -> bytes:
    return "".join(
        json.dumps(record.as_json(), sort_keys=True, ensure_ascii=False) + "\n"
        for record in records
    ).encode("utf-8")
