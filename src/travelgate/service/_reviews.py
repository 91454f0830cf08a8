"""The review queue: holds and inbound transfers that policy sent to a person.

A decision is recorded with who made it and why, and acted on in the same transaction:

* a withdrawal accepted while an exchange with a reachable VASP is still open is sent again
  (`review -> awaiting_reply`): it clears only on a valid, policy-sufficient reply. With no
  exchange possible (self-hosted or unknown address, unreachable VASP) or after a reply the
  profiles found insufficient, the person's acceptance clears it, recorded as such.
* a withdrawal rejected ends the exchange with the counterparty (error envelope).
* an inbound transfer accepted is answered by our own Transfer with ACCEPTED; rejected,
  by an error envelope.
"""

from __future__ import annotations

from typing import Any

from travelgate._pb.trisa.api.v1beta1 import errors_pb2
from travelgate.errors import ApiError, Code
from travelgate.service._holds import HoldService
from travelgate.service._paging import check_state, decode_cursor, page_of
from travelgate.service._records import Recorder
from travelgate.service._requests import invalid
from travelgate.store import Database, Review, Tx, now_text
from travelgate.transfers import HoldState
from travelgate.trisa._replies import resumed_payload


def review_view(review: Review) -> dict[str, Any]:
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
    }


def _decision(body: object) -> tuple[str, str]:
    if not isinstance(body, dict):
        raise invalid(
            "decision", 'the body must be {"decision": "accept" | "reject", "reason": "..."}'
        )
    unknown = sorted(set(body) - {"decision", "action", "reason"})
    if unknown:
        raise invalid(unknown[0], f"unknown field {unknown[0]}", "unknown_field")
    decision = body.get("decision", body.get("action"))
    if decision not in ("accept", "reject"):
        raise invalid("decision", 'decision must be "accept" or "reject"', "missing_field")
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise invalid("reason", "reason is required: say why, for the audit trail", "missing_field")
    return decision, reason.strip()[:1000]


class ReviewService:
    def __init__(self, db: Database, holds: HoldService, recorder: Recorder) -> None:
        self.db = db
        self.holds = holds
        self.recorder = recorder

    async def page(self, state: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
        check_state(state, ("open", "accepted", "rejected", "closed"))
        before = decode_cursor(cursor)
        reviews = await self.db.read(
            lambda tx: tx.reviews_page(state=state, before=before, limit=limit + 1)
        )
        return page_of(reviews, limit, review_view)

    async def decide(self, review_id: str, body: object, actor: str) -> dict[str, Any]:
        decision, reason = _decision(body)

        def write(tx: Tx) -> Review:
            review = tx.review(review_id)
            if review is None:
                raise ApiError(404, "not_found", f"no review {review_id!r}", field="id")
            if review.state != "open":
                raise ApiError(
                    409, "illegal_state", f"review {review_id} is already {review.state}"
                )
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
            return decided

        return review_view(await self.db.write(write))

    def _withdrawal(self, tx: Tx, review: Review, accept: bool, reason: str, actor: str) -> None:
        hold = tx.hold(review.subject_id)
        if hold is None or hold.state != HoldState.REVIEW.value:
            return  # the hold moved on meanwhile; the decision is still on record
        rule = f"review:{review.id}"
        if not accept:
            moved = self.recorder.move(
                tx, hold, HoldState.REJECTED, actor=actor, rule=rule, reason=reason
            )
            self.holds.end_exchange(tx, moved, Code.REJECTED, "rejected after compliance review")
            return
        conversation = self.holds.conversation_of(tx, hold)
        if (
            conversation is not None
            and self.holds.directory.get(conversation.peer) is not None
            and conversation.state != "ACCEPTED"
            and conversation.payload
        ):
            # The exchange is still open: send our data again and wait for a real reply.
            tx.enqueue_transfer(
                conversation.peer,
                conversation.envelope_id,
                "REVIEW",
                payload=resumed_payload(conversation.payload),
                hold_id=hold.id,
            )
            self.recorder.move(
                tx, hold, HoldState.AWAITING_REPLY, actor=actor, rule=rule, reason=reason
            )
            return
        self.recorder.move(tx, hold, HoldState.CLEARED, actor=actor, rule=rule, reason=reason)

    def _deposit(self, tx: Tx, review: Review, accept: bool, reason: str) -> None:
        conversation = tx.conversation_by_id(int(review.subject_id))
        if conversation is None or conversation.payload is None:
            return
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
