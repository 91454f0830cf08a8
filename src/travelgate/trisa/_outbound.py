"""The send path: seal for a peer, record, call Transfer, check and record the reply.

`prepare` seals and stores the outgoing envelope before anything travels, so a retry sends
the stored bytes unchanged (TRISA duplicates) and a crash loses nothing. `deliver` makes the
call, refreshes the peer's key once when it answers INVALID_KEY / NO_SIGNING_KEY with
retry, verifies that the reply echoes our envelope id and is sealed to our key, and stores
it together with its effect on the conversation (and, through the hooks, on holds).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import structlog

from travelgate import envelope as env
from travelgate import metrics
from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2
from travelgate.envelope import TransferState
from travelgate.errors import (
    DirectoryUnavailableError,
    InvalidReplyError,
    TrisaError,
    UnknownPeerError,
)
from travelgate.store import Store, Tx
from travelgate.transfers import Outcome, classify_reply, conversation_state
from travelgate.trisa._client import TrisaClient
from travelgate.trisa._directory import Directory, Peer
from travelgate.trisa._exchange import ORIGINATOR, ExchangeHooks, PeerMessage, state_name
from travelgate.trisa._inbound import errors_name, ivms_check

log = structlog.get_logger("travelgate.trisa")


def _usable(name: str, peer: Peer | None) -> Peer:
    if peer is None:
        raise UnknownPeerError(f"{name} is not in the directory")
    if peer.blocked:
        raise UnknownPeerError(f"{name} is blocked in the directory")
    if not peer.endpoint:
        raise UnknownPeerError(f"{name} has no TRISA endpoint (it is reached by email)")
    return peer


@dataclass(frozen=True)
class Prepared:
    peer: Peer
    envelope: api_pb2.SecureEnvelope
    payload: api_pb2.Payload | None
    request_id: int
    conversation_id: int


@dataclass(frozen=True)
class SendResult:
    request: api_pb2.SecureEnvelope
    reply: api_pb2.SecureEnvelope
    parts: env.PayloadParts | None
    outcome: Outcome
    conversation_id: int
    problem: TrisaError | None = None


class OutboundService:
    def __init__(
        self,
        *,
        keyring: env.KeyRing,
        db: Store,
        directory: Directory,
        client: TrisaClient,
        hooks: ExchangeHooks,
        crypto: Executor,
        ivms_profile: str = "standard",
        validate_identity: Callable[[Any, str], TrisaError | None] | None = None,
    ) -> None:
        self.keyring = keyring
        self.db = db
        self.directory = directory
        self.client = client
        self.hooks = hooks
        self.crypto = crypto
        self.ivms_profile = ivms_profile
        self.validate_identity = validate_identity or ivms_check

    def peer(self, name: str) -> Peer:
        """The peer as the directory stands (no network)."""
        return _usable(name, self.directory.get(name))

    async def resolve_peer(self, name: str) -> Peer:
        """The peer, asking the TRISA directory again when its answer is stale; a directory
        that cannot answer is a failure to retry, exactly like an unreachable peer."""
        resolution = await self.directory.resolve(name)
        if resolution.unavailable is not None:
            raise DirectoryUnavailableError(resolution.unavailable)
        return _usable(name, resolution.peer)

    async def prepare(
        self,
        peer_name: str,
        *,
        envelope_id: str,
        state: TransferState,
        payload: api_pb2.Payload | None = None,
        error: TrisaError | errors_pb2.Error | None = None,
        hold_id: str | None = None,
        on_record: Callable[[Tx, int], None] | None = None,
    ) -> Prepared:
        """Seal (or build the error envelope) and store it before it travels.

        `on_record(tx, request_row)` runs in the same transaction (the outbox notes which
        stored bytes to resend).
        """
        peer = await self.resolve_peer(peer_name)
        key = env.normalize_envelope_id(envelope_id)
        if payload is not None:
            recipient = await self.client.sealing_key(peer)
            envelope = await self._in_thread(_seal, payload, recipient, envelope_id, state)
        elif error is not None:
            envelope = env.error_envelope(envelope_id, error, transfer_state=state)
        else:
            raise ValueError("prepare needs a payload or an error")

        def record(tx: Tx) -> tuple[int, int]:
            conversation_id = tx.conversation_for(
                peer.name, key, role=ORIGINATOR, state=state_name(state), hold_id=hold_id
            ).id
            if payload is not None:
                tx.update_conversation(conversation_id, payload=payload.SerializeToString())
            request_id = tx.insert_envelope(
                peer=peer.name,
                envelope_id=envelope.id,
                direction="out",
                transfer_state=state_name(state),
                raw=envelope.SerializeToString(),
                conversation_id=conversation_id,
                error_code=envelope.error.code if env.has_error(envelope) else None,
            )
            if on_record is not None:
                on_record(tx, request_id)
            return request_id, conversation_id

        request_id, conversation_id = await self.db.write(record)
        return Prepared(peer, envelope, payload, request_id, conversation_id)

    async def resume(self, request_row: int, payload: api_pb2.Payload | None) -> Prepared:
        """A prepared envelope from its stored bytes, to resend them unchanged (R7)."""
        found = await self.db.read(lambda tx: tx.envelope_row(request_row))
        if found is None:
            raise InvalidReplyError(f"stored envelope {request_row} is gone")
        raw, conversation_id = found
        envelope = api_pb2.SecureEnvelope()
        envelope.ParseFromString(raw)
        conversation = await self.db.read(lambda tx: tx.conversation_by_id(conversation_id or 0))
        if conversation is None:
            raise InvalidReplyError(f"stored envelope {request_row} has no conversation")
        peer = await self.resolve_peer(conversation.peer)
        return Prepared(peer, envelope, payload, request_row, conversation.id)

    async def deliver(
        self,
        prepared: Prepared,
        *,
        deadline: float | None = None,
        on_record: Callable[[Tx, int], None] | None = None,
        on_reply: Callable[[Tx], None] | None = None,
    ) -> SendResult:
        """Send a prepared envelope and record the reply (PeerUnavailableError if none).

        `on_reply(tx)` runs in the transaction that records the reply, so whoever asked for
        the delivery (the outbox) marks it done exactly when its effects are stored.
        """
        started = time.perf_counter()
        reply = await self.client.transfer(prepared.peer, prepared.envelope, deadline=deadline)
        result = await self._receive(prepared, reply, on_reply)
        if result.outcome is Outcome.REKEY and prepared.payload is not None:
            # The peer lost or rotated its key: learn it again, re-seal, resend once.
            await self.client.sealing_key(prepared.peer, refresh=True)
            again = await self.prepare(
                prepared.peer.name,
                envelope_id=prepared.envelope.id,
                state=prepared.envelope.transfer_state,
                payload=prepared.payload,
                on_record=on_record,
            )
            reply = await self.client.transfer(again.peer, again.envelope, deadline=deadline)
            result = await self._receive(again, reply, on_reply)
        metrics.envelope(
            "out",
            state_name(result.reply.transfer_state),
            errors_name(result.reply),
            time.perf_counter() - started,
        )
        log.info(
            "envelope",
            direction="out",
            peer=prepared.peer.name,
            envelope_id=prepared.envelope.id,
            state=state_name(prepared.envelope.transfer_state),
            reply_state=state_name(result.reply.transfer_state),
            code=errors_name(result.reply),
            outcome=result.outcome.value,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return result

    async def send(
        self,
        peer_name: str,
        *,
        envelope_id: str,
        state: TransferState,
        payload: api_pb2.Payload | None = None,
        error: TrisaError | errors_pb2.Error | None = None,
        hold_id: str | None = None,
        deadline: float | None = None,
    ) -> SendResult:
        prepared = await self.prepare(
            peer_name,
            envelope_id=envelope_id,
            state=state,
            payload=payload,
            error=error,
            hold_id=hold_id,
        )
        return await self.deliver(prepared, deadline=deadline)

    async def _receive(
        self,
        prepared: Prepared,
        reply: api_pb2.SecureEnvelope,
        on_reply: Callable[[Tx], None] | None = None,
    ) -> SendResult:
        try:
            same = env.normalize_envelope_id(reply.id) == env.normalize_envelope_id(
                prepared.envelope.id
            )
        except TrisaError:
            same = False
        if not same:
            raise InvalidReplyError(
                f"{prepared.peer.name} answered with envelope id {reply.id[:64]!r}, "
                f"not {prepared.envelope.id!r}"
            )
        parts: env.PayloadParts | None = None
        problem: TrisaError | None = None
        if env.has_error(reply):
            error = reply.error
            outcome = classify_reply(
                reply.transfer_state, is_error=True, error_code=error.code, retry=error.retry
            )
            message = PeerMessage(outcome, reply.transfer_state, error=error)
        elif not reply.payload:
            raise InvalidReplyError(f"{prepared.peer.name} answered with an empty envelope")
        else:
            try:
                opened = await self._in_thread(_open, reply, self.keyring)
            except TrisaError as exc:
                raise InvalidReplyError(
                    f"{prepared.peer.name}'s reply cannot be opened with our key: {exc}"
                ) from None
            parts = opened.parts
            outcome = classify_reply(
                reply.transfer_state, is_error=False, transaction_type=parts.kind.value
            )
            profile = prepared.peer.ivms_profile or self.ivms_profile
            problem = self.validate_identity(parts.identity, profile)
            message = PeerMessage(outcome, reply.transfer_state, parts=parts, problem=problem)
        new_state = conversation_state(
            outcome, error_code=reply.error.code if env.has_error(reply) else None
        )

        def record(tx: Tx) -> None:
            tx.insert_envelope(
                peer=prepared.peer.name,
                envelope_id=reply.id,
                direction="in",
                transfer_state=state_name(reply.transfer_state),
                raw=reply.SerializeToString(),
                conversation_id=prepared.conversation_id,
                error_code=reply.error.code if env.has_error(reply) else None,
                reply_to=prepared.request_id,
            )
            changes: dict[str, Any] = {}
            if new_state:
                changes["state"] = new_state
            if parts is not None:
                changes["payload"] = parts.payload.SerializeToString()
                if parts.kind is env.TransactionKind.PENDING:
                    changes["reply_not_after"] = getattr(parts.transaction, "reply_not_after", "")
            if changes:
                tx.update_conversation(prepared.conversation_id, **changes)
            conversation = tx.conversation_by_id(prepared.conversation_id)
            if conversation is not None:
                self.hooks.on_message(tx, conversation, message)
            # A re-key is retried here at once; a "try later" (service error, retry=true) is
            # retried by the caller with a fresh seal: only other replies end the delivery.
            if on_reply is not None and message.outcome not in (Outcome.REKEY, Outcome.RESEND):
                on_reply(tx)

        await self.db.write(record)
        return SendResult(
            prepared.envelope, reply, parts, message.outcome, prepared.conversation_id, problem
        )

    async def _in_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.crypto, function, *args)


def _seal(
    payload: api_pb2.Payload, key: Any, envelope_id: str, state: TransferState
) -> api_pb2.SecureEnvelope:
    return env.seal(payload, key, envelope_id=envelope_id, transfer_state=state)


def _open(reply: api_pb2.SecureEnvelope, keyring: env.KeyRing) -> env.OpenedEnvelope:
    return env.open_envelope(reply, keyring, accept_confirmation_receipt=True)
