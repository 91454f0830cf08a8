"""Recording a change: state moves with their audit event, webhook event and review.

Each helper runs inside the caller's transaction, so a hold's new state, the event that
tells the back office, the outbox row that delivers it and the audit record commit
together (a transactional outbox). Long polls are woken after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from travelgate import metrics
from travelgate.store import Hold, Store, Tx, now_text
from travelgate.transfers import DecisionCode, HoldState, transition
from travelgate.trisa import DIRECTORY


def decision_view(
    code: str | None, reason: str | None, rule: str | None, trisa_code: str | None = None
) -> dict[str, Any] | None:
    """A decision as the API shows it, for holds and deposits alike (None: none yet)."""
    if not (code or rule or reason):
        return None
    return {"code": code, "reason": reason, "rule": rule, "trisa_code": trisa_code}


_KIND_NAMES = {"self-hosted": "self_hosted"}


def counterparty_view(hold: Hold) -> dict[str, Any]:
    """`{"kind", "name", "protocol"}`: who the hold's counterparty is and how we reach
    it, plus `"source": "directory"` when the TRISA directory, not peers.toml, named it."""
    kind = hold.counterparty_kind
    if kind is None:  # holds written before the kind was recorded
        if hold.counterparty is None:
            kind = "unknown"
        elif hold.counterparty == "self-hosted":
            kind = "self_hosted"
        else:
            kind = "vasp"
    kind = _KIND_NAMES.get(kind, kind)
    protocol = (
        hold.counterparty_protocol
        if hold.counterparty_kind is not None
        else ("trisa" if hold.envelope_id else None)
    )
    view: dict[str, Any] = {
        "kind": kind,
        "name": hold.counterparty if kind == "vasp" else None,
        "protocol": protocol,
    }
    if (hold.decision or {}).get("counterparty_source") == DIRECTORY:
        view["source"] = DIRECTORY  # found in the TRISA directory, not the peers file
    return view


def hold_view(hold: Hold) -> dict[str, Any]:
    """The JSON of a hold (fields are only ever added, never renamed)."""
    request = hold.request
    value = request.get("value")
    return {
        "id": hold.id,
        "state": hold.state,
        "created_at": hold.created_at,
        "updated_at": hold.updated_at,
        "envelope_id": hold.envelope_id,
        "counterparty": counterparty_view(hold),
        "decision": decision_view(
            hold.decision_code, hold.decision_reason, hold.decision_rule, hold.trisa_code
        ),
        "asset": hold.asset,
        "network": hold.network,
        "amount": hold.amount,
        "value": dict(value) if isinstance(value, dict) else None,
        "destination": {
            "address": hold.destination,
            "tag": request.get("destination", {}).get("tag"),
            "kind": request.get("destination", {}).get("kind"),
            "travel_address": request.get("destination", {}).get("travel_address"),
            "approved_address": hold.approved_address,
        },
        "beneficiary": request.get("beneficiary"),
        "beneficiary_vasp": request.get("beneficiary_vasp"),
        "beneficiary_identity": hold.beneficiary_identity,
        "beneficiary_match": hold.beneficiary_match,
        "originator": {"customer_id": hold.customer_id},
        "customer_id": hold.customer_id,
        "idempotency_key": hold.idempotency_key,
        "txid": hold.txid,
        "deadline": hold.deadline,
        "version": hold.version,
        "screening": hold.screening,
        "release_at": hold.release_at,
    }


@dataclass
class Notifier:
    """Wakes long polls of a subject once its change committed: the store tells it (see
    `Store.subscribe`), from any thread, of this process's commits and of other replicas'."""

    loop: asyncio.AbstractEventLoop | None = None
    _events: dict[str, asyncio.Event] = field(default_factory=dict)
    # Seconds between looks at the database for changes this notifier cannot see: those
    # committed by another process (`serve --workers`, or a CLI command).
    recheck: float = 0.5

    def bind(self, store: Store) -> None:
        self.loop = asyncio.get_running_loop()
        store.subscribe(self.committed)

    def committed(self, subjects: Collection[str] | None) -> None:
        """Subjects whose change committed; None: something changed in another process."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._set, None if subjects is None else tuple(subjects))

    def _set(self, subjects: tuple[str, ...] | None) -> None:
        for subject in list(self._events) if subjects is None else subjects:
            event = self._events.pop(subject, None)
            if event is not None:
                event.set()

    async def wait(self, subject: str, seconds: float) -> None:
        event = self._events.setdefault(subject, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


@dataclass
class Recorder:
    """Writes the side effects of a change: audit, webhook event, review, notification."""

    webhook_url: str
    notifier: Notifier

    def audit(self, tx: Tx, actor: str, action: str, subject: str, **detail: Any) -> None:
        tx.audit(actor=actor, action=action, subject=subject, detail=detail, stamp=now_text())

    def event(self, tx: Tx, kind: str, data: Mapping[str, Any]) -> str | None:
        """One webhook event (`withdrawal.<state>`, `deposit.<state>`), delivered by the outbox."""
        if not self.webhook_url:
            return None
        event_id = str(uuid.uuid4())
        stamp = now_text()
        body = {"event_id": event_id, "type": kind, "created_at": stamp, "data": data}
        tx.enqueue(
            kind="webhook",
            target=self.webhook_url,
            body_kind="json",
            body=json.dumps(body, sort_keys=True, separators=(",", ":")).encode(),
            stamp=stamp,
            event_id=event_id,
        )
        return event_id

    def move(
        self,
        tx: Tx,
        hold: Hold,
        target: HoldState,
        *,
        actor: str,
        code: DecisionCode,
        rule: str,
        reason: str,
        trisa_code: str | None = None,
        **changes: Any,
    ) -> Hold:
        """Move a hold to `target` (IllegalTransitionError if the machine forbids it).

        The move applies to the hold as `hold` shows it: had another process moved it since
        it was read, the unit of work runs again on the hold as that process left it."""
        state = transition(HoldState(hold.state), target)
        if state is not HoldState.AWAITING_REPLY:
            changes.setdefault("deadline", None)  # only a waiting hold has a reply window
        tx.update_hold(
            hold.id,
            stamp=now_text(),
            expected_version=hold.version,
            state=state.value,
            decision_code=code.value,
            decision_rule=rule,
            decision_reason=reason,
            trisa_code=trisa_code,
            **changes,
        )
        moved = tx.hold(hold.id)
        assert moved is not None
        self.audit(
            tx,
            actor,
            "hold.state",
            f"hold:{hold.id}",
            state=state.value,
            code=code.value,
            rule=rule,
            reason=reason,
            trisa_code=trisa_code,
        )
        if state is HoldState.REVIEW:
            tx.open_review(
                str(uuid.uuid4()),
                kind="withdrawal",
                subject_id=hold.id,
                rule=rule,
                reason=reason,
                stamp=now_text(),
            )
        elif hold.state == HoldState.REVIEW.value:
            tx.close_reviews_of(hold.id, reason=f"hold moved to {state.value}", stamp=now_text())
        self.event(tx, f"withdrawal.{state.value}", hold_view(moved))
        metrics.HOLD_STATES.labels(state.value).inc()
        tx.changed(hold.id)
        return moved

    def touch(self, tx: Tx, hold: Hold, **changes: Any) -> Hold:
        """Change a hold without a state move (deadline, envelope id ...)."""
        tx.update_hold(hold.id, stamp=now_text(), **changes)
        tx.changed(hold.id)
        updated = tx.hold(hold.id)
        assert updated is not None
        return updated
