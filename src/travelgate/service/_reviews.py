"""The review queue: holds and inbound transfers that policy sent to a person.

A decision is recorded with who made it and why, and acted on in the same transaction:

* a withdrawal accepted where an exchange with a VASP is possible starts it, or sends our
  data again if it had begun (`review -> awaiting_reply`): it clears only on a valid,
  policy-sufficient reply. With no exchange possible (self-hosted or unattributed address,
  VASP out of our directory or unreachable after the outbox gave up) or after the
  counterparty accepted a reply the profiles found insufficient, the person's acceptance
  clears it, recorded as such (`HoldService.decide_review`).
* a withdrawal rejected ends the exchange with the counterparty (error envelope).
* an inbound transfer accepted is answered by our own Transfer with ACCEPTED; rejected,
  by an error envelope.

Four eyes: the API key that created a withdrawal cannot decide its review (409 `four_eyes`),
unless `[api] four_eyes = false` (a single-operator setup).
"""

from __future__ import annotations

from typing import Any

from travelgate._pb.trisa.api.v1beta1 import errors_pb2
from travelgate.errors import Code, ConflictError, NotFoundError
from travelgate.service._deposits import deposit_view
from travelgate.service._holds import HoldService
from travelgate.service._paging import check_state, decode_cursor, encode_cursor
from travelgate.service._records import Recorder, decision_view
from travelgate.service._requests import SELF_HOSTED, invalid
from travelgate.store import Conversation, Hold, Review, Store, Tx, now_text
from travelgate.transfers import DecisionCode, HoldState
from travelgate.trisa._replies import resumed_payload


def hold_counterparty(hold: Hold) -> dict[str, Any]:
    """The counterparty of a hold as an object: {kind, name, protocol}."""
    if hold.counterparty is None:
        return {"kind": "unknown", "name": None, "protocol": None}
    if hold.counterparty == SELF_HOSTED:
        return {"kind": "self_hosted", "name": None, "protocol": None}
    return {"kind": "vasp", "name": hold.counterparty, "protocol": "trisa"}


def review_subject(tx: Tx, review: Review) -> dict[str, Any]:
    """What a review is about: the subject's amount, asset, value, customer, counterparty."""
    empty: dict[str, Any] = {
        "amount": None,
        "asset": None,
        "network": None,
        "value": None,
        "customer_id": None,
        "counterparty": None,
        "subject_state": None,
    }
    if review.kind == "withdrawal":
        hold = tx.hold(review.subject_id)
        if hold is None:
            return empty
        value = hold.request.get("value")
        return {
            "amount": hold.amount,
            "asset": hold.asset,
            "network": hold.network,
            "value": dict(value) if isinstance(value, dict) else None,
            "customer_id": hold.customer_id,
            "counterparty": hold_counterparty(hold),
            "subject_state": hold.state,
        }
    conversation = _deposit_of(tx, review.subject_id)
    if conversation is None:
        return empty
    deposit = deposit_view(conversation)
    return {
        "amount": deposit["amount"],
        "asset": deposit["asset"],
        "network": deposit["network"],
        "value": None,  # a deposit arrives without our valuation
        "customer_id": deposit["customer_id"],
        "counterparty": deposit["counterparty"],
        "subject_state": deposit["state"],
    }


def review_view(review: Review, subject: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": review.id,
        "kind": review.kind,
        "subject_id": review.subject_id,
        "rule": review.rule,
        "reason": review.reason,
        "state": review.state,
        "decision_reason": review.decision_reason,
        "decided_at": review.decided_at,
        "created_at": review.created_at,
        **(subject or {}),
    }


def _deposit_of(tx: Tx, subject_id: str) -> Conversation | None:
    """A deposit review's conversation: by deposit id, or by row id for older reviews."""
    if subject_id.isdigit():
        return tx.conversation_by_id(int(subject_id))
    return tx.conversation_by_public_id(subject_id)


def _decision(body: object) -> tuple[str, str]:
    if not isinstance(body, dict):
        raise invalid(
            "decision", 'the body must be {"decision": "accept" | "reject", "reason": "..."}'
        )
    unknown = sorted(set(body) - {"decision", "action", "reason"})
    if unknown:
        raise invalid(unknown[0], f"unknown field {unknown[0]}", "unknown_field")
    decision = body.get("decision", body.get("action"))
    if decision is None:
        raise invalid("decision", 'decision is required: "accept" or "reject"', "missing_field")
    if decision not in ("accept", "reject"):
        raise invalid(
            "decision", f'decision must be "accept" or "reject", not {decision!r}', "invalid_value"
        )
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise invalid("reason", "reason is required: say why, for the audit trail", "missing_field")
    return decision, reason.strip()[:1000]


class ReviewService:
    def __init__(
        self, db: Store, holds: HoldService, recorder: Recorder, *, four_eyes: bool = True
    ) -> None:
        self.db = db
        self.holds = holds
        self.recorder = recorder
        self.four_eyes = four_eyes

    async def page(self, state: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
        check_state(state, ("open", "accepted", "rejected", "closed"))
        before = decode_cursor(cursor)

        def read(tx: Tx) -> list[tuple[Review, dict[str, Any]]]:
            reviews = tx.reviews_page(state=state, before=before, limit=limit + 1)
            return [(review, review_subject(tx, review)) for review in reviews]

        rows = await self.db.read(read)
        shown = rows[:limit]
        return {
            "items": [review_view(review, subject) for review, subject in shown],
            "next_cursor": encode_cursor(shown[-1][0].rowid) if len(rows) > limit else None,
        }

    async def get(self, review_id: str) -> dict[str, Any]:
        def read(tx: Tx) -> dict[str, Any]:
            review = tx.review(review_id)
            if review is None:
                raise NotFoundError("not_found", f"no review {review_id!r}", field="id")
            return review_view(review, review_subject(tx, review))

        return await self.db.read(read)

    async def decide(
        self, review_id: str, body: object, actor: str, api_key_id: str | None = None
    ) -> dict[str, Any]:
        """Record and act on a person's decision; `api_key_id` is the deciding key."""
        decision, reason = _decision(body)

        def write(tx: Tx) -> dict[str, Any]:
            review = tx.review(review_id)
            if review is None:
                raise NotFoundError("not_found", f"no review {review_id!r}", field="id")
            if review.state != "open":
                raise ConflictError(
                    "illegal_state", f"review {review_id} is already {review.state}"
                )
            self._check_four_eyes(tx, review, api_key_id)
            state = "accepted" if decision == "accept" else "rejected"
            tx.close_review(review_id, state=state, reason=reason, stamp=now_text())
            self.recorder.audit(
                tx,
                actor,
                f"review.{state}",
                f"review:{review_id}",
                reason=reason,
                about=review.subject_id,
            )
            if review.kind == "withdrawal":
                self._withdrawal(tx, review, decision == "accept", reason, actor)
            else:
                self._deposit(tx, review, decision == "accept", reason)
            decided = tx.review(review_id)
            assert decided is not None
            return review_view(decided, review_subject(tx, decided))

        return await self.db.write(write)

    def _check_four_eyes(self, tx: Tx, review: Review, api_key_id: str | None) -> None:
        if not self.four_eyes or api_key_id is None or review.kind != "withdrawal":
            return
        hold = tx.hold(review.subject_id)
        if hold is not None and hold.api_key_id == api_key_id:
            raise ConflictError(
                "four_eyes",
                "the API key that created this withdrawal cannot decide its review: "
                "another person's key must (or set [api] four_eyes = false)",
                field="Authorization",
            )

    def _withdrawal(self, tx: Tx, review: Review, accept: bool, reason: str, actor: str) -> None:
        hold = tx.hold(review.subject_id)
        if hold is None or hold.state != HoldState.REVIEW.value:
            return  # the hold moved on meanwhile; the decision is still on record
        self.holds.decide_review(
            tx, hold, accept=accept, actor=actor, rule=f"review:{review.id}", reason=reason
        )

    def _deposit(self, tx: Tx, review: Review, accept: bool, reason: str) -> None:
        conversation = _deposit_of(tx, review.subject_id)
        if conversation is None or conversation.payload is None:
            return
        tx.update_conversation(
            conversation.id,
            decision=decision_view(
                DecisionCode.REVIEW_ACCEPTED if accept else DecisionCode.REVIEW_REJECTED,
                reason,
                f"review:{review.id}",
                None if accept else "REJECTED",
            ),
        )
        trp = getattr(self.holds, "trp", None)
        if conversation.protocol == "trp" and trp is not None:
            trp.resolve_deposit(tx, conversation, accept=accept)
        decided = tx.conversation_by_id(conversation.id)
        if decided is not None:
            self.recorder.event(tx, f"deposit.{decided.state.lower()}", deposit_view(decided))
            tx.changed(f"conversation:{decided.id}")
        if conversation.protocol == "trp":
            return  # answered at the inquiry's callback, not with an envelope
        if accept:
            tx.enqueue_transfer(
                conversation.peer,
                conversation.envelope_id,
                "ACCEPTED",
                payload=resumed_payload(conversation.payload),
            )
        else:
            error = errors_pb2.Error(
                code=Code.REJECTED, message="rejected after compliance review", retry=False
            )
            tx.enqueue_transfer(
                conversation.peer, conversation.envelope_id, "REJECTED", error=error
            )
