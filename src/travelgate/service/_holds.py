"""Withdrawal holds: create (idempotent), look up, broadcast, cancel, expire, review.

The policy engine (`travelgate.transfers`) decides; this module records. A hold that must
exchange with a VASP stays `held` while the outbox delivers its first envelope; the reply
moves it on (`ServiceHooks`). Nothing here clears a hold by itself: only a valid,
policy-sufficient reply, a decision of the engine that no exchange is needed, or a
person's recorded review decision where no exchange is possible does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from travelgate import envelope as env
from travelgate._pb.ivms101 import identity_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2
from travelgate.errors import (
    Code,
    ConflictError,
    NotFoundError,
    RequestError,
    StoreError,
    TravelgateError,
)
from travelgate.screening import address_key
from travelgate.service._paging import check_state, decode_cursor, page_of
from travelgate.service._payloads import first_payload, outgoing_identity, outgoing_transaction
from travelgate.service._records import Recorder, counterparty_view, hold_view
from travelgate.service._requests import (
    WithdrawalRequest,
    check_originator,
    check_person,
    invalid,
    parse_withdrawal,
)
from travelgate.service._routing import EMAIL, TRP, Counterparty, resolve_route, route
from travelgate.service._screening import Screened, ScreeningStep
from travelgate.service._wallets import in_book, verified_wallet
from travelgate.store import (
    Conversation,
    Customer,
    Hold,
    HoldFilter,
    OutboxItem,
    Store,
    Tx,
    now_text,
)
from travelgate.timestamps import format_timestamp, parse_stored
from travelgate.transfers import (
    Action,
    ConversationState,
    CounterpartyKind,
    Decision,
    DecisionCode,
    Direction,
    HoldState,
    IllegalTransitionError,
    Money,
    Policy,
    TransactionRecord,
    TransferFacts,
    Valuation,
    decision_code,
    evaluate,
    outbound_timeout,
    reply_deadline,
)
from travelgate.trisa import Directory, VaspInfo
from travelgate.trisa._replies import resumed_payload

if TYPE_CHECKING:
    from travelgate.service._alerts import Alerts

SYSTEM = "system"
POLICY = "policy"
SCREENING = "screening"
# A long poll without a version waits only while the exchange is still running.
_WAITING = (HoldState.HELD.value, HoldState.AWAITING_REPLY.value)


# Outcomes that stand whatever the directory says (our own data missing, a rejection).
_FINAL = (Action.BLOCK, Action.REJECT)


def _routed(record: dict[str, Any], counterparty: Counterparty) -> dict[str, Any]:
    """The decision record, with how its counterparty was found (the view reads it)."""
    if counterparty.source is not None:
        record["counterparty_source"] = counterparty.source
    if counterparty.directory_problem is not None:
        record["directory_problem"] = counterparty.directory_problem
    return record


class HoldService:
    def __init__(
        self,
        *,
        db: Store,
        directory: Directory,
        policy: Policy,
        vasp: VaspInfo,
        recorder: Recorder,
        assets: frozenset[str],
        ivms_profile: str = "standard",
        screening: ScreeningStep | None = None,
        alerts: Alerts | None = None,
        new_destination_hold: timedelta | None = None,
    ) -> None:
        self.screening = screening
        self.alerts = alerts
        self.new_destination_hold = new_destination_hold
        self.db = db
        self.directory = directory
        self.policy = policy
        self.vasp = vasp
        self.recorder = recorder
        self.assets = assets
        self.ivms_profile = ivms_profile
        self.trp: Any = None  # the TrpService, when this node speaks TRP
        self.sunrise: Any = None  # the SunriseService: counterparties reached by email

    # -- create --------------------------------------------------------------------------

    async def create(
        self, api_key_id: str, idempotency_key: str, body: object
    ) -> tuple[dict[str, Any], int]:
        """The hold for this request: (view, 201) created, (view, 200) replayed; 409 on reuse."""
        request = parse_withdrawal(body, assets=self.assets)
        existing = await self.db.read(lambda tx: tx.hold_by_idempotency(idempotency_key))
        if existing is not None:
            return self._replay(existing, request), 200
        self._check_not_ourselves(request)
        customer = None
        if request.customer_id is not None:
            customer_id = request.customer_id
            customer = await self.db.read(lambda tx: tx.get_customer(customer_id))
        identity = self._identity(request, customer)
        counterparty = await resolve_route(request, self.directory)
        now = datetime.now(UTC)
        decision = evaluate(self._facts(request, counterparty, identity, now), self.policy)
        own_wallet = False
        if decision.reason == DecisionCode.POLICY_SELF_HOSTED_EVIDENCE_REQUIRED.value:
            own_wallet = await self.db.read(
                lambda tx: verified_wallet(
                    tx, request.customer_id, request.address, request.network
                )
            )
            if own_wallet:
                facts = self._facts(request, counterparty, identity, now, evidence=True)
                decision = evaluate(facts, self.policy)
        # The provider is a network call: asked before the transaction that records.
        answer = None
        if self.screening is not None:
            answer = await self.screening.consult(
                request.address, request.asset, request.network, Direction.OUTBOUND
            )
        payload = first_payload(identity, outgoing_transaction(request))
        hold_id = str(uuid.uuid4())

        def write(tx: Tx) -> tuple[Hold, bool]:
            stamp = format_timestamp(now)
            # The same key sent to several processes at once: the first claim wins, every
            # other request answers with the hold it made.
            if not tx.claim_idempotency_key(idempotency_key, hold_id, stamp=stamp):
                raced = tx.hold_of_idempotency_key(idempotency_key)
                if raced is None:
                    raise StoreError(f"Idempotency-Key {idempotency_key!r} names no withdrawal")
                return raced, False
            screened = None
            if self.screening is not None:
                screened = self.screening.decide(
                    tx, request.address, request.asset, request.network, answer
                )
            tx.insert_hold(
                stamp=stamp,
                request=request.body,
                id=hold_id,
                api_key_id=api_key_id,
                idempotency_key=idempotency_key,
                request_hash=request.body_hash,
                state=HoldState.HELD.value,
                asset=request.asset,
                network=request.network,
                amount=str(request.amount),
                destination=request.address,
                customer_id=request.customer_id,
                counterparty=counterparty.name,
                counterparty_kind=counterparty.api_kind,
                counterparty_protocol=counterparty.protocol,
                decision=_routed(decision.as_record(), counterparty),
                decision_code=decision_code(decision).value,
                decision_rule=decision.rule,
                decision_reason=decision.reason,
                screening=None if screened is None else screened.record,
                retention_seconds=int(decision.retention.total_seconds()),
            )
            hold = tx.hold(hold_id)
            assert hold is not None
            self.recorder.audit(
                tx, api_key_id, "hold.created", f"hold:{hold_id}", decision=decision.as_record()
            )
            screened_out = screened is not None and screened.objects
            verified = own_wallet and decision.action is Action.CLEAR
            waits = not (screened_out or verified) and self._new_destination(tx, request, decision)
            if waits:
                # The held event already says how long it waits.
                hold = self._wait_for_new_destination(tx, hold, now)
            self.recorder.event(tx, "withdrawal.held", hold_view(hold))
            if screened is not None and screened_out:
                return self._screened_out(tx, hold, screened), True
            if verified:
                return self._own_wallet(tx, hold, decision), True
            if waits:
                return hold, True
            applied = self._apply_decision(
                tx, hold, decision, counterparty, payload, request, identity
            )
            return applied, True

        hold, created = await self.db.write(write)
        if not created:
            return self._replay(hold, request), 200
        return hold_view(hold), 201

    def _screened_out(self, tx: Tx, hold: Hold, screened: Screened) -> Hold:
        """Screening objects: the hold is rejected or reviewed before anything is sent."""
        action = screened.decision.action
        target = HoldState.REJECTED if action is Action.REJECT else HoldState.REVIEW
        if self.alerts is not None and screened.code is not DecisionCode.SCREENING_PROVIDER_FAILED:
            detail = {
                key: screened.decision.detail.get(key)
                for key in ("list", "reference", "risk", "categories")
                if screened.decision.detail.get(key) is not None
            }
            self.alerts.screening_hit(
                tx,
                f"hold:{hold.id}",
                Direction.OUTBOUND.value,
                {"code": screened.code.value, "action": target.value, **detail},
            )
        return self.recorder.move(
            tx,
            hold,
            target,
            actor=SCREENING,
            code=screened.code,
            rule=screened.rule,
            reason=screened.reason,
        )

    def _own_wallet(self, tx: Tx, hold: Hold, decision: Decision) -> Hold:
        return self.recorder.move(
            tx,
            hold,
            HoldState.CLEARED,
            actor=POLICY,
            code=DecisionCode.SELF_HOSTED_VERIFIED,
            rule=decision.rule or "self_hosted",
            reason="the destination is a verified self-hosted wallet of the originating customer",
        )

    def _new_destination(self, tx: Tx, request: WithdrawalRequest, decision: Decision) -> bool:
        """`[policy] new_destination_hold`: a withdrawal that would proceed to an address
        outside the customer's book waits first."""
        return (
            self.new_destination_hold is not None
            and request.customer_id is not None
            and decision.action in (Action.SEND, Action.CLEAR)
            and not in_book(tx, request.customer_id, request.address)
        )

    def _wait_for_new_destination(self, tx: Tx, hold: Hold, now: datetime) -> Hold:
        assert self.new_destination_hold is not None
        release_at = format_timestamp(now + self.new_destination_hold)
        self.recorder.audit(
            tx, POLICY, "hold.new_destination", f"hold:{hold.id}", release_at=release_at
        )
        return self.recorder.touch(
            tx,
            hold,
            release_at=release_at,
            decision_code=DecisionCode.HOLD_NEW_DESTINATION.value,
            decision_rule="new_destination_hold",
            decision_reason=f"a destination new to this customer: held until {release_at}",
        )

    async def release_due(self) -> int:
        """Let go every withdrawal whose new-destination wait is over: the decision of
        record applies now, exactly as it would have at creation."""
        now = now_text()
        due = await self.db.read(lambda tx: tx.holds_to_release(now))
        for hold in due:
            # Asked before the transaction: the TRISA directory may be a network call.
            routed = await resolve_route(
                parse_withdrawal(hold.request, assets=frozenset({hold.asset})), self.directory
            )

            def write(tx: Tx, hold_id: str = hold.id, counterparty: Counterparty = routed) -> None:
                current = tx.hold(hold_id)
                if current is None or current.state != HoldState.HELD.value:
                    return
                current = self.recorder.touch(tx, current, release_at=None)
                request = parse_withdrawal(current.request, assets=frozenset({current.asset}))
                try:
                    payload = self._payload_now(tx, current)
                    customer = None
                    if request.customer_id is not None:
                        customer = tx.get_customer(request.customer_id)
                    identity = self._identity(request, customer)
                except RequestError as exc:
                    self.recorder.move(
                        tx,
                        current,
                        HoldState.REVIEW,
                        actor=SYSTEM,
                        code=DecisionCode.POLICY_OWN_DATA_MISSING,
                        rule="new_destination_hold",
                        reason=exc.message[:500],
                    )
                    return
                created = parse_stored(current.created_at)
                facts = self._facts(request, counterparty, identity, created)
                decision = evaluate(facts, self.policy)
                self._apply_decision(tx, current, decision, counterparty, payload)

            await self.db.write(write)
        return len(due)

    def _replay(self, hold: Hold, request: WithdrawalRequest) -> dict[str, Any]:
        if hold.request_hash != request.body_hash:
            raise ConflictError(
                "idempotency_conflict",
                "this Idempotency-Key was used with a different request body",
                field="Idempotency-Key",
            )
        return hold_view(hold)

    def _apply_decision(
        self,
        tx: Tx,
        hold: Hold,
        decision: Decision,
        counterparty: Counterparty,
        payload: api_pb2.Payload,
        request: WithdrawalRequest | None = None,
        identity: Any = None,
    ) -> Hold:
        rule, reason = decision.rule, decision.reason
        if counterparty.directory_problem is not None and decision.action not in _FINAL:
            # Not knowing is not "not listed": say so, and never clear on it.
            why = (
                f"{counterparty.name}: {counterparty.directory_problem}; the rules for an "
                "unreachable counterparty apply (a person reviews)"
            )
            return self._to_person_unreachable(tx, hold, rule, why, actor=POLICY)
        if decision.action is Action.SEND and counterparty.protocol == TRP:
            started = None
            if self.trp is not None and request is not None:
                started = self.trp.start_inquiry(tx, hold, request, identity)
            if started is not None:
                return started  # type: ignore[no-any-return]
            return self._to_person_unreachable(
                tx, hold, rule, "TRP is not enabled on this node", actor=POLICY
            )
        if decision.action is Action.SEND and counterparty.protocol == EMAIL:
            assert counterparty.peer is not None
            started = None
            if self.sunrise is not None:
                started = self.sunrise.start(tx, hold, counterparty.peer, payload)
            if started is not None:
                return started  # type: ignore[no-any-return]
            return self._to_person_unreachable(
                tx,
                hold,
                rule,
                "email is not configured on this node ([email] smtp_host)",
                actor=POLICY,
            )
        if decision.action is Action.SEND:
            if counterparty.peer is None:
                return self._to_person_unreachable(tx, hold, rule, None, actor=POLICY)
            return self._start_exchange(tx, hold, counterparty.peer.name, payload)
        target = decision.target_state or HoldState.REVIEW
        code = decision_code(decision)
        if code is DecisionCode.POLICY_SELF_HOSTED_EVIDENCE_REQUIRED:
            code = DecisionCode.SELF_HOSTED_UNVERIFIED
        if code is DecisionCode.POLICY_COUNTERPARTY_UNREACHABLE and counterparty.directory_detail:
            reason = f"{reason}: {counterparty.name}: {counterparty.directory_detail}"[:500]
        return self.recorder.move(
            tx, hold, target, actor=POLICY, code=code, rule=rule, reason=reason
        )

    def _start_exchange(self, tx: Tx, hold: Hold, peer_name: str, payload: api_pb2.Payload) -> Hold:
        """Queue the first envelope of a new exchange and remember its id."""
        envelope_id = env.new_envelope_id()
        tx.enqueue_transfer(peer_name, envelope_id, "STARTED", payload=payload, hold_id=hold.id)
        return self.recorder.touch(tx, hold, envelope_id=envelope_id)

    def _check_not_ourselves(self, request: WithdrawalRequest) -> None:
        named = request.beneficiary_vasp
        if named is not None and named.strip().lower() == self.vasp.name.strip().lower():
            raise invalid(
                "beneficiary_vasp",
                f"beneficiary_vasp {named!r} is this node: a withdrawal to our own customers "
                "needs no travel-rule exchange and cannot be held here",
                "own_vasp",
            )

    def _identity(self, request: WithdrawalRequest, customer: Customer | None) -> Any:
        """The IVMS101 identity this withdrawal sends, once its originator passes the rules."""
        if request.customer_id is not None:
            if customer is None:
                raise invalid(
                    "originator.customer_id",
                    f"unknown customer {request.customer_id!r}",
                    "unknown_customer",
                )
            originator, account = dict(customer.person), customer.id
        else:
            assert request.originator_person is not None
            check_person(request.originator_person, "originator.person", role=None)
            originator = dict(request.originator_person)
            account = request.originator_account or ""
        check_originator(originator, self.ivms_profile, customer_id=request.customer_id)
        if request.beneficiary_person is not None:
            # Checked before it is encoded: the encoder refuses what the rules refuse.
            check_person(request.beneficiary_person, "beneficiary.person")
        return outgoing_identity(request, originator=originator, account=account, vasp=self.vasp)

    def _counterparty(self, request: WithdrawalRequest) -> Counterparty:
        return route(request, self.directory)

    def _facts(
        self,
        request: WithdrawalRequest,
        counterparty: Counterparty,
        identity: Any,
        now: datetime,
        *,
        evidence: bool = False,
    ) -> TransferFacts:
        valuation = None
        if request.value is not None:
            valuation = Valuation(Money(request.value.amount, request.value.currency), now)
        return TransferFacts(
            direction=Direction.OUTBOUND,
            identity=identity,
            transaction=TransactionRecord(
                amount=request.amount,
                asset=request.asset,
                network=request.network,
                beneficiary_address=request.address or request.travel_address or "",
                timestamp=now,
            ),
            valuation=valuation,
            counterparty_kind=counterparty.kind,
            counterparty=counterparty.name if counterparty.kind is CounterpartyKind.VASP else None,
            in_directory=counterparty.reachable,
            now=now,
            evidence_recorded=evidence,
        )

    def facts_of(self, hold: Hold, identity: Any) -> tuple[TransferFacts, Decision]:
        """The facts of a hold as at its creation, and the decision they give now."""
        request = parse_withdrawal(hold.request, assets=frozenset({hold.asset}))
        created = parse_stored(hold.created_at)
        facts = self._facts(request, self._counterparty(request), identity, created)
        return facts, evaluate(facts, self.policy)

    # -- read ----------------------------------------------------------------------------

    async def get(self, hold_id: str) -> dict[str, Any]:
        hold = await self.db.read(lambda tx: tx.hold(hold_id))
        if hold is None:
            raise NotFoundError("not_found", f"no withdrawal {hold_id!r}", field="id")
        return hold_view(hold)

    async def wait(
        self, hold_id: str, seconds: float, version: int | None = None
    ) -> dict[str, Any]:
        """A long poll. With `version`: the hold as soon as its version differs from it.
        Without: at once unless the hold is held or awaiting a reply, else at its first
        state change. Either way, the hold as it is after `seconds`."""
        view = await self.get(hold_id)
        state, deadline = view["state"], time.monotonic() + seconds

        def news(current: dict[str, Any]) -> bool:
            if version is not None:
                return bool(current["version"] != version)
            return current["state"] != state or state not in _WAITING

        while not news(view):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            # The notifier wakes us once a change committed, here or on another replica; the
            # short timeout is a backstop should a notification ever be lost.
            notifier = self.recorder.notifier
            await notifier.wait(hold_id, min(left, notifier.recheck))
            view = await self.get(hold_id)
        return view

    async def page(self, only: HoldFilter, cursor: str | None, limit: int) -> dict[str, Any]:
        check_state(only.state, [s.value for s in HoldState])
        before = decode_cursor(cursor)
        holds = await self.db.read(
            lambda tx: tx.holds_page(state=None, before=before, limit=limit + 1, only=only)
        )
        return page_of(holds, limit, hold_view)

    # -- broadcast and cancel --------------------------------------------------------------

    async def broadcast(self, hold_id: str, body: object, actor: str) -> dict[str, Any]:
        if not isinstance(body, dict) or set(body) - {"txid"}:
            raise invalid("txid", 'the body must be {"txid": "..."}')
        txid = body.get("txid")
        if not isinstance(txid, str) or not txid.strip() or len(txid) > 256:
            raise invalid("txid", "txid must be a non-empty string", "missing_field")
        txid = txid.strip()

        def write(tx: Tx) -> Hold:
            hold = self._hold_or_404(tx, hold_id)
            if hold.state == HoldState.RELEASED.value and hold.txid == txid:
                return hold  # the same broadcast again: nothing more to do
            if hold.state != HoldState.CLEARED.value:
                raise ConflictError(
                    "illegal_state", f"a {hold.state} withdrawal cannot be broadcast"
                )
            moved = self.recorder.move(
                tx,
                hold,
                HoldState.RELEASED,
                actor=actor,
                code=DecisionCode.BROADCAST,
                rule="broadcast",
                reason="broadcast by the withdrawal service",
                txid=txid,
            )
            self._send_completed(tx, moved, txid)
            if moved.customer_id is not None:
                tx.book_entry_used(
                    moved.customer_id, address_key(moved.destination), moved.network, now_text()
                )
            return moved

        return hold_view(await self.db.write(write))

    def conversation_of(self, tx: Tx, hold: Hold) -> Conversation | None:
        """The TRISA exchange of a hold with its counterparty, once one began."""
        if not hold.envelope_id or hold.counterparty is None:
            return None
        return tx.conversation(hold.counterparty, env.normalize_envelope_id(hold.envelope_id))

    def _send_completed(self, tx: Tx, hold: Hold, txid: str) -> None:
        if hold.counterparty_protocol == EMAIL:
            return  # a counterparty reached by email has no channel for the txid
        if hold.counterparty_protocol == TRP:
            if self.trp is not None:
                self.trp.send_txid(tx, hold, txid)
            return
        conversation = self.conversation_of(tx, hold)
        if conversation is None or conversation.payload is None:
            return
        tx.enqueue_transfer(
            conversation.peer,
            conversation.envelope_id,
            "COMPLETED",
            payload=resumed_payload(conversation.payload, txid=txid),
            hold_id=hold.id,
        )

    async def cancel(
        self, hold_id: str, actor: str, reason: str = "canceled by the withdrawal service"
    ) -> dict[str, Any]:
        def write(tx: Tx) -> Hold:
            hold = self._hold_or_404(tx, hold_id)
            if hold.state == HoldState.CANCELED.value:
                return hold
            try:
                moved = self.recorder.move(
                    tx,
                    hold,
                    HoldState.CANCELED,
                    actor=actor,
                    code=DecisionCode.CANCELED,
                    rule="cancel",
                    reason=reason,
                )
            except IllegalTransitionError:
                raise ConflictError(
                    "illegal_state", f"a {hold.state} withdrawal cannot be canceled"
                ) from None
            self.end_exchange(tx, moved, Code.CANCELED, "the originator canceled the withdrawal")
            return moved

        return hold_view(await self.db.write(write))

    def end_exchange(self, tx: Tx, hold: Hold, code: int, message: str) -> None:
        """Tell the counterparty the exchange is over (error-only, retry=false), if one began."""
        if hold.counterparty_protocol == EMAIL:
            if self.sunrise is not None:
                self.sunrise.void(tx, hold, message)
            return
        if hold.counterparty_protocol == TRP:
            if self.trp is not None:
                self.trp.end_exchange(tx, hold, message)
            return
        conversation = self.conversation_of(tx, hold)
        if conversation is None or self.directory.get(conversation.peer) is None:
            return  # no envelope ever left (the outbox skips it), or the peer is gone
        error = errors_pb2.Error(code=code, message=message, retry=False)  # type: ignore[arg-type]
        tx.enqueue_transfer(
            conversation.peer, conversation.envelope_id, "REJECTED", error=error, hold_id=hold.id
        )

    # -- review decisions ----------------------------------------------------------------

    def decide_review(
        self, tx: Tx, hold: Hold, *, accept: bool, actor: str, rule: str, reason: str
    ) -> Hold:
        """Act on a person's decision about a hold in review, in the caller's transaction.

        Rejected: the hold ends and the counterparty is told. Accepted: a person may take
        responsibility for what policy flagged, never for an exchange that did not happen.
        Where an exchange is possible it starts (or resumes) and the hold waits for a valid,
        policy-sufficient reply; only where none is possible (self-hosted or unattributed
        address, counterparty out of our directory or unreachable after the outbox gave
        up), or after the counterparty already accepted, does acceptance clear the hold.
        """
        if not accept:
            moved = self.recorder.move(
                tx,
                hold,
                HoldState.REJECTED,
                actor=actor,
                code=DecisionCode.REVIEW_REJECTED,
                rule=rule,
                reason=reason,
            )
            self.end_exchange(tx, moved, Code.REJECTED, "rejected after compliance review")
            return moved
        if self._trp_possible(tx, hold):
            return self._ask_again_over_trp(tx, hold, actor=actor, rule=rule, reason=reason)
        conversation = self.conversation_of(tx, hold)
        if hold.counterparty_protocol == EMAIL:
            return self._email_after_review(tx, hold, actor=actor, rule=rule, reason=reason)
        why_not = self._no_exchange(tx, hold, conversation)
        if why_not is not None:
            return self._cleared_by_person(
                tx, hold, actor, rule, f"{reason} [cleared by a person: {why_not}]"
            )
        assert hold.counterparty is not None
        if conversation is not None and conversation.payload:
            # The exchange is still open: send our data again and wait for a real reply.
            tx.enqueue_transfer(
                conversation.peer,
                conversation.envelope_id,
                "REVIEW",
                payload=resumed_payload(conversation.payload),
                hold_id=hold.id,
            )
            how = "exchange resumed"
        else:
            hold = self._start_exchange(tx, hold, hold.counterparty, self._payload_now(tx, hold))
            how = "exchange started"
        return self._await_after_review(
            tx, hold, actor, rule, f"{reason} [{how}: clears on a valid, policy-sufficient reply]"
        )

    def _await_after_review(self, tx: Tx, hold: Hold, actor: str, rule: str, reason: str) -> Hold:
        """A person accepted and an exchange is under way: wait for its reply, timed anew."""
        _facts, decision = self.facts_of(hold, None)
        now = datetime.now(UTC)
        return self.recorder.move(
            tx,
            hold,
            HoldState.AWAITING_REPLY,
            actor=actor,
            code=DecisionCode.REVIEW_ACCEPTED,
            rule=rule,
            reason=reason[:1500],
            started_at=format_timestamp(now),
            deadline=format_timestamp(reply_deadline(now, decision.reply_timeout)),
        )

    def _trp_possible(self, tx: Tx, hold: Hold) -> bool:
        """A TRP hold whose beneficiary has not approved, on a node that speaks TRP."""
        return bool(
            hold.counterparty_protocol == TRP
            and self.trp is not None
            and self.trp.enabled
            and not self.trp.approved(tx, hold)
        )

    def _ask_again_over_trp(
        self, tx: Tx, hold: Hold, *, actor: str, rule: str, reason: str
    ) -> Hold:
        """A person accepted a TRP hold that has no approval: send a new inquiry and wait."""
        request = parse_withdrawal(hold.request, assets=frozenset({hold.asset}))
        identity = identity_pb2.IdentityPayload()
        self._payload_now(tx, hold).identity.Unpack(identity)
        hold = self.trp.start_inquiry(tx, hold, request, identity) or hold
        return self._await_after_review(
            tx, hold, actor, rule, f"{reason} [inquiry sent again over TRP: clears on an approval]"
        )

    def _cleared_by_person(self, tx: Tx, hold: Hold, actor: str, rule: str, reason: str) -> Hold:
        """A person's acceptance clears the hold where no exchange is possible (the reason
        says why)."""
        return self.recorder.move(
            tx,
            hold,
            HoldState.CLEARED,
            actor=actor,
            code=DecisionCode.REVIEW_ACCEPTED,
            rule=rule,
            reason=reason[:1500],
        )

    def _email_after_review(
        self, tx: Tx, hold: Hold, *, actor: str, rule: str, reason: str
    ) -> Hold:
        """A person accepted a hold of a counterparty reached by email: a new link is sent
        and the hold waits for its answer, unless no answer can come (or one did)."""
        why_not = (
            self.sunrise.no_exchange(tx, hold)
            if self.sunrise is not None and self.sunrise.enabled
            else "no exchange possible: email is not configured on this node"
        )
        if why_not is not None:
            return self._cleared_by_person(
                tx, hold, actor, rule, f"{reason} [cleared by a person: {why_not}]"
            )
        peer = self.directory.get(hold.counterparty or "")
        assert peer is not None
        hold = self.sunrise.start(tx, hold, peer, self._payload_now(tx, hold)) or hold
        return self._await_after_review(
            tx, hold, actor, rule, f"{reason} [a new sunrise link emailed: clears on an answer]"
        )

    def _no_exchange(self, tx: Tx, hold: Hold, conversation: Conversation | None) -> str | None:
        """Why no exchange is possible for a hold in review, or None when one is."""
        if conversation is not None and conversation.state == ConversationState.ACCEPTED:
            return "the counterparty already accepted; its reply was short of what policy wants"
        if (
            hold.counterparty_protocol == TRP
            and self.trp is not None
            and self.trp.approved(tx, hold)
        ):
            return "the counterparty approved over TRP (to the address shown as approved_address)"
        kind = counterparty_view(hold)["kind"]
        if kind == "self_hosted":
            return "no exchange possible: the destination is a self-hosted wallet"
        if kind != "vasp" or hold.counterparty is None:
            return "no exchange possible: no VASP is known for the destination address"
        peer = self.directory.get(hold.counterparty)
        if peer is None or peer.blocked:
            return f"no exchange possible: {hold.counterparty} is not a usable directory peer"
        transfers = [i for i in tx.outbox_items(hold_id=hold.id) if i.kind == "transfer"]
        if transfers and transfers[0].state == "dead":
            last = transfers[0].last_error or "delivery failed"
            return (
                f"no exchange possible: {hold.counterparty} unreachable, "
                f"the outbox gave up ({last})"
            )
        return None

    def _payload_now(self, tx: Tx, hold: Hold) -> api_pb2.Payload:
        """A first payload for a hold whose exchange never began, from today's records."""
        request = parse_withdrawal(hold.request, assets=frozenset({hold.asset}))
        customer = None
        if request.customer_id is not None:
            customer = tx.get_customer(request.customer_id)
            if customer is None:
                raise ConflictError(
                    "unknown_customer",
                    f"customer {request.customer_id!r} is gone: the exchange cannot start",
                    field="originator.customer_id",
                )
        try:
            identity = self._identity(request, customer)
        except RequestError as exc:
            raise ConflictError(
                exc.code,
                f"the exchange cannot start: {exc.message}",
                field=exc.field,
            ) from None
        facts = self._facts(
            request, self._counterparty(request), identity, parse_stored(hold.created_at)
        )
        built_in = evaluate(facts, dataclasses.replace(self.policy, rules=()))
        if built_in.action is Action.BLOCK:
            missing = ", ".join(built_in.missing[:10]) or built_in.reason
            raise ConflictError(
                "own_data_missing",
                f"the exchange cannot start: our originator data is incomplete ({missing}); "
                "complete the customer record, then decide again",
                field="originator",
            )
        return first_payload(identity, outgoing_transaction(request))

    def _hold_or_404(self, tx: Tx, hold_id: str) -> Hold:
        hold = tx.hold(hold_id)
        if hold is None:
            raise NotFoundError("not_found", f"no withdrawal {hold_id!r}", field="id")
        return hold

    def on_dead(self, tx: Tx, item: OutboxItem) -> None:
        """An envelope could not be delivered at all: a person must look at the hold."""
        if item.kind not in ("transfer", "trp", "email") or item.hold_id is None:
            return
        if item.kind == "trp" and item.transfer_state != "inquiry":
            return  # a confirmation the beneficiary never took changes nothing here
        if item.kind == "email" and item.transfer_state != "link":
            return  # without its code the link still reaches the counterparty
        hold = tx.hold(item.hold_id)
        if hold is not None:
            self.unreachable(tx, hold, "outbox", item.last_error or "delivery failed")

    def unreachable(self, tx: Tx, hold: Hold, rule: str, why: str) -> None:
        """The counterparty cannot be reached (or may not be): a waiting hold goes to a
        person, with `why` in the reason; a hold that moved on is left as it is."""
        if hold.state in (HoldState.HELD.value, HoldState.AWAITING_REPLY.value):
            self._to_person_unreachable(tx, hold, rule, why, actor=SYSTEM)

    def _to_person_unreachable(
        self, tx: Tx, hold: Hold, rule: str, why: str | None, *, actor: str
    ) -> Hold:
        code = DecisionCode.POLICY_COUNTERPARTY_UNREACHABLE
        return self.recorder.move(
            tx,
            hold,
            HoldState.REVIEW,
            actor=actor,
            code=code,
            rule=rule,
            reason=(code.value if why is None else f"{code.value}: {why}")[:500],
        )

    # -- deadlines -----------------------------------------------------------------------

    def start_waiting(self, tx: Tx, hold: Hold, decision: Decision) -> Hold:
        """The first envelope was delivered: the reply window opens now."""
        now = datetime.now(UTC)
        deadline = reply_deadline(now, decision.reply_timeout)
        hold = self.recorder.touch(
            tx, hold, started_at=format_timestamp(now), deadline=format_timestamp(deadline)
        )
        return self.recorder.move(
            tx,
            hold,
            HoldState.AWAITING_REPLY,
            actor=SYSTEM,
            code=DecisionCode.EXCHANGE_DELIVERED,
            rule="outbox",
            reason="envelope delivered to the counterparty",
        )

    async def expire_due(self) -> int:
        """Apply the timeout outcome to every hold whose reply window has closed."""
        now = now_text()
        due = await self.db.read(lambda tx: tx.holds_due(now))
        for hold in due:
            _facts, decision = self.facts_of(hold, None)

            def write(tx: Tx, hold_id: str = hold.id, decision: Decision = decision) -> None:
                current = tx.hold(hold_id)
                if current is None or current.deadline is None or current.deadline > now:
                    return
                if current.state != HoldState.AWAITING_REPLY.value:
                    self.recorder.touch(tx, current, deadline=None)
                    return
                outcome = outbound_timeout(HoldState(current.state), decision.timeout_outbound)
                if outcome.state is None:
                    self.recorder.touch(tx, current, deadline=None)
                    return
                moved = self.recorder.move(
                    tx,
                    current,
                    outcome.state,
                    actor=SYSTEM,
                    code=DecisionCode.TIMEOUT,
                    rule="timeout",
                    reason=str(outcome.reason.value),
                    deadline=None,
                )
                if outcome.peer_code is not None:
                    self.end_exchange(tx, moved, outcome.peer_code, "the reply window has closed")

            await self.db.write(write)
        return len(due)

    async def run_expiry(self, interval: float = 1.0) -> None:
        while True:
            with contextlib.suppress(TravelgateError):
                await self.expire_due()
            with contextlib.suppress(TravelgateError):
                await self.release_due()
            await asyncio.sleep(interval)
