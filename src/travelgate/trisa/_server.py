"""The TRISA gRPC server: thin servicers over the inbound service, mTLS, limits, health.

Peer identity comes from the verified client certificate (TRISA peer identity): the leaf's CN,
which must also be one of its DNS names. A client without a certificate never reaches a
handler (the handshake fails). Every call then passes admission (`_admission.py`): known
peer, pinned key, per-peer rate and concurrency, before any work. Compliance outcomes are
envelopes with status OK; only transport, authentication, admission and malformed calls
are gRPC statuses (TRISA errors as envelopes).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from travelgate import envelope as env
from travelgate import metrics
from travelgate._pb.trisa.api.v1beta1 import api_pb2, api_pb2_grpc, errors_pb2
from travelgate.errors import (
    BadRequestError,
    Code,
    ConversationNotFoundError,
    ForbiddenError,
    InvalidEnvelopeIdError,
    PeerIdentityError,
    RefusedError,
    StoreError,
    TrisaError,
)
from travelgate.store import Store
from travelgate.trisa._admission import Admission, AdmissionSettings, Caller, Pool, Slot, caller_of
from travelgate.trisa._client import PeerKeys
from travelgate.trisa._credentials import Credentials
from travelgate.trisa._directory import Directory, Peer
from travelgate.trisa._inbound import InboundService

log = structlog.get_logger("travelgate.trisa")

STREAM_WINDOW = 8
Context = grpc.aio.ServicerContext
AnyContext = grpc.aio.ServicerContext[Any, Any]


def peer_name(context: grpc.aio.ServicerContext[object, object]) -> str:
    """The caller's CN, required to be among its DNS SANs (stricter than the reference)."""
    return caller_of(context).name


async def _refuse(admission: Admission, context: AnyContext, refusal: RefusedError) -> NoReturn:
    admission.refused(refusal.peer, refusal.reason)
    await context.abort(refusal.status, refusal.message)
    raise AssertionError("abort raises")  # pragma: no cover


@dataclass
class RateLimiter:
    """A token bucket per peer (ConfirmAddress must not be a free address oracle)."""

    per_minute: int
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        tokens, stamp = self._buckets.get(key, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - stamp) * self.per_minute / 60.0)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1.0, now)
        return True


@dataclass
class ServerState:
    """What TRISAHealth reports; flipped during maintenance and graceful shutdown."""

    status: int = api_pb2.ServiceState.HEALTHY


class _StreamEnd(enum.Enum):
    """Why we stop reading a TransferStream."""

    CLIENT = "client"
    IDLE = "idle"
    MAX_AGE = "max_age"


class TrisaNetworkServicer(api_pb2_grpc.TRISANetworkServicer):
    def __init__(
        self,
        inbound: InboundService,
        credentials: Credentials,
        keys: PeerKeys,
        directory: Directory,
        db: Store,
        *,
        confirm_address: bool = False,
        confirm_per_minute: int = 30,
        errors_as_status: bool = False,
        admission: Admission | None = None,
    ) -> None:
        self.inbound = inbound
        self.credentials = credentials
        self.keys = keys
        self.directory = directory
        self.db = db
        self.confirm_address = confirm_address
        self.limiter = RateLimiter(confirm_per_minute)
        self.admission = admission or Admission(AdmissionSettings(), directory)
        # Only a deliberately broken robot sets this: it answers compliance outcomes as gRPC
        # statuses, the way legacy peers do (legacy TRISA peers), for the conformance suite.
        self.errors_as_status = errors_as_status

    async def _caller(self, context: AnyContext) -> Caller:
        try:
            return self.admission.caller(context)
        except PeerIdentityError as exc:
            self.admission.refused("", "identity")
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
            raise  # abort raises; this keeps the type checker informed

    async def _known_peer(self, context: AnyContext, caller: Caller) -> Peer | None:
        """The caller's directory entry (None: not allowed); a wrong key aborts the call,
        and so does a TRISA directory that cannot say whether it knows the caller."""
        resolution = await self.directory.resolve(caller.name)
        if resolution.peer is None and resolution.unavailable is not None:
            self.admission.refused(caller.name, "directory_unavailable")
            await context.abort(
                grpc.StatusCode.UNAVAILABLE,
                f"{caller.name} cannot be checked against the TRISA directory now; retry later",
            )
        try:
            return self.admission.known_peer(caller)
        except RefusedError as refusal:
            await _refuse(self.admission, context, refusal)

    async def _enter(self, context: AnyContext, name: str, pool: Pool) -> Slot:
        """Rate, then a place in the pool: either refusal ends the call at once."""
        try:
            self.admission.require_token(name)
            return self.admission.enter(name, pool)
        except RefusedError as refusal:
            await _refuse(self.admission, context, refusal)

    async def _admit_network(self, context: AnyContext) -> tuple[Peer, Slot]:
        caller = await self._caller(context)
        peer = await self._known_peer(context, caller)
        if peer is None:
            self.admission.refused(caller.name, "unknown_peer")
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED, f"{caller.name} is not an allowed counterparty"
            )
            raise AssertionError("abort raises")  # pragma: no cover
        return peer, await self._enter(context, peer.name, Pool.NETWORK)

    async def Transfer(
        self,
        request: api_pb2.SecureEnvelope,
        context: grpc.aio.ServicerContext[
            api_pb2.SecureEnvelope, Awaitable[api_pb2.SecureEnvelope]
        ],
    ) -> api_pb2.SecureEnvelope:
        caller = await self._caller(context)
        peer = await self._known_peer(context, caller)
        if peer is None:  # step 7, answered before the caller holds anything
            self.admission.refused(caller.name, "unknown_peer")
            return env.error_envelope(
                request.id, ForbiddenError(f"{caller.name} is not an allowed counterparty")
            )
        with await self._enter(context, peer.name, Pool.NETWORK):
            if not self.admission.try_work(peer.name):
                self.admission.refused(peer.name, "busy")
                await context.abort(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    "the node is at its processing capacity; retry later",
                )
            try:
                return await self._transfer(peer.name, request, context)
            finally:
                await self.admission.end_work(peer.name)

    async def _transfer(
        self,
        peer: str,
        request: api_pb2.SecureEnvelope,
        context: grpc.aio.ServicerContext[
            api_pb2.SecureEnvelope, Awaitable[api_pb2.SecureEnvelope]
        ],
    ) -> api_pb2.SecureEnvelope:
        try:
            reply = await self.inbound.handle(peer, request)
            if self.errors_as_status and env.has_error(reply):
                error = reply.error
                await context.abort(
                    grpc.StatusCode.UNKNOWN,
                    f"trisa rejection [{Code.Name(error.code)}]: {error.message}",
                )
            return reply
        except InvalidEnvelopeIdError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, exc.message)
        except ConversationNotFoundError as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, exc.message)
        except StoreError:
            log.exception("store unavailable", peer=peer)
            await context.abort(grpc.StatusCode.UNAVAILABLE, "storage is unavailable; retry later")
        except (asyncio.CancelledError, grpc.aio.AbortError):
            raise
        except Exception:
            log.exception("transfer failed", peer=peer, envelope_id=request.id)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
        raise AssertionError("unreachable")  # pragma: no cover

    async def TransferStream(
        self,
        request_iterator: AsyncIterator[api_pb2.SecureEnvelope],
        context: grpc.aio.ServicerContext[
            AsyncIterator[api_pb2.SecureEnvelope], AsyncIterator[api_pb2.SecureEnvelope]
        ],
    ) -> AsyncIterator[api_pb2.SecureEnvelope]:
        peer, slot = await self._admit_network(context)
        with slot:
            async for reply in self._stream(peer.name, request_iterator, context):
                yield reply

    async def _stream(
        self,
        peer: str,
        request_iterator: AsyncIterator[api_pb2.SecureEnvelope],
        context: AnyContext,
    ) -> AsyncIterator[api_pb2.SecureEnvelope]:
        """Replies in request order, at most STREAM_WINDOW in flight; the stream ends when
        the peer stops, after `stream_idle_timeout` without traffic, or at `stream_max_age`."""
        settings = self.admission.settings
        loop = asyncio.get_running_loop()
        opened = loop.time()
        last_activity = [opened]
        window: asyncio.Queue[asyncio.Task[api_pb2.SecureEnvelope] | None] = asyncio.Queue(
            STREAM_WINDOW
        )
        ended = [_StreamEnd.CLIENT]

        async def read() -> None:
            iterator = aiter(request_iterator)
            pending: asyncio.Future[api_pb2.SecureEnvelope] | None = None
            try:
                while True:
                    now = loop.time()
                    age_left = opened + settings.stream_max_age - now
                    idle_left = last_activity[0] + settings.stream_idle_timeout - now
                    if age_left <= 0:
                        ended[0] = _StreamEnd.MAX_AGE
                        return
                    if idle_left <= 0 and window.empty():
                        ended[0] = _StreamEnd.IDLE
                        return
                    if pending is None:
                        pending = asyncio.ensure_future(anext(iterator))
                    # Replies still in flight keep the stream alive: look again in a while.
                    wait = min(age_left, idle_left if idle_left > 0 else 1.0)
                    # Waiting without cancelling the read: a message is never lost.
                    done, _ = await asyncio.wait({pending}, timeout=wait)
                    if not done:
                        continue
                    try:
                        request = pending.result()
                    except StopAsyncIteration:
                        return
                    finally:
                        pending = None
                    last_activity[0] = loop.time()
                    task = asyncio.create_task(self._stream_one(peer, request))
                    await window.put(task)
            finally:
                if pending is not None:
                    pending.cancel()
                await window.put(None)

        reader = asyncio.create_task(read())
        try:
            while True:
                task = await window.get()
                if task is None:
                    break
                try:
                    yield await task
                    last_activity[0] = loop.time()
                except StoreError:
                    await context.abort(grpc.StatusCode.UNAVAILABLE, "storage is unavailable")
                except (asyncio.CancelledError, grpc.aio.AbortError):
                    raise
                except Exception:
                    log.exception("stream transfer failed", peer=peer)
                    await context.abort(grpc.StatusCode.INTERNAL, "internal error")
            await reader
        finally:
            reader.cancel()
            while not window.empty():
                pending = window.get_nowait()
                if pending is not None:
                    pending.cancel()
        if ended[0] is _StreamEnd.IDLE:
            metrics.trisa_refused("stream_idle")  # an ordinary end: counted, not logged
            await context.abort(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"stream idle for {settings.stream_idle_timeout:g} s; open a new one when needed",
            )
        if ended[0] is _StreamEnd.MAX_AGE:
            metrics.trisa_refused("stream_max_age")  # an ordinary end: counted, not logged
            await context.abort(
                grpc.StatusCode.UNAVAILABLE,
                f"stream reached its maximum age of {settings.stream_max_age:g} s; "
                "messages not answered were not processed: open a new stream",
            )

    async def _stream_one(
        self, peer: str, request: api_pb2.SecureEnvelope
    ) -> api_pb2.SecureEnvelope:
        """A stream cannot abort per message: id and conversation problems become envelopes."""
        if not self.admission.take_token(peer):
            self.admission.refused(peer, "rate")
            return env.error_envelope(
                request.id,
                TrisaError(
                    f"over the rate of {self.admission.rate_of(peer)} requests per "
                    "second; this message was not processed, send it again later",
                    code=Code.UNAVAILABLE,
                    retry=True,
                ),
            )
        await self.admission.wait_work(peer)
        try:
            return await self.inbound.handle(peer, request)
        except InvalidEnvelopeIdError as exc:
            return env.error_envelope(request.id, exc)
        except ConversationNotFoundError as exc:
            return env.error_envelope(request.id, BadRequestError(exc.message))
        finally:
            await self.admission.end_work(peer)

    async def KeyExchange(
        self,
        request: api_pb2.SigningKey,
        context: grpc.aio.ServicerContext[api_pb2.SigningKey, Awaitable[api_pb2.SigningKey]],
    ) -> api_pb2.SigningKey:
        caller = await self._caller(context)
        known = await self._known_peer(context, caller)
        if known is None:
            self.admission.refused(caller.name, "unknown_peer")
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED, f"{caller.name} is not an allowed counterparty"
            )
            raise AssertionError("abort raises")  # pragma: no cover
        with await self._enter(context, known.name, Pool.RESERVE):
            try:
                key = env.sealing_key_from(request)
            except env.KeyLoadError as exc:
                await context.abort(
                    grpc.StatusCode.INVALID_ARGUMENT, f"unusable sealing key: {exc.message}"
                )
                raise
            self.keys.put(known.name, key)
            log.info("key exchange", peer=known.name, pks=env.public_key_signature(key))
            return self.credentials.signing_key

    async def ConfirmAddress(
        self,
        request: api_pb2.Address,
        context: grpc.aio.ServicerContext[api_pb2.Address, Awaitable[api_pb2.AddressConfirmation]],
    ) -> api_pb2.AddressConfirmation:
        if not self.confirm_address:
            await context.abort(
                grpc.StatusCode.UNIMPLEMENTED, "address confirmation is not offered"
            )
        peer, slot = await self._admit_network(context)
        with slot:
            return await self._confirm(peer.name, request)

    async def _confirm(self, peer: str, request: api_pb2.Address) -> api_pb2.AddressConfirmation:
        reply = api_pb2.AddressConfirmation()
        reply.address.CopyFrom(request)
        if request.confirmation != api_pb2.SIMPLE:
            reply.error.CopyFrom(
                _error(Code.UNSUPPORTED_ADDRESS_CONFIRMATION, "only SIMPLE confirmation is offered")
            )
            return reply
        if not self.limiter.allow(peer):
            reply.error.CopyFrom(
                _error(Code.CANNOT_CONFIRM_CONTROL_OF_ADDRESS, "rate limit reached; try later")
            )
            return reply
        address = request.crypto_address
        customer = (
            await self.db.read(lambda tx: tx.customer_for_address(address)) if address else None
        )
        if customer is None:
            reply.error.CopyFrom(
                _error(Code.UNKNOWN_WALLET_ADDRESS, "the address is not controlled by this VASP")
            )
            return reply
        reply.controlled_by_entity = True
        return reply


def _error(code: int, message: str) -> errors_pb2.Error:
    return errors_pb2.Error(code=code, message=message, retry=False)  # type: ignore[arg-type]


class TrisaHealthServicer(api_pb2_grpc.TRISAHealthServicer):
    """Any caller with a valid certificate may ask (TRISA health service), from the reserve pool."""

    def __init__(self, state: ServerState, admission: Admission) -> None:
        self.state = state
        self.admission = admission

    async def Status(
        self,
        request: api_pb2.HealthCheck,
        context: grpc.aio.ServicerContext[api_pb2.HealthCheck, Awaitable[api_pb2.ServiceState]],
    ) -> api_pb2.ServiceState:
        try:
            caller = self.admission.caller(context)  # type: ignore[arg-type]
            peer = self.admission.directory.get(caller.name)
            if peer is not None:  # a known name is checked against its key even here
                self.admission.check_key(peer, caller.key_digest)
            self.admission.require_token(caller.name)
            slot = self.admission.enter(caller.name, Pool.RESERVE)
        except PeerIdentityError as exc:
            self.admission.refused("", "identity")
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
            raise
        except RefusedError as refusal:
            await _refuse(self.admission, context, refusal)
        with slot:
            return self._state()

    def _state(self) -> api_pb2.ServiceState:
        now = datetime.now(UTC)
        return api_pb2.ServiceState(
            status=self.state.status,  # type: ignore[arg-type]
            not_before=env.format_timestamp_seconds(now + timedelta(minutes=5)),
            not_after=env.format_timestamp_seconds(now + timedelta(hours=1)),
        )


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    state: ServerState


async def start_server(
    network: TrisaNetworkServicer,
    credentials: Credentials,
    listen: str,
    *,
    max_concurrent_rpcs: int,
    max_message_bytes: int,
    state: ServerState | None = None,
    reuse_port: bool = False,
) -> RunningServer:
    """Serve; `max_concurrent_rpcs` is what admission lets in, grpc's cap sits above it.

    `reuse_port`: share the port with the other workers of `serve --workers N`.
    """
    state = state or ServerState()
    admission = network.admission
    if admission.settings.max_concurrent_rpcs != max_concurrent_rpcs:
        admission.settings = dataclasses.replace(
            admission.settings, max_concurrent_rpcs=max_concurrent_rpcs
        )
    server = grpc.aio.server(
        options=[
            # Alone, a second server on our port must fail, not steal; workers share it.
            ("grpc.so_reuseport", 1 if reuse_port else 0),
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.http2.min_ping_interval_without_data_ms", 30_000),
            ("grpc.keepalive_permit_without_calls", 1),
        ],
        maximum_concurrent_rpcs=admission.settings.grpc_limit,
    )
    api_pb2_grpc.add_TRISANetworkServicer_to_server(network, server)
    api_pb2_grpc.add_TRISAHealthServicer_to_server(TrisaHealthServicer(state, admission), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    services = (
        api_pb2.DESCRIPTOR.services_by_name["TRISANetwork"].full_name,
        api_pb2.DESCRIPTOR.services_by_name["TRISAHealth"].full_name,
        health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
        reflection.SERVICE_NAME,
    )
    reflection.enable_server_reflection(services, server)
    credentials_tls = grpc.ssl_server_credentials(
        [(credentials.key_pem, credentials.chain_pem)],
        root_certificates=credentials.trust_pem,
        require_client_auth=True,
    )
    try:
        port = server.add_secure_port(listen, credentials_tls)
    except RuntimeError as exc:
        raise OSError(f"cannot listen on {listen}: {exc}") from None
    await server.start()
    for service in services[:2]:
        await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, port, health_servicer, state)


async def stop_server(running: RunningServer, grace: float) -> None:
    """Graceful stop (grpc.aio graceful stop): NOT_SERVING, then drain calls within `grace`."""
    running.state.status = api_pb2.ServiceState.MAINTENANCE
    await running.health.enter_graceful_shutdown()
    await running.server.stop(grace)
