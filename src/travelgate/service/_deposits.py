"""Deposits: transfers other VASPs sent to our customers, as the deposit service sees them.

A deposit is the TRISA conversation in which we are the beneficiary VASP. Its view (the
`data` of `deposit.*` webhooks and of `GET /v1/deposits/{id}`) says what arrived: the
transaction, the originator as the sender gave it, and the decision of record.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate.errors import Code, NotFoundError, TravelgateError, ValidationError
from travelgate.service._paging import check_state, decode_cursor, encode_cursor
from travelgate.store import Conversation, Store
from travelgate.transfers import transaction_amount

# Conversation states a deposit can be in (TransferState names, lower case).
DEPOSIT_STATES = (
    "started",
    "pending",
    "review",
    "repair",
    "accepted",
    "completed",
    "rejected",
    "canceled",
)


def trisa_code_name(code: int) -> str:
    return Code.Name(code) if code in Code.values() else str(code)  # type: ignore[arg-type]


def deposit_counterparty(conversation: Conversation) -> dict[str, Any]:
    """The originating VASP of a deposit: always a VASP, reached over TRISA or TRP."""
    return {"kind": "vasp", "name": conversation.peer, "protocol": conversation.protocol}


def _person_json(person: Any) -> dict[str, Any] | None:
    from travelgate import ivms101

    try:
        return ivms101.person_from_protobuf(person)
    except (TravelgateError, ValueError):
        return None


def _stored_amount(transaction: Any) -> Decimal | None:
    # The envelope was checked when it arrived; one stored before that check may not pass.
    try:
        return transaction_amount(transaction.amount, transaction.extra_json)
    except ValidationError:
        return None


def _received(conversation: Conversation) -> dict[str, Any]:
    """What the stored payload says about the transfer (empty when there is none)."""
    if conversation.payload is None:
        return {}
    payload = api_pb2.Payload()
    try:
        payload.ParseFromString(conversation.payload)
        parts = env.check_payload(payload, accept_confirmation_receipt=True)
    except (TravelgateError, ValueError):
        return {}
    transaction = parts.underlying_transaction
    identity = parts.identity
    originators = identity.originator.originator_persons
    vasp = identity.originating_vasp
    amount = _stored_amount(transaction)
    return {
        "asset": (transaction.asset_type or "").upper() or None,
        "network": transaction.network or None,
        "amount": None if amount is None else format(amount, "f"),
        "address": transaction.beneficiary or None,
        "tag": transaction.tag or None,
        "txid": transaction.txid or None,
        "originator": _person_json(originators[0]) if originators else None,
        "originating_vasp": (
            _person_json(vasp.originating_vasp) if vasp.HasField("originating_vasp") else None
        ),
    }


def deposit_view(conversation: Conversation) -> dict[str, Any]:
    """The JSON of a deposit (fields are only ever added)."""
    received = _received(conversation)
    return {
        "id": conversation.public_id,
        "state": conversation.state.lower(),
        "counterparty": deposit_counterparty(conversation),
        "peer": conversation.peer,
        "customer_id": conversation.customer_id,
        "asset": received.get("asset"),
        "network": received.get("network"),
        "amount": received.get("amount"),
        "address": received.get("address"),
        "tag": received.get("tag"),
        "txid": received.get("txid"),
        "originator": received.get("originator"),
        "originating_vasp": received.get("originating_vasp"),
        "envelope_id": conversation.envelope_id,
        "decision": dict(conversation.decision) if conversation.decision else None,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "version": conversation.version,
    }


class DepositService:
    def __init__(self, db: Store) -> None:
        self.db = db

    async def get(self, deposit_id: str) -> dict[str, Any]:
        conversation = await self.db.read(lambda tx: tx.conversation_by_public_id(deposit_id))
        if conversation is None or conversation.role != "beneficiary":
            raise NotFoundError("not_found", f"no deposit {deposit_id!r}", field="id")
        return deposit_view(conversation)

    async def page(self, query: Mapping[str, str | None], limit: int) -> dict[str, Any]:
        state = query.get("state")
        check_state(state, DEPOSIT_STATES)
        before = decode_cursor(query.get("cursor"))
        rows = await self.db.read(
            lambda tx: tx.deposits_page(
                state=state.upper() if state else None,
                customer_id=query.get("customer_id"),
                peer=query.get("counterparty"),
                before=before,
                limit=limit + 1,
            )
        )
        shown = rows[:limit]
        return {
            "items": [deposit_view(row) for row in shown],
            "next_cursor": encode_cursor(shown[-1].id) if len(rows) > limit else None,
        }
