"""TRP deposits: inquiries to the Travel Addresses we minted, as the beneficiary VASP.

An inquiry is decided by the same decider as a TRISA deposit and stored as a deposit (a
conversation with protocol `trp`, its payload the inquiry as a TRISA payload). The decision
goes back in the 200 body (`[trp] immediate`) or through the outbox to the inquiry's
callback; a person's review decision or a robot's later one goes the same way. The
originator's txid or cancel at our approval callback completes or cancels the deposit.
"""

from __future__ import annotations

import json
import secrets
import uuid
from decimal import Decimal
from typing import Any

from travelgate import envelope as env
from travelgate import ivms101
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2
from travelgate.errors import (
    TravelgateError,
    TrpForbiddenError,
    TrpInvalidError,
    TrpNotFoundError,
)
from travelgate.service._deposits import deposit_view, trisa_code_name
from travelgate.service._records import Recorder, decision_view
from travelgate.store import Conversation, Store, Tx, now_text
from travelgate.transfers import (
    ConversationState,
    DecisionCode,
    Outcome,
    conversation_state,
    reason_code,
)
from travelgate.trisa import BENEFICIARY, Action, Decider, Directory, Inbound, Peer, Verdict
from travelgate.trp import (
    Acknowledgement,
    Approval,
    Asset,
    Confirmation,
    ConfirmationMessage,
    Inquiry,
    Rejection,
    RequestHeaders,
    Resolution,
    emit,
    parse_inquiry,
    unsupported_extensions,
)

BENEFICIARY_ROLE = "beneficiary"
# Digital Token Identifiers we are sure of (TRP v3); other assets go by symbol only.
DTI_BY_SYMBOL = {"BTC": "4H95J0R2X"}
SYMBOL_BY_DTI = {dti: symbol for symbol, dti in DTI_BY_SYMBOL.items()}


def new_token() -> str:
    """An unguessable URL path segment (192 bits)."""
    return secrets.token_urlsafe(24)


class TrpDeposits:
    """The beneficiary half of `TrpService` (it provides these attributes and helpers)."""

    db: Store
    recorder: Recorder
    directory: Directory
    decider: Decider
    ivms_profile: str
    immediate: bool

    def _url(self, path: str) -> str:
        raise NotImplementedError

    def _enqueue(
        self,
        tx: Tx,
        url: str,
        identifier: str,
        message: str,
        body: bytes,
        *,
        hold_id: str | None = None,
    ) -> None:
        raise NotImplementedError

    async def inquiry(self, token: str, headers: RequestHeaders, body: bytes, peer: str) -> bytes:
        """An inquiry to one of our Travel Addresses: the 200 body to answer with."""
        listed = self.directory.get(peer)
        if listed is not None and listed.blocked:
            raise TrpForbiddenError(f"{peer} is blocked by this node")
        record = await self.db.read(lambda tx: tx.travel_address(token))
        if record is None:
            raise TrpNotFoundError("no travel address of this node has this path")
        identifier = headers.request_identifier
        known = await self.db.read(lambda tx: tx.trp_inquiry(peer, identifier))
        if known is not None and known.answer is not None:
            return known.answer
        profile: Any = (listed.ivms_profile if listed else None) or self.ivms_profile
        inquiry = parse_inquiry(body, profile=profile)
        customer = await self.db.read(lambda tx: tx.get_customer(record.customer_id))
        payload = _deposit_payload(inquiry, record.address)
        try:
            parts = env.check_payload(payload)
        except TravelgateError as exc:
            raise TrpInvalidError(f"inquiry cannot be used: {exc.message}") from None
        inbound = Inbound(
            peer=listed or Peer(peer, ""),
            envelope=api_pb2.SecureEnvelope(id=identifier),
            parts=parts,
            conversation=None,
            customer=customer,
            address=record.address,
        )
        verdict = await self.decider.decide(inbound)
        confirm_token = new_token()
        resolution = self._resolution(verdict, record.address, confirm_token)
        state = _deposit_state(verdict)
        immediate = self.immediate and resolution is not None
        answer = emit(resolution) if immediate and resolution else emit(Acknowledgement())

        def write(tx: Tx) -> bytes:
            raced = tx.trp_inquiry(peer, identifier)
            if raced is not None and raced.answer is not None:
                return raced.answer
            if tx.conversation(peer, identifier) is not None:
                raise TrpInvalidError(
                    f"request-identifier {identifier[:80]!r} already names a TRISA transfer "
                    "of yours with this node: use a fresh identifier per transfer"
                )
            conversation_id = tx.create_conversation(
                peer,
                identifier,
                role=BENEFICIARY,
                state=state,
                customer_id=record.customer_id if customer is not None else None,
                protocol="trp",
            )
            tx.update_conversation(
                conversation_id,
                payload=payload.SerializeToString(),
                decision=_verdict_decision(verdict),
            )
            tx.insert_trp_transfer(
                role=BENEFICIARY_ROLE,
                peer=peer,
                request_identifier=identifier,
                callback_token=confirm_token,
                state=_transfer_state(resolution),
                conversation_id=conversation_id,
                peer_callback=inquiry.callback,
                answer=answer,
            )
            if resolution is not None and not immediate:
                self._send_resolution(tx, inquiry.callback, identifier, resolution)
            stored = tx.conversation_by_id(conversation_id)
            if verdict.action is Action.PENDING and stored is not None:
                tx.open_review(
                    str(uuid.uuid4()),
                    kind="deposit",
                    subject_id=stored.public_id,
                    rule=verdict.rule,
                    reason=verdict.reason,
                    stamp=now_text(),
                )
            # Extensions we do not implement are recorded, never fatal (TRP v3).
            ignored = unsupported_extensions(inquiry, headers.extensions)
            self._deposit_changed(
                tx, conversation_id, f"peer:{peer}", "deposit.trp_inquiry", extensions=ignored
            )
            return answer

        return await self.db.write(write)

    def _resolution(self, verdict: Verdict, address: str, token: str) -> Resolution | None:
        if verdict.action is Action.ACCEPT:
            return Approval(address=address, callback=self._url(f"/confirmations/{token}"))
        if verdict.action is Action.PENDING:
            return None
        return Rejection(_verdict_text(verdict))

    def _send_resolution(
        self, tx: Tx, callback: str, identifier: str, resolution: Resolution
    ) -> None:
        kind = "approved" if isinstance(resolution, Approval) else "rejected"
        self._enqueue(tx, callback, identifier, kind, emit(resolution))

    def _deposit_changed(
        self, tx: Tx, conversation_id: int, actor: str, action: str, **detail: Any
    ) -> None:
        conversation = tx.conversation_by_id(conversation_id)
        assert conversation is not None
        self.recorder.audit(
            tx,
            actor,
            action,
            f"conversation:{conversation_id}",
            state=conversation.state,
            protocol="trp",
            **detail,
        )
        self.recorder.event(tx, f"deposit.{conversation.state.lower()}", deposit_view(conversation))
        tx.changed(f"conversation:{conversation_id}")

    def resolve_deposit(self, tx: Tx, conversation: Conversation, *, accept: bool) -> None:
        """A person decided a TRP deposit in review: approve or reject at the callback."""
        transfer = tx.trp_transfer_for_conversation(conversation.id)
        if transfer is None or transfer.state != "inquired" or not transfer.peer_callback:
            return
        if accept:
            address = _deposit_address(conversation)
            resolution: Resolution = Approval(
                address=address, callback=self._url(f"/confirmations/{transfer.callback_token}")
            )
        else:
            resolution = Rejection("rejected after compliance review")
        tx.update_trp_transfer(transfer.id, state=_transfer_state(resolution))
        outcome = Outcome.ACCEPTED if accept else Outcome.REJECTED
        tx.update_conversation(conversation.id, state=conversation_state(outcome))
        self._send_resolution(tx, transfer.peer_callback, transfer.request_identifier, resolution)

    def decide_pending(
        self, tx: Tx, conversation: Conversation, *, accept: bool, actor: str
    ) -> None:
        """Decide a TRP deposit left pending (a robot, or any caller outside the review
        queue): answer at the callback, close its reviews, tell the back office."""
        self.resolve_deposit(tx, conversation, accept=accept)
        tx.close_reviews_of(conversation.public_id, reason=f"decided by {actor}", stamp=now_text())
        self._deposit_changed(tx, conversation.id, actor, "deposit.trp_decided")

    async def confirmation(
        self, token: str, headers: RequestHeaders, message: ConfirmationMessage, peer: str
    ) -> None:
        """The originator's txid or cancel at our approval callback."""

        def write(tx: Tx) -> None:
            transfer = tx.trp_transfer_by_token(token)
            if transfer is None or transfer.role != BENEFICIARY_ROLE:
                raise TrpNotFoundError("no approval of ours has this callback")
            if transfer.peer != peer:
                raise TrpForbiddenError(f"this callback belongs to {transfer.peer}, not {peer}")
            conversation = tx.conversation_by_id(transfer.conversation_id or 0)
            if conversation is None or transfer.state in ("confirmed", "canceled"):
                return  # the same message again: already recorded
            if isinstance(message, Confirmation):
                tx.update_trp_transfer(transfer.id, state="confirmed")
                tx.update_conversation(
                    conversation.id,
                    state=ConversationState.COMPLETED,
                    payload=_with_txid(conversation.payload, message.txid),
                )
            else:
                tx.update_trp_transfer(transfer.id, state="canceled")
                tx.update_conversation(
                    conversation.id,
                    state=ConversationState.CANCELED,
                    decision=decision_view(
                        DecisionCode.CANCELED,
                        message.reason or "the originator canceled the transfer",
                        "trp:canceled",
                    ),
                )
            self._deposit_changed(tx, conversation.id, f"peer:{peer}", "deposit.trp_confirmation")

        await self.db.write(write)


def _deposit_payload(inquiry: Inquiry, address: str) -> api_pb2.Payload:
    """The inquiry as a TRISA payload: how every deposit is stored and shown."""
    assert inquiry.identity is not None
    identity = ivms101.to_protobuf(inquiry.identity)
    symbol = inquiry.asset.slip0044 or SYMBOL_BY_DTI.get(inquiry.asset.dti or "", "")
    accounts = list(identity.originator.account_numbers)
    transaction = transaction_pb2.Transaction(
        originator=accounts[0] if accounts else "",
        beneficiary=address,
        amount=float(inquiry.amount),
        network=(symbol or inquiry.asset.dti or "").lower(),
        asset_type=symbol.upper(),
        extra_json=json.dumps(
            {"amount_exact": _plain(inquiry.amount), "trp_asset": _asset_json(inquiry.asset)},
            sort_keys=True,
        ),
    )
    return env.make_payload(identity, transaction, sent_at=env.format_timestamp())


def _plain(amount: Decimal) -> str:
    return format(amount, "f")


def _asset_json(asset: Asset) -> dict[str, str]:
    return {k: v for k, v in (("dti", asset.dti), ("slip0044", asset.slip0044)) if v}


def _with_txid(payload: bytes | None, txid: str) -> bytes | None:
    if payload is None:
        return None
    message = api_pb2.Payload()
    message.ParseFromString(payload)
    transaction = transaction_pb2.Transaction()
    if message.transaction.Unpack(transaction):
        transaction.txid = txid
        message.transaction.Pack(transaction)
    return message.SerializeToString()


def _deposit_address(conversation: Conversation) -> str:
    if conversation.payload is None:
        return ""
    message = api_pb2.Payload()
    message.ParseFromString(conversation.payload)
    transaction = transaction_pb2.Transaction()
    message.transaction.Unpack(transaction)
    return transaction.beneficiary


def _deposit_state(verdict: Verdict) -> ConversationState:
    """TRP has no repair: whatever is not accepted or left pending is rejected."""
    if verdict.action is Action.ACCEPT:
        return ConversationState.ACCEPTED
    if verdict.action is Action.PENDING:
        return ConversationState.PENDING
    return ConversationState.REJECTED


def _transfer_state(resolution: Resolution | None) -> str:
    if resolution is None:
        return "inquired"
    return "approved" if isinstance(resolution, Approval) else "rejected"


def _verdict_text(verdict: Verdict) -> str:
    return (
        verdict.message
        or (verdict.error.message if verdict.error is not None else "")
        or verdict.reason
        or "the beneficiary VASP rejected the transfer"
    )


def _verdict_decision(verdict: Verdict) -> dict[str, Any] | None:
    trisa_code = trisa_code_name(verdict.error.code) if verdict.error is not None else None
    return decision_view(
        reason_code(verdict.reason, verdict.rule),
        verdict.message or (verdict.error.message if verdict.error else verdict.reason),
        verdict.rule or None,
        trisa_code,
    )
