"""TRP in the gateway: minted Travel Addresses, inquiries for our withdrawals, inquiries to
our customers as deposits, and the callbacks of both (trp.md 1, 5, 12).

Originator side: a hold whose destination is a Travel Address queues its inquiry in the
outbox (kind `trp`); the answer (acknowledgement or immediate decision) and the resolution
at our per-hold callback move the hold. Beneficiary side: an inquiry to a minted address is
decided by the same decider as a TRISA deposit and stored as a deposit (a conversation with
protocol `trp`); the decision goes back in the 200 body (`[trp] immediate`) or through the
outbox to the inquiry's callback. Each change is one store transaction with its outbox rows.
"""

from __future__ import annotations

import json
import secrets
import uuid
from decimal import Decimal
from typing import Any

import structlog

from travelgate import envelope as env
from travelgate import ivms101
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2
from travelgate.errors import (
    ApiError,
    TravelgateError,
    TrpForbiddenError,
    TrpInvalidError,
    TrpNotFoundError,
)
from travelgate.service._deposits import deposit_view, trisa_code_name
from travelgate.service._holds import SYSTEM, HoldService
from travelgate.service._records import Recorder, decision_view
from travelgate.service._requests import WithdrawalRequest
from travelgate.store import Conversation, Database, Hold, OutboxItem, TrpTransfer, Tx, now_text
from travelgate.transfers import DecisionCode, HoldState, is_final, reason_code
from travelgate.trisa import BENEFICIARY, Action, Decider, Directory, Inbound, Peer, Verdict
from travelgate.trp import (
    Acknowledgement,
    Approval,
    Asset,
    Cancellation,
    Confirmation,
    ConfirmationMessage,
    IdentityInfo,
    Inquiry,
    Rejection,
    RequestHeaders,
    Resolution,
    TrpClient,
    emit,
    inquiry_url,
    make_travel_address,
    new_request_identifier,
    parse_inquiry,
    parse_inquiry_response,
)

log = structlog.get_logger("travelgate.trp")

OUTBOX_KIND = "trp"
BODY_KIND = "trp"  # sealed at rest: an inquiry carries personal data
# Digital Token Identifiers we are sure of (trp.md 5.2); other assets go by symbol only.
DTI_BY_SYMBOL = {"BTC": "4H95J0R2X"}
SYMBOL_BY_DTI = {dti: symbol for symbol, dti in DTI_BY_SYMBOL.items()}
ORIGINATOR_ROLE = "originator"
BENEFICIARY_ROLE = "beneficiary"
_STOPPED = (HoldState.CANCELED.value, HoldState.REJECTED.value, HoldState.EXPIRED.value)


def new_token() -> str:
    """An unguessable URL path segment (192 bits)."""
    return secrets.token_urlsafe(24)


class TrpService:
    """Both roles of TRP; `public_url` is where our TRP server is reached."""

    def __init__(
        self,
        *,
        db: Database,
        holds: HoldService,
        recorder: Recorder,
        directory: Directory,
        decider: Decider,
        vasp_name: str,
        legal_name: str,
        lei: str,
        certificate_pem: str,
        ivms_profile: str,
        immediate: bool,
    ) -> None:
        self.db = db
        self.holds = holds
        self.recorder = recorder
        self.directory = directory
        self.decider = decider
        self.vasp_name = vasp_name
        self.legal_name = legal_name
        self.lei = lei
        self.certificate_pem = certificate_pem
        self.ivms_profile = ivms_profile
        self.immediate = immediate
        self.public_url = ""
        self.client: TrpClient | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.public_url) and self.client is not None

    def _url(self, path: str) -> str:
        return f"{self.public_url}{path}"

    # -- minting ---------------------------------------------------------------------------

    async def mint(self, customer_id: str, body: object) -> dict[str, Any]:
        """`POST /v1/customers/{id}/travel-addresses`: a new address for a deposit address."""
        if not self.public_url:
            raise ApiError(
                409, "trp_disabled", "TRP is not enabled on this node ([trp] enabled = true)"
            )
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise ApiError(422, "invalid_field", "the body must be a JSON object", field="body")
        unknown = sorted(set(body) - {"address"})
        if unknown:
            raise ApiError(422, "unknown_field", f"unknown field {unknown[0]}", field=unknown[0])
        customer = await self.db.read(lambda tx: tx.get_customer(customer_id))
        if customer is None:
            raise ApiError(404, "not_found", f"no customer {customer_id!r}", field="id")
        address = body.get("address")
        if address is None:
            if not customer.addresses:
                raise ApiError(
                    422,
                    "missing_field",
                    f"customer {customer_id!r} has no deposit address to receive on",
                    field="address",
                )
            address = customer.addresses[0]
        if not isinstance(address, str) or address not in customer.addresses:
            raise ApiError(
                422,
                "unknown_address",
                f"address must be one of customer {customer_id!r}'s deposit addresses",
                field="address",
            )
        token = new_token()
        url = self._url(f"/transfers/{token}?t=i")
        travel_address = make_travel_address(url)

        def write(tx: Tx) -> None:
            tx.insert_travel_address(
                token, customer_id=customer_id, address=address, travel_address=travel_address
            )

        await self.db.write(write)
        return {
            "travel_address": travel_address,
            "url": url,
            "customer_id": customer_id,
            "address": address,
        }

    # -- originator: our withdrawals ---------------------------------------------------------

    def start_inquiry(
        self, tx: Tx, hold: Hold, request: WithdrawalRequest, identity: Any
    ) -> Hold | None:
        """Queue the inquiry of a new exchange (None: TRP is not enabled here)."""
        if not self.enabled or request.travel_address is None:
            return None
        token = new_token()
        identifier = new_request_identifier()
        target = inquiry_url(request.travel_address)
        symbol = request.asset.upper()
        inquiry = Inquiry(
            asset=Asset(dti=DTI_BY_SYMBOL.get(symbol), slip0044=symbol),
            amount=request.amount,
            callback=self._url(f"/resolutions/{token}"),
            ivms101=ivms101.encode(identity),
        )
        tx.insert_trp_transfer(
            role=ORIGINATOR_ROLE,
            peer="",
            request_identifier=identifier,
            callback_token=token,
            state="inquired",
            hold_id=hold.id,
            inquiry_url=target,
        )
        self._enqueue(tx, target, identifier, "inquiry", emit(inquiry), hold_id=hold.id)
        return self.recorder.touch(tx, hold, envelope_id=identifier)

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
        tx.enqueue(
            kind=OUTBOX_KIND,
            target=url,
            body_kind=BODY_KIND,
            body=body,
            stamp=now_text(),
            hold_id=hold_id,
            envelope_id=identifier,
            transfer_state=message,
        )

    async def deliver(self, item: OutboxItem) -> None:
        """Send one queued TRP message (the outbox worker's `trp` rows)."""
        client = self.client
        if client is None:
            raise TrpInvalidError("TRP is not enabled on this node: [trp] enabled = true")
        if item.transfer_state == "inquiry" and item.hold_id is not None:
            hold = await self.db.read(lambda tx: tx.hold(item.hold_id or ""))
            if hold is not None and hold.state in _STOPPED:
                await self.db.write(lambda tx: tx.outbox_done(item.id, stamp=now_text()))
                return  # withdrawn before it left: nothing to send
        body = await self.db.read(lambda tx: tx.outbox_body(item))
        reply = await client.post(item.target, body, request_identifier=item.envelope_id or "")
        if item.transfer_state != "inquiry":
            await self.db.write(lambda tx: tx.outbox_done(item.id, stamp=now_text()))
            return
        try:
            response = parse_inquiry_response(reply.body)
        except TravelgateError:
            response = Acknowledgement(version="")  # the decision may still come by callback
            log.warning("TRP answer unreadable", url=item.target)

        def write(tx: Tx) -> None:
            tx.outbox_done(item.id, stamp=now_text())
            transfer = tx.trp_transfer_for_hold(item.hold_id or "")
            if transfer is None:
                return
            tx.update_trp_transfer(transfer.id, peer=reply.peer_common_name)
            hold = tx.hold(transfer.hold_id or "")
            if hold is None:
                return
            hold = self.recorder.touch(tx, hold, counterparty=reply.peer_common_name)
            listed = self.directory.get(reply.peer_common_name)
            if listed is not None and listed.blocked:
                self._blocked(tx, hold, reply.peer_common_name)
            elif isinstance(response, Approval | Rejection):
                self._resolve_hold(tx, transfer, hold, response, reply.peer_common_name)
            elif hold.state == HoldState.HELD.value:
                self._start_waiting(tx, hold)

        await self.db.write(write)

    def _blocked(self, tx: Tx, hold: Hold, peer: str) -> None:
        """The Travel Address led to a counterparty our directory blocks: a person decides."""
        if hold.state not in (HoldState.HELD.value, HoldState.AWAITING_REPLY.value):
            return
        self.recorder.move(
            tx,
            hold,
            HoldState.REVIEW,
            actor=SYSTEM,
            code=DecisionCode.POLICY_COUNTERPARTY_UNREACHABLE,
            rule="directory",
            reason=f"POLICY.COUNTERPARTY_UNREACHABLE: {peer} is blocked in our directory",
        )

    def _start_waiting(self, tx: Tx, hold: Hold) -> Hold:
        _facts, decision = self.holds.facts_of(hold, None)
        return self.holds.start_waiting(tx, hold, decision)

    async def resolution(
        self, token: str, headers: RequestHeaders, resolution: Resolution, peer: str
    ) -> None:
        """The beneficiary's approval or rejection at our inquiry callback."""

        def write(tx: Tx) -> None:
            transfer = tx.trp_transfer_by_token(token)
            if transfer is None or transfer.role != ORIGINATOR_ROLE:
                raise TrpNotFoundError("no inquiry of ours has this callback")
            if transfer.peer and transfer.peer != peer:
                raise TrpForbiddenError(f"this callback belongs to {transfer.peer}, not {peer}")
            hold = tx.hold(transfer.hold_id or "")
            if hold is None:
                raise TrpNotFoundError("the withdrawal of this callback is gone")
            if not transfer.peer:
                tx.update_trp_transfer(transfer.id, peer=peer)
                hold = self.recorder.touch(tx, hold, counterparty=peer)
            self._resolve_hold(tx, transfer, hold, resolution, peer)

        await self.db.write(write)

    def _resolve_hold(
        self, tx: Tx, transfer: TrpTransfer, hold: Hold, resolution: Resolution, peer: str
    ) -> None:
        actor = f"peer:{peer}"
        if transfer.state != "inquired":
            return  # decided already: a repeat changes nothing
        if isinstance(resolution, Approval):
            tx.update_trp_transfer(
                transfer.id,
                state="approved",
                peer_callback=resolution.callback,
                approved_address=resolution.address,
            )
        else:
            tx.update_trp_transfer(transfer.id, state="rejected")
        if hold.state in _STOPPED or is_final(HoldState(hold.state)):
            if isinstance(resolution, Approval):
                # We stopped waiting: tell the beneficiary not to expect funds (trp.md 5.4).
                reason = f"the originator's withdrawal is {hold.state}"
                self._enqueue(
                    tx,
                    resolution.callback,
                    transfer.request_identifier,
                    "canceled",
                    emit(Cancellation(reason)),
                    hold_id=hold.id,
                )
            return
        if hold.state == HoldState.HELD.value:
            hold = self._start_waiting(tx, hold)
        if hold.state != HoldState.AWAITING_REPLY.value:
            self.recorder.audit(tx, actor, "hold.ignored_reply", f"hold:{hold.id}", protocol="trp")
            return
        if isinstance(resolution, Rejection):
            self.recorder.move(
                tx,
                hold,
                HoldState.REJECTED,
                actor=actor,
                code=DecisionCode.REPLY_REJECTED,
                rule="reply:trp-rejected",
                reason=resolution.reason or "the beneficiary VASP rejected the transfer",
            )
            return
        wanted = hold.destination
        changes: dict[str, Any] = {"approved_address": resolution.address}
        if wanted and wanted != resolution.address:
            self.recorder.move(
                tx,
                hold,
                HoldState.REVIEW,
                actor=actor,
                code=DecisionCode.TRP_ADDRESS_MISMATCH,
                rule="reply:trp-approved",
                reason=(
                    f"the beneficiary VASP approved address {resolution.address!r}, not the "
                    f"requested {wanted!r}"
                )[:500],
                **changes,
            )
            return
        if not wanted:
            changes["destination"] = resolution.address
        self.recorder.move(
            tx,
            hold,
            HoldState.CLEARED,
            actor=actor,
            code=DecisionCode.REPLY_ACCEPTED,
            rule="reply:trp-approved",
            reason="the beneficiary VASP approved the transfer over TRP",
            **changes,
        )

    def send_txid(self, tx: Tx, hold: Hold, txid: str) -> None:
        """After broadcast: the txid to the beneficiary's approval callback."""
        self._confirm(tx, hold, Confirmation(txid))

    def end_exchange(self, tx: Tx, hold: Hold, reason: str) -> None:
        """The withdrawal will not happen: cancel, once the beneficiary approved."""
        self._confirm(tx, hold, Cancellation(reason))

    def _confirm(self, tx: Tx, hold: Hold, message: ConfirmationMessage) -> None:
        transfer = tx.trp_transfer_for_hold(hold.id)
        if transfer is None or transfer.state != "approved" or not transfer.peer_callback:
            return  # no approval yet: core TRP has no way to cancel an open inquiry
        state = "confirmed" if isinstance(message, Confirmation) else "canceled"
        tx.update_trp_transfer(transfer.id, state=state)
        self._enqueue(
            tx,
            transfer.peer_callback,
            transfer.request_identifier,
            "txid" if isinstance(message, Confirmation) else "canceled",
            emit(message),
            hold_id=hold.id,
        )

    def approved(self, tx: Tx, hold: Hold) -> bool:
        transfer = tx.trp_transfer_for_hold(hold.id)
        return transfer is not None and transfer.state == "approved"

    # -- beneficiary: deposits to our customers -------------------------------------------

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
            self._deposit_changed(tx, conversation_id, f"peer:{peer}", "deposit.trp_inquiry")
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

    def _deposit_changed(self, tx: Tx, conversation_id: int, actor: str, action: str) -> None:
        conversation = tx.conversation_by_id(conversation_id)
        assert conversation is not None
        self.recorder.audit(
            tx, actor, action, f"conversation:{conversation_id}", state=conversation.state
        )
        self.recorder.event(tx, f"deposit.{conversation.state.lower()}", deposit_view(conversation))
        self.recorder.notifier.notify(f"conversation:{conversation_id}")

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
        tx.update_conversation(conversation.id, state="ACCEPTED" if accept else "REJECTED")
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
                    state="COMPLETED",
                    payload=_with_txid(conversation.payload, message.txid),
                )
            else:
                tx.update_trp_transfer(transfer.id, state="canceled")
                tx.update_conversation(
                    conversation.id,
                    state="CANCELED",
                    decision=decision_view(
                        DecisionCode.CANCELED,
                        message.reason or "the originator canceled the transfer",
                        "trp:canceled",
                    ),
                )
            self._deposit_changed(tx, conversation.id, f"peer:{peer}", "deposit.trp_confirmation")

        await self.db.write(write)

    def identity(self) -> IdentityInfo:
        return IdentityInfo(name=self.legal_name, lei=self.lei, x509=self.certificate_pem)


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


def _deposit_state(verdict: Verdict) -> str:
    if verdict.action is Action.ACCEPT:
        return "ACCEPTED"
    if verdict.action is Action.PENDING:
        return "PENDING"
    return "REJECTED"


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


__all__ = ["SYSTEM", "TrpService"]
