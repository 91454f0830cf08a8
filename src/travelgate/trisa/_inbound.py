"""The receive path: every inbound envelope, in the order of the TRISA receive checks, idempotent.

`InboundService.handle(peer, envelope)` returns the reply envelope (compliance outcomes are
error envelopes with gRPC OK) or raises for the few outcomes that are gRPC statuses:
`InvalidEnvelopeIdError` (INVALID_ARGUMENT), `ConversationNotFoundError` (NOT_FOUND),
`StoreError` (UNAVAILABLE). The incoming envelope, the state change, the hook effects and
the reply are stored in one transaction before the reply is returned (R6), so an exact
duplicate is answered with the stored reply, byte for byte, even after a crash.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric import rsa

from travelgate import envelope as env
from travelgate import metrics
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate.errors import (
    BadRequestError,
    Code,
    ConversationNotFoundError,
    ForbiddenError,
    NoSigningKeyError,
    TrisaError,
    trisa_error,
)
from travelgate.store import Conversation, Customer, Store, Tx
from travelgate.transfers import (
    ConversationState,
    Outcome,
    classify_reply,
    conversation_state,
    transaction_amount,
)
from travelgate.trisa._client import TrisaClient
from travelgate.trisa._directory import Directory, Peer
from travelgate.trisa._exchange import (
    BENEFICIARY,
    FINAL_STATES,
    Action,
    Decider,
    ExchangeHooks,
    Inbound,
    PeerMessage,
    state_name,
)
from travelgate.trisa._replies import (
    VaspInfo,
    beneficiary_address,
    completed_identity,
    echo,
    payload_digest,
    pending_payload,
    person_from_json,
    with_identity,
)

log = structlog.get_logger("travelgate.trisa")

KEY_EXCHANGE_BACK_SECONDS = 5.0

# Echo of a received state, for replies that only acknowledge (TRISA TransferState, as Envoy).
_ECHO_STATE = {
    api_pb2.PENDING: api_pb2.REVIEW,
    api_pb2.REVIEW: api_pb2.PENDING,
    api_pb2.ACCEPTED: api_pb2.ACCEPTED,
    api_pb2.COMPLETED: api_pb2.COMPLETED,
    api_pb2.REJECTED: api_pb2.REJECTED,
}


# Deliberately broken robots rewrite replies (conformance tests): request, reply, the
# reply's clear payload (None for error envelopes) -> the reply actually sent.
ReplyHook = Callable[
    [api_pb2.SecureEnvelope, api_pb2.SecureEnvelope, api_pb2.Payload | None],
    api_pb2.SecureEnvelope,
]


@dataclass(frozen=True)
class InboundSettings:
    ivms_profile: str = "standard"
    pending_not_before: timedelta = timedelta(minutes=5)
    pending_not_after: timedelta = timedelta(hours=24)
    max_payload: int = 4 * 1024 * 1024
    failed_per_peer: int = 10_000


# The state we echo to a beneficiary's callback, by what the callback meant.
_ORIGINATOR_ECHO = {
    Outcome.ACCEPTED: api_pb2.ACCEPTED,
    Outcome.PENDING: api_pb2.REVIEW,
    Outcome.REVIEW: api_pb2.PENDING,
    Outcome.COMPLETED: api_pb2.COMPLETED,
}


@dataclass
class _Reply:
    """What to answer and how the conversation changes (computed before storing)."""

    envelope: api_pb2.SecureEnvelope
    create_role: str | None = None
    state: str | None = None
    payload: api_pb2.Payload | None = None
    customer_id: str | None = None
    digest: str | None = None
    in_state: str | None = None
    reply_not_after: str | None = None
    message: PeerMessage | None = None
    code: int | None = None
    # The envelope could not be opened: only its metadata is stored, never its bytes
    # (a peer must not fill our disk with what nobody can read).
    unopened: bool = False


def message_key(peer: str, envelope_id: str, envelope: api_pb2.SecureEnvelope) -> str:
    """Idempotency key of an inbound message (TRISA duplicate envelopes)."""
    digest = hashlib.sha256()
    if envelope.payload:
        parts: list[bytes] = [b"sealed", envelope.hmac or hashlib.sha256(envelope.payload).digest()]
    elif envelope.HasField("error"):
        error = envelope.error
        parts = [
            b"error",
            str(error.code).encode(),
            error.message.encode(),
            b"1" if error.retry else b"0",
            str(envelope.transfer_state).encode(),
        ]
    else:
        parts = [b"raw", envelope.SerializeToString(deterministic=True)]
    for part in [peer.encode(), envelope_id.encode(), *parts]:
        digest.update(len(part).to_bytes(4, "big"))
        digest.update(part)
    return digest.hexdigest()


class InboundService:
    def __init__(
        self,
        *,
        name: str,
        vasp: VaspInfo,
        keyring: env.KeyRing,
        db: Store,
        directory: Directory,
        client: TrisaClient,
        decider: Decider,
        hooks: ExchangeHooks,
        crypto: Executor,
        settings: InboundSettings,
        validate_identity: Callable[[Any, str], TrisaError | None] | None = None,
        reply_hook: ReplyHook | None = None,
    ) -> None:
        self.name = name
        self.vasp = vasp
        self.keyring = keyring
        self.db = db
        self.directory = directory
        self.client = client
        self.decider = decider
        self.hooks = hooks
        self.crypto = crypto
        self.settings = settings
        self.validate_identity = validate_identity or ivms_check
        self.reply_hook = reply_hook
        self._inflight: dict[str, asyncio.Future[api_pb2.SecureEnvelope]] = {}

    async def handle(
        self, peer_name: str, envelope: api_pb2.SecureEnvelope
    ) -> api_pb2.SecureEnvelope:
        started = time.perf_counter()
        envelope_key = env.normalize_envelope_id(envelope.id)  # step 2: gRPC INVALID_ARGUMENT
        structure_error: BadRequestError | None = None
        kind = env.EnvelopeKind.CORRUPTED
        try:
            kind = env.check_structure(envelope, max_payload=self.settings.max_payload)  # 3-6
        except BadRequestError as exc:
            structure_error = exc
        peer = self.directory.get(peer_name)
        refusal = None
        if peer_name.strip().lower() == self.name.strip().lower():
            # Our own certificate in someone else's hands, or a loop back to ourselves:
            # either way no exchange of ours starts here.
            refusal = f"{peer_name} is this node's own certificate: a VASP does not send to itself"
        elif peer is None or peer.blocked:
            refusal = f"{peer_name} is not an allowed counterparty"
        if refusal is not None or peer is None:  # step 7: nothing else is processed or stored
            reply = env.error_envelope(envelope.id, ForbiddenError(refusal or ""))
            self._log(peer_name, envelope, reply, started, stored=False)
            return reply
        key = message_key(peer.name, envelope_key, envelope)
        pending = self._inflight.get(key)
        if pending is not None:  # the same message is being processed right now
            return await asyncio.shield(pending)
        future: asyncio.Future[api_pb2.SecureEnvelope] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            reply = await self._answer(peer, envelope, envelope_key, key, kind, structure_error)
            future.set_result(reply)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        finally:
            del self._inflight[key]
        self._log(peer.name, envelope, reply, started, stored=True)
        return reply

    async def _answer(
        self,
        peer: Peer,
        envelope: api_pb2.SecureEnvelope,
        envelope_key: str,
        key: str,
        kind: env.EnvelopeKind,
        structure_error: BadRequestError | None,
    ) -> api_pb2.SecureEnvelope:
        # One read for both: each trip to the database thread costs the event loop.
        stored, conversation = await self.db.read(
            lambda tx: (tx.reply_for_message(key), tx.conversation(peer.name, envelope_key))
        )
        if stored is not None:  # step 8
            duplicate = api_pb2.SecureEnvelope()
            duplicate.ParseFromString(stored)
            return duplicate
        if structure_error is not None:
            outcome = _Reply(
                env.error_envelope(envelope.id, structure_error),
                code=structure_error.code,
                unopened=True,
            )
        elif kind in (
            env.EnvelopeKind.ERROR,
            env.EnvelopeKind.SEALED_ERROR,
            env.EnvelopeKind.UNSEALED_ERROR,
        ):
            outcome = self._error_message(envelope, conversation)  # step 9, 6.2
        else:
            outcome = await self._payload_message(peer, envelope, conversation)
        if self.reply_hook is not None:
            outcome.envelope = self.reply_hook(envelope, outcome.envelope, outcome.payload)
        answered = await self.db.write(
            lambda tx: self._store(
                tx, peer.name, envelope, envelope_key, key, conversation, outcome
            )
        )
        if answered is not None:
            # Another process stored this very message first: its reply is the answer.
            duplicate = api_pb2.SecureEnvelope()
            duplicate.ParseFromString(answered)
            return duplicate
        if outcome.unopened:
            metrics.FAILED_ENVELOPES.labels(errors_name(outcome.envelope) or "").inc()
        return outcome.envelope

    # -- error envelopes (TRISA) ------------------------------------------------------------

    def _error_message(
        self, envelope: api_pb2.SecureEnvelope, conversation: Conversation | None
    ) -> _Reply:
        if conversation is None:
            raise ConversationNotFoundError("no conversation with this id for this peer")
        if conversation.state in FINAL_STATES:
            # Nothing to act on, so nothing worth keeping but the record of the refusal.
            return _closed(envelope, conversation, unopened=True)
        error = envelope.error
        state = env.echo_error_state(envelope.transfer_state, error.retry)
        echoed = env.error_envelope(envelope.id, error, transfer_state=state)
        outcome = classify_reply(
            envelope.transfer_state, is_error=True, error_code=error.code, retry=error.retry
        )
        # Whatever its code, an error that asks for a retry asks us to repair.
        asked = Outcome.REPAIR if error.retry else Outcome.REJECTED
        new_state = conversation_state(asked, error_code=error.code)
        message = PeerMessage(outcome, envelope.transfer_state, error=error)
        return _Reply(echoed, state=new_state, message=message, code=error.code)

    # -- payload envelopes (the rest of the TRISA receive checks) ------------------------

    async def _payload_message(
        self, peer: Peer, envelope: api_pb2.SecureEnvelope, conversation: Conversation | None
    ) -> _Reply:
        try:
            env.check_sealed(envelope)  # 10-11, before any RSA work
            private_key = self.keyring.find(envelope.public_key_signature)  # 12
            sender_key = await self._sender_key(peer)  # 13
            payload = await self._in_thread(_unseal_and_decrypt, envelope, private_key)  # 14-18
        except TrisaError as error:
            return _Reply(env.error_envelope(envelope.id, error), code=error.code, unopened=True)
        try:
            parts = env.check_payload(payload)  # 19-20
            transaction = parts.underlying_transaction
            # An amount we could not represent exactly is refused before anything decides.
            transaction_amount(transaction.amount, transaction.extra_json)
        except TrisaError as error:
            return _Reply(env.error_envelope(envelope.id, error), code=error.code)
        if conversation is not None and conversation.state in FINAL_STATES:  # 21, R4
            return _closed(envelope, conversation)
        digest = payload_digest(payload)
        incoming = state_name(envelope.transfer_state)
        if (
            conversation is not None
            and conversation.last_in_state == incoming
            and conversation.last_in_digest == digest
        ):
            return await self._logical_duplicate(envelope, conversation, sender_key)
        profile = peer.ivms_profile or self.settings.ivms_profile
        invalid = self.validate_identity(parts.identity, profile)  # 22
        if invalid is not None:
            return _Reply(
                env.error_envelope(envelope.id, invalid),
                create_role=None if conversation else BENEFICIARY,
                state=ConversationState.REPAIR,
                message=PeerMessage(Outcome.INVALID, envelope.transfer_state, parts=parts),
                code=invalid.code,
            )
        if conversation is None or conversation.role == BENEFICIARY:
            reply = await self._as_beneficiary(peer, envelope, parts, conversation)
        else:
            reply = self._as_originator(envelope, parts)
        if reply.envelope.payload == b"" and reply.payload is not None:
            state = reply.envelope.transfer_state
            reply.envelope = await self._in_thread(
                _seal, reply.payload, sender_key, envelope.id, state
            )
        reply.digest, reply.in_state = digest, incoming
        return reply

    async def _as_beneficiary(
        self,
        peer: Peer,
        envelope: api_pb2.SecureEnvelope,
        parts: env.PayloadParts,
        conversation: Conversation | None,
    ) -> _Reply:
        """We are the beneficiary VASP: decide on a transfer, or acknowledge its next step."""
        state = envelope.transfer_state
        create = BENEFICIARY if conversation is None else None
        decides = state in (api_pb2.UNSPECIFIED, api_pb2.STARTED, api_pb2.REVIEW, api_pb2.REPAIR)
        if conversation is None or decides:
            if parts.kind is env.TransactionKind.PENDING:
                return _Reply(
                    _state_only(api_pb2.REVIEW),
                    create_role=create,
                    state=ConversationState.PENDING,
                    payload=echo(parts.payload),
                )
            return await self._decide(peer, envelope, parts, conversation, create)
        if state == api_pb2.COMPLETED:
            message = PeerMessage(Outcome.COMPLETED, state, parts=parts)
            return _Reply(
                _state_only(api_pb2.COMPLETED),
                state=ConversationState.COMPLETED,
                payload=echo(parts.payload),
                message=message,
            )
        reply_state = _ECHO_STATE.get(state, api_pb2.PENDING)
        return _Reply(_state_only(reply_state), payload=echo(parts.payload))

    async def _decide(
        self,
        peer: Peer,
        envelope: api_pb2.SecureEnvelope,
        parts: env.PayloadParts,
        conversation: Conversation | None,
        create: str | None,
    ) -> _Reply:
        address = beneficiary_address(parts)
        customer: Customer | None = (
            await self.db.read(lambda tx: tx.customer_for_address(address)) if address else None
        )
        # Decoded (and checked) once: the decider's name match and our reply both use it.
        customer_person = person_from_json(customer.person) if customer else None
        inbound = Inbound(peer, envelope, parts, conversation, customer, address, customer_person)
        verdict = await self.decider.decide(inbound)
        customer_id = customer.id if customer else None
        message = PeerMessage(Outcome.REVIEW, envelope.transfer_state, parts=parts, verdict=verdict)
        if verdict.action in (Action.REJECT, Action.REPAIR):
            error = verdict.error or trisa_error(Code.REJECTED, "rejected", retry=False)
            asked = Outcome.REPAIR if error.retry else Outcome.REJECTED
            new_state = conversation_state(asked, error_code=error.code)
            return _Reply(
                env.error_envelope(envelope.id, error),
                create_role=create,
                state=new_state,
                customer_id=customer_id,
                message=message,
                code=error.code,
            )
        identity = completed_identity(
            parts.identity,
            customer_person=customer_person,
            address=address,
            vasp=self.vasp,
        )
        if verdict.action is Action.PENDING:
            payload = pending_payload(
                with_identity(parts.payload, identity),
                envelope_id=envelope.id,
                received_by=self.name,
                message=verdict.message or "the transfer is under compliance review",
                not_before=self.settings.pending_not_before,
                not_after=self.settings.pending_not_after,
            )
            return _Reply(
                _state_only(api_pb2.PENDING),
                create_role=create,
                state=ConversationState.PENDING,
                payload=payload,
                customer_id=customer_id,
                message=message,
            )
        reply_state = (
            api_pb2.COMPLETED if envelope.transfer_state == api_pb2.COMPLETED else api_pb2.ACCEPTED
        )
        payload = echo(with_identity(parts.payload, identity))
        return _Reply(
            _state_only(reply_state),
            create_role=create,
            state=state_name(reply_state),
            payload=payload,
            customer_id=customer_id,
            message=message,
        )

    def _as_originator(self, envelope: api_pb2.SecureEnvelope, parts: env.PayloadParts) -> _Reply:
        """We started this exchange: the beneficiary calls back with its decision."""
        state = envelope.transfer_state
        outcome = classify_reply(state, is_error=False, transaction_type=parts.kind.value)
        message = PeerMessage(outcome, state, parts=parts)
        echoed = _ORIGINATOR_ECHO.get(outcome)
        if echoed is not None:
            not_after = ""
            if outcome is Outcome.PENDING and parts.kind is env.TransactionKind.PENDING:
                not_after = getattr(parts.transaction, "reply_not_after", "")
            return _Reply(
                _state_only(echoed),
                state=conversation_state(outcome),
                payload=echo(parts.payload),
                message=message,
                reply_not_after=not_after or None,
            )
        error = BadRequestError(
            f"transfer_state {state_name(state)} cannot answer an exchange we started"
        )
        return _Reply(env.error_envelope(envelope.id, error), message=message, code=error.code)

    async def _logical_duplicate(
        self,
        envelope: api_pb2.SecureEnvelope,
        conversation: Conversation,
        sender_key: rsa.RSAPublicKey,
    ) -> _Reply:
        """A re-encrypted copy of the last message: a fresh echo of our last reply, no effects."""
        previous = await self.db.read(lambda tx: _last_reply(tx, conversation.id))
        if previous is None:
            return _Reply(env.error_envelope(envelope.id, BadRequestError("duplicate message")))
        if previous.HasField("error") or conversation.payload is None:
            return _Reply(
                env.error_envelope(
                    envelope.id, previous.error, transfer_state=previous.transfer_state
                )
            )
        payload = api_pb2.Payload()
        payload.ParseFromString(conversation.payload)
        sealed = await self._in_thread(
            _seal, payload, sender_key, envelope.id, previous.transfer_state
        )
        return _Reply(sealed)

    async def _sender_key(self, peer: Peer) -> rsa.RSAPublicKey:
        """Step 13: cache, then KeyExchange back to the sender, then the pinned certificate."""
        try:
            # Mid-transfer the sender waits on us: keep the key exchange back short.
            return await self.client.sealing_key(peer, deadline=KEY_EXCHANGE_BACK_SECONDS)
        except NoSigningKeyError:
            raise
        except Exception as exc:  # a failing peer must not become an INTERNAL error here
            raise NoSigningKeyError(f"cannot obtain a sealing key for {peer.name}: {exc}") from None

    async def _in_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.crypto, function, *args)

    # -- storage -------------------------------------------------------------------------

    def _store(
        self,
        tx: Tx,
        peer: str,
        envelope: api_pb2.SecureEnvelope,
        envelope_key: str,
        key: str,
        conversation: Conversation | None,
        reply: _Reply,
    ) -> bytes | None:
        """Store the message, its reply and their effects; or, when another process stored
        the same message first, nothing: its stored reply (returned) is the answer."""
        if reply.unopened:
            raw = envelope.SerializeToString()
            tx.insert_failed_envelope(
                peer=peer,
                envelope_id=envelope.id,
                code=reply.code if reply.code is not None else Code.BAD_REQUEST,
                size=len(raw),
                sha256=hashlib.sha256(raw).hexdigest(),
                keep=self.settings.failed_per_peer,
            )
            return None
        # The message is claimed first, by its idempotency key: of processes answering it
        # at once, one stores its answer and its effects, the others answer what it stored.
        request_id = tx.claim_inbound_envelope(
            peer=peer,
            envelope_id=envelope.id,
            transfer_state=state_name(envelope.transfer_state),
            raw=envelope.SerializeToString(),
            error_code=envelope.error.code if env.has_error(envelope) else None,
            message_key=key,
        )
        if request_id is None:
            return tx.reply_for_message(key)
        current = tx.conversation(peer, envelope_key) if conversation is None else conversation
        if current is None and reply.create_role is not None:
            current = tx.conversation_for(
                peer,
                envelope_key,
                role=reply.create_role,
                state=reply.state or ConversationState.STARTED,
                customer_id=reply.customer_id,
            )
        attached = current.id if current is not None else None
        if current is not None:
            changes: dict[str, Any] = {}
            if reply.state:
                changes["state"] = reply.state
            if reply.payload is not None:
                changes["payload"] = reply.payload.SerializeToString()
            if reply.customer_id:
                changes["customer_id"] = reply.customer_id
            if reply.digest:
                changes["last_in_state"], changes["last_in_digest"] = reply.in_state, reply.digest
            if reply.reply_not_after:
                changes["reply_not_after"] = reply.reply_not_after
            if changes:
                tx.update_conversation(current.id, **changes)
        if attached is not None:
            tx.attach_envelope(request_id, attached)
        tx.insert_envelope(
            peer=peer,
            envelope_id=reply.envelope.id,
            direction="out",
            transfer_state=state_name(reply.envelope.transfer_state),
            raw=reply.envelope.SerializeToString(),
            conversation_id=attached,
            error_code=reply.code,
            reply_to=request_id,
        )
        if current is not None and reply.message is not None:
            refreshed = tx.conversation_by_id(current.id)
            if refreshed is not None:
                self.hooks.on_message(tx, refreshed, reply.message)
        return None

    def _log(
        self,
        peer: str,
        envelope: api_pb2.SecureEnvelope,
        reply: api_pb2.SecureEnvelope,
        started: float,
        *,
        stored: bool,
    ) -> None:
        elapsed = time.perf_counter() - started
        metrics.envelope("in", state_name(reply.transfer_state), errors_name(reply), elapsed)
        log.info(
            "envelope",
            direction="in",
            peer=peer,
            envelope_id=envelope.id,
            state=state_name(envelope.transfer_state),
            reply_state=state_name(reply.transfer_state),
            code=errors_name(reply),
            stored=stored,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )


def errors_name(envelope: api_pb2.SecureEnvelope) -> str | None:
    if not env.has_error(envelope):
        return None
    try:
        return Code.Name(envelope.error.code)
    except ValueError:
        return str(envelope.error.code)


def _closed(
    envelope: api_pb2.SecureEnvelope, conversation: Conversation, *, unopened: bool = False
) -> _Reply:
    error = BadRequestError(f"the exchange is closed ({conversation.state.lower()})")
    return _Reply(env.error_envelope(envelope.id, error), code=error.code, unopened=unopened)


def _state_only(state: api_pb2.TransferState.ValueType) -> api_pb2.SecureEnvelope:
    """Placeholder reply whose payload is sealed once the sender's key is at hand."""
    return api_pb2.SecureEnvelope(transfer_state=state)


def _unseal_and_decrypt(
    envelope: api_pb2.SecureEnvelope, private_key: rsa.RSAPrivateKey
) -> api_pb2.Payload:
    encryption_key, secret = env.unseal_secrets(envelope, private_key)
    return env.decrypt_payload(envelope, encryption_key, secret)


def _seal(
    payload: api_pb2.Payload,
    key: rsa.RSAPublicKey,
    envelope_id: str,
    state: api_pb2.TransferState.ValueType,
) -> api_pb2.SecureEnvelope:
    return env.seal(payload, key, envelope_id=envelope_id, transfer_state=state)


def _last_reply(tx: Tx, conversation_id: int) -> api_pb2.SecureEnvelope | None:
    for stored in reversed(tx.envelopes_of(conversation_id)):
        if stored.direction == "out" and stored.reply_to is not None:
            envelope = api_pb2.SecureEnvelope()
            envelope.ParseFromString(stored.raw)
            return envelope
    return None


def ivms_check(identity: Any, profile: str) -> TrisaError | None:
    """IVMS101 validation of a received identity (step 22): the rejection, or None."""
    from travelgate import ivms101

    result = ivms101.validate(identity, profile=profile)  # type: ignore[arg-type]
    rejection: TrisaError | None = ivms101.rejection_for(result)
    return rejection
