"""Scripted beneficiary decisions: sync accept, async accept, repair, reject.

Every robot first checks, like a real VASP, that the beneficiary address belongs to one of
its customers (UNKNOWN_WALLET_ADDRESS otherwise), so "unknown beneficiary" is testable
against any of them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

import structlog

from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate.errors import Code
from travelgate.transfers import ConversationState
from travelgate.trisa import Action, Inbound, Verdict, match_customer

if TYPE_CHECKING:
    from travelgate.service import TrpService
    from travelgate.store import Store

log = structlog.get_logger("travelgate.robot")


class RobotHome(Protocol):
    """What an async robot needs of its gateway to call back: the database and TRP."""

    @property
    def db(self) -> Store: ...

    @property
    def trp(self) -> TrpService: ...


class RobotPolicy(StrEnum):
    SYNC_ACCEPT = "sync-accept"
    ASYNC_ACCEPT = "async-accept"
    REPAIR = "repair"
    REJECT = "reject"
    # Deliberately broken robots (they decide like sync-accept, then break the protocol),
    # so the conformance suite can prove it catches each fault.
    WRONG_ID = "wrong-id"
    WRONG_KEY = "wrong-key"
    GRPC_ERRORS = "grpc-errors"


POLICIES = tuple(policy.value for policy in RobotPolicy)
_ACCEPTING = frozenset(
    {
        RobotPolicy.SYNC_ACCEPT,
        RobotPolicy.WRONG_ID,
        RobotPolicy.WRONG_KEY,
        RobotPolicy.GRPC_ERRORS,
    }
)


@dataclass
class RobotDecider:
    """Decide by script; an async robot calls back with its acceptance after `delay`."""

    policy: RobotPolicy
    delay: float = 1.0
    gateway: RobotHome | None = None
    _callbacks: set[asyncio.Task[None]] = field(default_factory=set)

    def bind(self, home: RobotHome) -> None:
        """Call back through `home` (the gateway, once it is open)."""
        self.gateway = home

    async def decide(self, inbound: Inbound) -> Verdict:
        miss = match_customer(inbound)
        if miss is not None:
            return miss
        rule = f"robot:{self.policy.value}"
        if self.policy in _ACCEPTING:
            return Verdict(Action.ACCEPT, rule=rule, reason="scripted acceptance")
        if self.policy is RobotPolicy.REJECT:
            return Verdict.reject(
                Code.COMPLIANCE_CHECK_FAIL,
                "the transfer failed our compliance checks",
                rule=rule,
                reason="scripted rejection",
            )
        if self.policy is RobotPolicy.REPAIR:
            if inbound.envelope.transfer_state == api_pb2.REVIEW:
                return Verdict(Action.ACCEPT, rule=rule, reason="repaired payload accepted")
            return Verdict.repair(
                Code.INCOMPLETE_IDENTITY,
                "the originator's date and place of birth are required",
                rule=rule,
                reason="scripted repair request",
            )
        self._schedule_callback(inbound)
        return Verdict(
            Action.PENDING, rule=rule, reason="scripted review", message="robot review in progress"
        )

    def _schedule_callback(self, inbound: Inbound) -> None:
        if self.gateway is None:
            return
        task = asyncio.create_task(self._call_back(inbound.peer.name, inbound.envelope.id))
        self._callbacks.add(task)
        task.add_done_callback(self._callbacks.discard)

    async def _call_back(self, peer: str, envelope_id: str) -> None:
        """After the delay, accept: queue a Transfer back to the originator, same id (TRISA async),
        or for a TRP inquiry the approval to its callback.

        The outbox delivers it (durably, with retries), like any callback of the gateway.
        """
        from travelgate.envelope import normalize_envelope_id
        from travelgate.store import Tx
        from travelgate.trisa._replies import resumed_payload

        gateway = self.gateway
        assert gateway is not None
        await asyncio.sleep(self.delay)

        def accept(tx: Tx) -> bool:
            inquiry = tx.trp_inquiry(peer, envelope_id)
            if inquiry is not None:  # a TRP inquiry: approve at its callback
                pending = tx.conversation_by_id(inquiry.conversation_id or 0)
                if pending is not None and pending.state == ConversationState.PENDING:
                    assert gateway is not None
                    gateway.trp.decide_pending(tx, pending, accept=True, actor="robot")
                return pending is not None
            conversation = tx.conversation(peer, normalize_envelope_id(envelope_id))
            if conversation is None or conversation.payload is None:
                return False
            if conversation.state != ConversationState.PENDING:
                return True  # decided meanwhile: nothing to send
            tx.enqueue_transfer(
                peer, envelope_id, "ACCEPTED", payload=resumed_payload(conversation.payload)
            )
            return True

        for _ in range(50):  # the PENDING reply may still be on its way to the database
            if await gateway.db.write(accept):
                return
            await asyncio.sleep(0.1)
        log.warning("robot callback: conversation not found", peer=peer, envelope_id=envelope_id)

    async def aclose(self) -> None:
        """Stop pending callbacks (the node is shutting down)."""
        for task in list(self._callbacks):
            task.cancel()
        if self._callbacks:
            await asyncio.gather(*self._callbacks, return_exceptions=True)
