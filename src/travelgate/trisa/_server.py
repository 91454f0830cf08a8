"""The TRISA gRPC server: thin servicers over the inbound service, mTLS, limits, health.

Peer identity comes from the verified client certificate (TRISA peer identity): the leaf's CN,
which must also be one of its DNS names. A client without a certificate never reaches a
handler (the handshake fails). Compliance outcomes are envelopes with status OK; only
transport, authentication and malformed calls are gRPC statuses (TRISA errors as envelopes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2, api_pb2_grpc, errors_pb2
from travelgate.errors import Code, InvalidEnvelopeIdError, StoreError
from travelgate.store import Database
from travelgate.trisa._client import PeerKeys
from travelgate.trisa._credentials import Credentials
from travelgate.trisa._directory import Directory
from travelgate.trisa._exchange import ConversationNotFoundError
from travelgate.trisa._inbound import InboundService

log = structlog.get_logger("travelgate.trisa")

STREAM_WINDOW = 8
Context = grpc.aio.ServicerContext


class PeerIdentityError(Exception):
    """The caller's certificate does not name a usable peer."""


def peer_name(context: grpc.aio.ServicerContext[object, object]) -> str:
    """The caller's CN, required to be among its DNS SANs (stricter than the reference)."""
    auth = context.auth_context()
    names = list(auth.get("x509_common_name") or [])
    if not names:
        raise PeerIdentityError("no verified client certificate common name")
    try:
        name: str = names[0].decode("ascii")
    except UnicodeDecodeError:
        raise PeerIdentityError("client certificate common name is not ASCII") from None
    sans = {
        value.decode("ascii", "replace")
        for value in auth.get("x509_subject_alternative_name") or []
    }
    if name not in sans:
        raise PeerIdentityError("client certificate common name is not one of its DNS names")
    return name


async def _authenticate(context: grpc.aio.ServicerContext[object, object]) -> str:
    try:
        return peer_name(context)
    except PeerIdentityError as exc:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
        raise  # abort raises; this keeps the type checker informed


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


class TrisaNetworkServicer(api_pb2_grpc.TRISANetworkServicer):
    def __init__(
        self,
        inbound: InboundService,
        credentials: Credentials,
        keys: PeerKeys,
        directory: Directory,
        db: Database,
        *,
        confirm_address: bool = False,
        confirm_per_minute: int = 30,
        errors_as_status: bool = False,
    ) -> None:
        self.inbound = inbound
        self.credentials = credentials
        self.keys = keys
        self.directory = directory
        self.db = db
        self.confirm_address = confirm_address
        self.limiter = RateLimiter(confirm_per_minute)
        # Only a deliberately broken robot sets this: it answers compliance outcomes as gRPC
        # statuses, the way legacy peers do (legacy TRISA peers), for the conformance suite.
        self.errors_as_status = errors_as_status

    async def Transfer(
        self,
        request: api_pb2.SecureEnvelope,
        context: grpc.aio.ServicerContext[
            api_pb2.SecureEnvelope, Awaitable[api_pb2.SecureEnvelope]
        ],
    ) -> api_pb2.SecureEnvelope:
        peer = await _authenticate(context)  # type: ignore[arg-type]
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
        peer = await _authenticate(context)  # type: ignore[arg-type]
        window: asyncio.Queue[asyncio.Task[api_pb2.SecureEnvelope] | None] = asyncio.Queue(
            STREAM_WINDOW
        )

        async def read() -> None:
            try:
                async for request in request_iterator:
                    task = asyncio.create_task(self._stream_one(peer, request))
                    await window.put(task)
            finally:
                await window.put(None)

        reader = asyncio.create_task(read())
        try:
            while True:
                task = await window.get()
                if task is None:
                    break
                try:
                    yield await task
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

    async def _stream_one(
        self, peer: str, request: api_pb2.SecureEnvelope
    ) -> api_pb2.SecureEnvelope:
        """A stream cannot abort per message: id and conversation problems become envelopes."""
        try:
            return await self.inbound.handle(peer, request)
        except InvalidEnvelopeIdError as exc:
            return env.error_envelope(request.id, exc)
        except ConversationNotFoundError as exc:
            from travelgate.errors import BadRequestError

            return env.error_envelope(request.id, BadRequestError(exc.message))

    async def KeyExchange(
        self,
        request: api_pb2.SigningKey,
        context: grpc.aio.ServicerContext[api_pb2.SigningKey, Awaitable[api_pb2.SigningKey]],
    ) -> api_pb2.SigningKey:
        peer = await _authenticate(context)  # type: ignore[arg-type]
        known = self.directory.get(peer)
        if known is None or known.blocked:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED, f"{peer} is not an allowed counterparty"
            )
        try:
            key = env.sealing_key_from(request)
        except env.KeyLoadError as exc:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"unusable sealing key: {exc.message}"
            )
            raise
        self.keys.put(peer, key)
        log.info("key exchange", peer=peer, pks=env.public_key_signature(key))
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
        peer = await _authenticate(context)  # type: ignore[arg-type]
        reply = api_pb2.AddressConfirmation()
        reply.address.CopyFrom(request)
        known = self.directory.get(peer)
        if known is None or known.blocked:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED, f"{peer} is not an allowed counterparty"
            )
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
    def __init__(self, state: ServerState) -> None:
        self.state = state

    async def Status(
        self,
        request: api_pb2.HealthCheck,
        context: grpc.aio.ServicerContext[api_pb2.HealthCheck, Awaitable[api_pb2.ServiceState]],
    ) -> api_pb2.ServiceState:
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
) -> RunningServer:
    state = state or ServerState()
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", 0),  # a second server on our port must fail, not steal
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.http2.min_ping_interval_without_data_ms", 30_000),
            ("grpc.keepalive_permit_without_calls", 1),
        ],
        maximum_concurrent_rpcs=max_concurrent_rpcs,
    )
    api_pb2_grpc.add_TRISANetworkServicer_to_server(network, server)
    api_pb2_grpc.add_TRISAHealthServicer_to_server(TrisaHealthServicer(state), server)
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
