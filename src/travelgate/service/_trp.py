"""TRP in the gateway: minting Travel Addresses, and the originator side (TRP v3).

A hold whose destination is a Travel Address queues its inquiry in the outbox (kind `trp`);
the answer (acknowledgement or immediate decision) and the resolution at our per-hold
callback move the hold; broadcast and cancel send the confirmation. The beneficiary side
(`TrpDeposits`) is mixed in from `_trp_deposits`. Each change is one store transaction with
its outbox rows, so nothing is lost or sent twice.
"""

from __future__ import annotations

from typing import Any

import structlog

from travelgate import ivms101
from travelgate.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    TravelgateError,
    TrpForbiddenError,
    TrpInvalidError,
    TrpNotFoundError,
)
from travelgate.service._holds import HoldService
from travelgate.service._records import Recorder
from travelgate.service._requests import WithdrawalRequest
from travelgate.service._trp_deposits import (
    DTI_BY_SYMBOL,
    TrpDeposits,
    new_token,
)
from travelgate.store import Hold, OutboxItem, Store, TrpTransfer, Tx, now_text
from travelgate.transfers import DecisionCode, HoldState, is_final
from travelgate.trisa import Decider, Directory
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
    parse_inquiry_response,
)

log = structlog.get_logger("travelgate.trp")

OUTBOX_KIND = "trp"
BODY_KIND = "trp"  # sealed at rest: an inquiry carries personal data
ORIGINATOR_ROLE = "originator"
_STOPPED = (HoldState.CANCELED.value, HoldState.REJECTED.value, HoldState.EXPIRED.value)


class TrpService(TrpDeposits):
    """Both roles of TRP; `public_url` is where our TRP server is reached."""

    def __init__(
        self,
        *,
        db: Store,
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
            raise ConflictError(
                "trp_disabled", "TRP is not enabled on this node ([trp] enabled = true)"
            )
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise InvalidRequestError(
                "invalid_field", "the body must be a JSON object", field="body"
            )
        unknown = sorted(set(body) - {"address"})
        if unknown:
            raise InvalidRequestError(
                "unknown_field", f"unknown field {unknown[0]}", field=unknown[0]
            )
        customer = await self.db.read(lambda tx: tx.get_customer(customer_id))
        if customer is None:
            raise NotFoundError("not_found", f"no customer {customer_id!r}", field="id")
        address = body.get("address")
        if address is None:
            if not customer.addresses:
                raise InvalidRequestError(
                    "missing_field",
                    f"customer {customer_id!r} has no deposit address to receive on",
                    field="address",
                )
            address = customer.addresses[0]
        if not isinstance(address, str) or address not in customer.addresses:
            raise InvalidRequestError(
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
            transfer = tx.trp_sent(item.envelope_id or "")
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
        self.holds.unreachable(tx, hold, "directory", f"{peer} is blocked in our directory")

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
                # We stopped waiting: tell the beneficiary not to expect funds (TRP v3).
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

    def identity(self) -> IdentityInfo:
        return IdentityInfo(name=self.legal_name, lei=self.lei, x509=self.certificate_pem)


__all__ = ["DTI_BY_SYMBOL", "TrpService", "new_token"]
