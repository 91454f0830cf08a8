"""What TRISA messages do to withdrawals and deposits, and how inbound transfers are decided.

`ServiceHooks.on_message` runs inside the transaction that stores a peer's message:
replies and callbacks for our withdrawals move the hold (through `evaluate_reply`, so a
hold is cleared only by a valid, policy-sufficient reply); messages about deposits to our
customers become `deposit.<state>` events and, when policy asks a person, review items.
`PolicyDecider` decides inbound transfers with the jurisdiction profiles.
"""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from travelgate import envelope as env
from travelgate.errors import Code
from travelgate.service._deposits import (
    deposit_view,
    trisa_code_name,
)
from travelgate.service._holds import SYSTEM, HoldService
from travelgate.service._payloads import beneficiary_json, beneficiary_match, beneficiary_person
from travelgate.service._records import Recorder, decision_view
from travelgate.service._requests import parse_withdrawal
from travelgate.service._screening import ScreeningStep
from travelgate.service._wallets import learn_destination
from travelgate.store import Conversation, Hold, Tx, now_text
from travelgate.timestamps import format_timestamp, parse_stored
from travelgate.transfers import (
    Action as PolicyAction,
)
from travelgate.transfers import (
    BeneficiaryMatch,
    CounterpartyKind,
    DecisionCode,
    Direction,
    HoldState,
    IllegalTransitionError,
    IvmsFailure,
    Outcome,
    Policy,
    TransactionRecord,
    TransferFacts,
    evaluate,
    evaluate_reply,
    extend_deadline,
    is_final,
    reason_code,
    transaction_amount,
)
from travelgate.trisa import (
    BENEFICIARY,
    ORIGINATOR,
    Action,
    Inbound,
    PeerMessage,
    Verdict,
    match_customer,
    state_name,
)

if TYPE_CHECKING:
    from travelgate.service._alerts import Alerts
    from travelgate.store import Store

PEER = "peer"
# Deposit screening outcomes that name a hit (a provider failure is no hit).
_HITS = ("SCREENING.LISTED", "SCREENING.PROVIDER_RISK")


class ServiceHooks:
    def __init__(
        self, holds: HoldService, recorder: Recorder, alerts: Alerts | None = None
    ) -> None:
        self.holds = holds
        self.recorder = recorder
        self.alerts = alerts

    def on_message(self, tx: Tx, conversation: Conversation, message: PeerMessage) -> None:
        if conversation.role == ORIGINATOR and conversation.hold_id:
            self._withdrawal(tx, conversation, message)
        elif conversation.role == BENEFICIARY:
            self._deposit(tx, conversation, message)

    def _withdrawal(self, tx: Tx, conversation: Conversation, message: PeerMessage) -> None:
        assert conversation.hold_id is not None
        hold = tx.hold(conversation.hold_id)
        if hold is None or is_final(HoldState(hold.state)):
            return
        actor = f"{PEER}:{conversation.peer}"
        if message.outcome in (Outcome.REKEY, Outcome.RESEND, Outcome.COMPLETED):
            return
        identity = message.parts.identity if message.parts is not None else None
        facts, decision = self.holds.facts_of(hold, identity)
        if hold.state == HoldState.HELD.value:
            hold = self.holds.start_waiting(tx, hold, decision)
        problem = None
        if message.problem is not None:
            problem = IvmsFailure(message.problem.code, message.problem.message)
        verdict = evaluate_reply(
            facts,
            self.holds.policy,
            decision,
            message.outcome,
            identity=identity,
            identity_error=problem,
        )
        reason = verdict.reason
        trisa_code = None
        if message.error is not None:
            trisa_code = (
                Code.Name(message.error.code)
                if message.error.code in Code.values()
                else str(message.error.code)
            )
            reason = f"{verdict.reason}: {trisa_code}: {message.error.message}"[:500]
        if verdict.target is None:
            return
        returned: dict[str, Any] = {}
        if identity is not None and message.error is None:
            returned = self._returned_beneficiary(hold, identity)
        if verdict.target.value == hold.state:
            if returned:
                hold = self.recorder.touch(tx, hold, **returned)
            self._extend(tx, hold, message, decision.max_wait)
            return
        try:
            moved = self.recorder.move(
                tx,
                hold,
                verdict.target,
                actor=actor,
                code=_reply_code(verdict.reason),
                rule=f"reply:{verdict.outcome.value}",
                reason=reason,
                trisa_code=trisa_code,
                **returned,
            )
            if moved.state == HoldState.CLEARED.value:
                beneficiary = moved.request.get("beneficiary") or {}
                learn_destination(tx, moved, beneficiary.get("name"))
        except IllegalTransitionError:
            self.recorder.audit(
                tx, actor, "hold.ignored_reply", f"hold:{hold.id}", outcome=verdict.outcome.value
            )

    def _returned_beneficiary(self, hold: Hold, identity: Any) -> dict[str, Any]:
        """The beneficiary as the counterparty returned it, and how it matches ours."""
        if not identity.HasField("beneficiary"):
            return {}
        request = parse_withdrawal(hold.request, assets=frozenset({hold.asset}))
        returned = identity.beneficiary
        return {
            "beneficiary_identity": beneficiary_json(returned),
            "beneficiary_match": beneficiary_match(
                beneficiary_person(request), list(returned.beneficiary_persons)
            ),
        }

    def _extend(self, tx: Tx, hold: Any, message: PeerMessage, max_wait: Any) -> None:
        """A PENDING reply moves the deadline to its reply_not_after, capped (TRISA)."""
        if message.parts is None or hold.deadline is None or hold.started_at is None:
            return
        not_after = getattr(message.parts.transaction, "reply_not_after", "")
        try:
            reply_not_after = env.parse_timestamp(not_after) if not_after else None
        except Exception:
            reply_not_after = None
        deadline = extend_deadline(
            parse_stored(hold.deadline),
            started=parse_stored(hold.started_at),
            reply_not_after=reply_not_after,
            max_wait=max_wait,
        )
        self.recorder.touch(tx, hold, deadline=format_timestamp(deadline))

    def _deposit(self, tx: Tx, conversation: Conversation, message: PeerMessage) -> None:
        subject = f"conversation:{conversation.id}"
        actor = f"{PEER}:{conversation.peer}"
        verdict = message.verdict
        self.recorder.audit(
            tx,
            actor,
            "deposit.message",
            subject,
            state=conversation.state,
            incoming=state_name(message.transfer_state),
            rule=verdict.rule if verdict else None,
            reason=verdict.reason if verdict else None,
        )
        decision = _deposit_decision(message)
        if decision is not None:
            tx.update_conversation(conversation.id, decision=decision)
            conversation = tx.conversation_by_id(conversation.id) or conversation
        if (
            verdict is not None
            and self.alerts is not None
            and verdict.reason.startswith(_HITS)
            and conversation.role == BENEFICIARY
        ):
            self.alerts.screening_hit(
                tx,
                f"deposit:{conversation.public_id}",
                Direction.INBOUND.value,
                {"code": verdict.reason.split(":", 1)[0], "rule": verdict.rule},
            )
        if verdict is not None and verdict.action is Action.PENDING:
            tx.open_review(
                str(uuid.uuid4()),
                kind="deposit",
                subject_id=conversation.public_id,
                rule=verdict.rule,
                reason=verdict.reason,
                stamp=now_text(),
            )
        if self.recorder.webhook_url:
            # The view re-reads the stored payload: only worth it when someone listens.
            view = deposit_view(conversation)
            self.recorder.event(tx, f"deposit.{conversation.state.lower()}", view)
        tx.changed(subject)


def _deposit_decision(message: PeerMessage) -> dict[str, Any] | None:
    """What a message decided about a deposit, or None when it decided nothing new."""
    verdict = message.verdict
    if verdict is not None:
        trisa_code = trisa_code_name(verdict.error.code) if verdict.error is not None else None
        # Screening's reason names the list; the counterparty only ever saw the message.
        shown = verdict.reason if verdict.reason.startswith("SCREENING.") else verdict.message
        return decision_view(
            reason_code(verdict.reason, verdict.rule),
            shown or (verdict.error.message if verdict.error else verdict.reason),
            verdict.rule or None,
            trisa_code,
        )
    if message.outcome is Outcome.INVALID:
        return decision_view(
            DecisionCode.POLICY_IVMS_INVALID,
            "the identity failed IVMS101 validation; the sender was asked to repair it",
            "ivms101",
        )
    if message.error is not None:
        return decision_view(
            DecisionCode.PEER_ERROR,
            message.error.message,
            None,
            trisa_code_name(message.error.code),
        )
    return None


class PolicyDecider:
    """Decide inbound transfers to our customers with the jurisdiction profiles."""

    def __init__(
        self,
        policy: Policy,
        screening: ScreeningStep | None = None,
        db: Store | None = None,
    ) -> None:
        self.policy = policy
        self.screening = screening
        self.db = db

    async def decide(self, inbound: Inbound) -> Verdict:
        miss = match_customer(inbound)
        if miss is not None and inbound.customer is None:
            return miss
        screened = await self._screen_originator(inbound)
        if screened is not None:
            return screened
        return self._decide(inbound, miss)

    async def _screen_originator(self, inbound: Inbound) -> Verdict | None:
        """Every originator address (the transaction's, the IVMS101 account numbers) is
        screened before we answer; an objection sends the deposit to a person (PENDING),
        telling the counterparty only that it is under review."""
        if self.screening is None or self.db is None:
            return None
        transaction = inbound.parts.underlying_transaction
        addresses = [transaction.originator] if transaction.originator else []
        identity = inbound.parts.identity
        if identity is not None and identity.HasField("originator"):
            addresses.extend(identity.originator.account_numbers)
        asset = (transaction.asset_type or transaction.network).upper()
        step = self.screening
        for address in dict.fromkeys(a.strip() for a in addresses if a.strip()):
            answer = await step.consult(address, asset, transaction.network, Direction.INBOUND)
            screened = await self.db.read(
                functools.partial(
                    step.decide,
                    address=address,
                    asset=asset,
                    network=transaction.network,
                    answer=answer,
                )
            )
            if screened.objects:
                return Verdict(
                    Action.PENDING,
                    rule=screened.rule,
                    reason=screened.reason,
                    message="the transfer is under compliance review",
                )
        return None

    def _decide(self, inbound: Inbound, miss: Verdict | None) -> Verdict:
        match = BeneficiaryMatch.NAME_MISMATCH if miss is not None else BeneficiaryMatch.MATCHED
        transaction = inbound.parts.underlying_transaction
        now = datetime.now(UTC)
        amount = transaction_amount(transaction.amount, transaction.extra_json)
        facts = TransferFacts(
            direction=Direction.INBOUND,
            identity=inbound.parts.identity,
            transaction=TransactionRecord(
                amount=amount,
                asset=(transaction.asset_type or transaction.network).upper(),
                network=transaction.network,
                originator_address=transaction.originator,
                beneficiary_address=inbound.address,
                txid=transaction.txid,
            ),
            valuation=None,
            counterparty_kind=CounterpartyKind.VASP,
            counterparty=inbound.peer.name,
            in_directory=True,
            now=now,
            beneficiary_match=match,
        )
        decision = evaluate(facts, self.policy)
        rule, reason = decision.rule, decision.reason
        if decision.action is PolicyAction.ACCEPT:
            return Verdict(Action.ACCEPT, rule=rule, reason=reason)
        if decision.action is PolicyAction.REVIEW:
            return Verdict(
                Action.PENDING,
                rule=rule,
                reason=reason,
                message="the transfer is under compliance review",
            )
        code = decision.error_code or Code.REJECTED
        message = _reason_text(reason, decision.missing)
        if decision.action is PolicyAction.REPAIR:
            return Verdict.repair(code, message, rule=rule, reason=reason)
        return Verdict.reject(code, message, rule=rule, reason=reason)


def _reply_code(reason: str) -> DecisionCode:
    """The code of a reply verdict's reason (`REPLY.<outcome>` or a policy reason)."""
    try:
        return DecisionCode(reason)
    except ValueError:
        return DecisionCode.REPLY_INVALID


def _reason_text(reason: str, missing: tuple[str, ...]) -> str:
    if not missing:
        return reason
    return f"{reason}: missing {', '.join(missing[:10])}"[:1000]


__all__ = ["SYSTEM", "PolicyDecider", "ServiceHooks", "deposit_view"]
