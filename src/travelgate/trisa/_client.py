"""The TRISA client: mTLS channels per peer, deadlines, retries, KeyExchange and key cache.

Only UNAVAILABLE and RESOURCE_EXHAUSTED (the request was not processed: the peer was
unreachable, or its admission refused the call before any work) are retried automatically,
with jittered backoff; Transfer is
idempotent on the peer's side by content (TRISA duplicate envelopes), so callers may also resend the
same stored bytes after a deadline. Legacy peers that answer with gRPC errors carrying a
TRISA error are read as error envelopes (legacy TRISA peers).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass
from typing import Any

import grpc
from cryptography.hazmat.primitives.asymmetric import rsa

from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2, api_pb2_grpc, errors_pb2
from travelgate.errors import (
    NoSigningKeyError,
    PeerUnavailableError,
)
from travelgate.trisa._credentials import Credentials
from travelgate.trisa._directory import Peer

KEEPALIVE_MS = 60_000
PINNED_FALLBACK_TTL = 300.0
# Statuses that say the peer did not process the request, so sending it again is safe.
_NOT_PROCESSED = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})
_LEGACY_REJECTION = re.compile(r"trisa rejection \[([A-Z0-9_]+)\]: ?(.*)", re.DOTALL)


class PeerKeys:
    """Sealing keys learned by KeyExchange, per peer CN, for at most `ttl` seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._keys: dict[str, tuple[rsa.RSAPublicKey, float]] = {}

    def get(self, name: str) -> rsa.RSAPublicKey | None:
        entry = self._keys.get(name)
        if entry is None or time.monotonic() > entry[1]:
            return None
        return entry[0]

    def put(self, name: str, key: rsa.RSAPublicKey, *, ttl: float | None = None) -> None:
        self._keys[name] = (key, time.monotonic() + (self.ttl if ttl is None else ttl))

    def forget(self, name: str) -> None:
        self._keys.pop(name, None)


@dataclass(frozen=True)
class ClientSettings:
    timeout: float = 30.0
    max_message_bytes: int = 4 * 1024 * 1024
    attempts: int = 3
    backoff: float = 0.2


class TrisaClient:
    def __init__(
        self, credentials: Credentials, keys: PeerKeys, settings: ClientSettings | None = None
    ) -> None:
        self.credentials = credentials
        self.keys = keys
        self.settings = settings or ClientSettings()
        self._channels: dict[tuple[str, str], grpc.aio.Channel] = {}
        self._exchanges: dict[str, asyncio.Future[rsa.RSAPublicKey]] = {}
        self._closing: set[asyncio.Future[None]] = set()
        self._tls = grpc.ssl_channel_credentials(
            root_certificates=credentials.trust_pem,
            private_key=credentials.key_pem,
            certificate_chain=credentials.chain_pem,
        )

    def channel(self, peer: Peer) -> grpc.aio.Channel:
        # Keyed by endpoint too: a directory refresh that moves a peer gets a new channel.
        channel = self._channels.get((peer.name, peer.endpoint))
        if channel is None:
            for stale in [key for key in self._channels if key[0] == peer.name]:
                self._closing.add(asyncio.ensure_future(self._channels.pop(stale).close()))
            limit = self.settings.max_message_bytes
            channel = grpc.aio.secure_channel(
                peer.endpoint,
                self._tls,
                options=[
                    # The peer must prove the identity the directory names, whatever the
                    # host part of its endpoint (an IP address in test and dev setups).
                    ("grpc.ssl_target_name_override", peer.name),
                    ("grpc.default_authority", peer.name),
                    ("grpc.keepalive_time_ms", KEEPALIVE_MS),
                    ("grpc.keepalive_permit_without_calls", 0),
                    ("grpc.max_send_message_length", limit),
                    ("grpc.max_receive_message_length", limit),
                    ("grpc.primary_user_agent", "travelgate"),
                ],
            )
            self._channels[(peer.name, peer.endpoint)] = channel
        return channel

    def stub(self, peer: Peer) -> api_pb2_grpc.TRISANetworkStub:
        return api_pb2_grpc.TRISANetworkStub(self.channel(peer))

    async def close(self) -> None:
        channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            await channel.close()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def _call(self, peer: Peer, rpc: str, request: object, deadline: float | None) -> Any:
        timeout = deadline or self.settings.timeout
        delay = self.settings.backoff
        for attempt in range(1, self.settings.attempts + 1):
            method = getattr(self.stub(peer), rpc)
            try:
                return await method(request, timeout=timeout)
            except grpc.aio.AioRpcError as exc:
                if exc.code() in _NOT_PROCESSED and attempt < self.settings.attempts:
                    # Jitter spreads callers that were refused together.
                    await asyncio.sleep(delay * (0.5 + random.random()))
                    delay *= 2
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def key_exchange(self, peer: Peer, *, deadline: float | None = None) -> rsa.RSAPublicKey:
        """Exchange sealing keys with `peer` and cache theirs (one call in flight per peer)."""
        pending = self._exchanges.get(peer.name)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[rsa.RSAPublicKey] = asyncio.get_running_loop().create_future()
        self._exchanges[peer.name] = future
        try:
            try:
                reply: api_pb2.SigningKey = await self._call(
                    peer, "KeyExchange", self.credentials.signing_key, deadline
                )
            except grpc.aio.AioRpcError as exc:
                raise PeerUnavailableError(peer.name, exc.code(), exc.details() or "") from None
            try:
                key = env.sealing_key_from(reply)
            except env.KeyLoadError as exc:
                raise NoSigningKeyError(
                    f"{peer.name} sent an unusable sealing key: {exc.message}"
                ) from None
            self.keys.put(peer.name, key)
            future.set_result(key)
            return key
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: callers that joined late re-raise it
            raise
        finally:
            del self._exchanges[peer.name]

    async def sealing_key(
        self, peer: Peer, *, refresh: bool = False, deadline: float | None = None
    ) -> rsa.RSAPublicKey:
        """The key to seal to `peer`: cache, else KeyExchange, else the pinned certificate."""
        if not refresh:
            cached = self.keys.get(peer.name)
            if cached is not None:
                return cached
        try:
            return await self.key_exchange(peer, deadline=deadline)
        except (PeerUnavailableError, NoSigningKeyError):
            if peer.pinned_key is not None:
                # Remember the fallback for a while, or every message would wait for a
                # failing KeyExchange first.
                self.keys.put(peer.name, peer.pinned_key, ttl=PINNED_FALLBACK_TTL)
                return peer.pinned_key
            raise NoSigningKeyError(
                f"no sealing key for {peer.name}: key exchange failed and none is pinned"
            ) from None

    async def transfer(
        self, peer: Peer, envelope: api_pb2.SecureEnvelope, *, deadline: float | None = None
    ) -> api_pb2.SecureEnvelope:
        """One Transfer RPC; a legacy gRPC rejection comes back as an error envelope."""
        try:
            reply: api_pb2.SecureEnvelope = await self._call(peer, "Transfer", envelope, deadline)
            return reply
        except grpc.aio.AioRpcError as exc:
            legacy = legacy_error(exc)
            if legacy is not None:
                return env.error_envelope(envelope.id, legacy)
            raise PeerUnavailableError(peer.name, exc.code(), exc.details() or "") from None

    async def health(self, peer: Peer, *, deadline: float | None = None) -> api_pb2.ServiceState:
        stub = api_pb2_grpc.TRISAHealthStub(self.channel(peer))
        try:
            reply: api_pb2.ServiceState = await stub.Status(
                api_pb2.HealthCheck(), timeout=deadline or self.settings.timeout
            )
            return reply
        except grpc.aio.AioRpcError as exc:
            raise PeerUnavailableError(peer.name, exc.code(), exc.details() or "") from None


def legacy_error(exc: grpc.aio.AioRpcError) -> errors_pb2.Error | None:
    """Read a TRISA Error out of a gRPC error status (legacy TRISA peers), if it carries one."""
    from grpc_status import rpc_status

    status = rpc_status.from_call(exc)
    if status is not None:
        for detail in status.details:
            error = errors_pb2.Error()
            if detail.Is(error.DESCRIPTOR):
                detail.Unpack(error)
                return error
    if exc.code() == grpc.StatusCode.UNKNOWN:
        match = _LEGACY_REJECTION.match(exc.details() or "")
        if match:
            try:
                code = errors_pb2.Error.Code.Value(match.group(1))
            except ValueError:
                return None
            retry = (
                code in (errors_pb2.Error.NO_SIGNING_KEY, errors_pb2.Error.INVALID_KEY)
                or code >= 150
            )
            return errors_pb2.Error(code=code, message=match.group(2) or "rejected", retry=retry)
    return None
