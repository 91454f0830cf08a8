"""The tester's side of the wire: mTLS channels to the target and calls that never raise.

Every call comes back as an `Answer` (the reply, or the gRPC status it ended with), so a
peer that hangs, refuses or answers garbage becomes a finding, never an exception. The
TrisaClient of the node is not used on purpose: it retries and reads legacy gRPC
rejections as error envelopes, which would hide exactly what the suite must see.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc

from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2, api_pb2_grpc, errors_pb2
from travelgate.errors import Code
from travelgate.trisa import legacy_error

M = TypeVar("M")

TRANSPORT_FAILURES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
_MAX_TEXT = 200


def code_label(code: int) -> str:
    """`INVALID_SIGNATURE (105)`; an undefined number reads as just the number."""
    try:
        return f"{Code.Name(code)} ({code})"  # type: ignore[arg-type]
    except ValueError:
        return f"undefined code {code}"


def state_label(state: int) -> str:
    if state in api_pb2.TransferState.values():
        return api_pb2.TransferState.Name(state)  # type: ignore[arg-type]
    return f"undefined state {state}"


def clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def describe_envelope(envelope: api_pb2.SecureEnvelope) -> str:
    """One line an operator can read: the kind of envelope, its code or state."""
    state = state_label(envelope.transfer_state)
    if env.has_error(envelope):
        error = envelope.error
        retry = "true" if error.retry else "false"
        extra = " with a payload" if envelope.payload else ""
        return (
            f"error envelope{extra} {code_label(error.code)}, retry={retry}, state {state}: "
            f"{clip(error.message)!r}"
        )
    if not envelope.payload:
        return f"envelope with neither payload nor error, state {state}"
    if not envelope.sealed:
        return f"unsealed envelope, state {state}"
    return f"sealed envelope, state {state}"


@dataclass(frozen=True)
class Answer(Generic[M]):
    """The outcome of one unary call: the reply with gRPC OK, or the status it ended with."""

    message: M | None
    code: grpc.StatusCode
    details: str = ""
    legacy: errors_pb2.Error | None = None

    @property
    def ok(self) -> bool:
        return self.code == grpc.StatusCode.OK and self.message is not None

    @property
    def transport_failure(self) -> bool:
        return self.code in TRANSPORT_FAILURES

    def status_text(self) -> str:
        text = f"gRPC {self.code.name}"
        if self.details:
            text += f": {clip(self.details)}"
        if self.legacy is not None:
            text += f" (carries TRISA error {code_label(self.legacy.code)})"
        return text


@dataclass(frozen=True)
class StreamAnswer:
    """What came back on a TransferStream before it ended, and how it ended."""

    replies: tuple[api_pb2.SecureEnvelope, ...]
    code: grpc.StatusCode
    details: str = ""


def describe(answer: Answer[api_pb2.SecureEnvelope]) -> str:
    if answer.message is None:
        return answer.status_text()
    return describe_envelope(answer.message)


@dataclass(frozen=True)
class ClientIdentity:
    """The TLS material a channel presents: trust pool, and optionally a key and chain."""

    trust_pem: bytes
    key_pem: bytes | None = None
    chain_pem: bytes | None = None


class Wire:
    """Channels to one target, named by the TLS server name its certificate must carry."""

    def __init__(
        self, target: str, server_name: str, identity: ClientIdentity, *, max_message_bytes: int
    ) -> None:
        self.target = target
        self.server_name = server_name
        self.identity = identity
        self.max_message_bytes = max_message_bytes
        self._channels: list[grpc.aio.Channel] = []
        self._main: grpc.aio.Channel | None = None

    def open_channel(self, identity: ClientIdentity) -> grpc.aio.Channel:
        """A fresh channel presenting `identity` (closed with the wire)."""
        credentials = grpc.ssl_channel_credentials(
            root_certificates=identity.trust_pem,
            private_key=identity.key_pem,
            certificate_chain=identity.chain_pem,
        )
        limit = self.max_message_bytes
        channel = grpc.aio.secure_channel(
            self.target,
            credentials,
            options=[
                # The target is often an address; the certificate names the peer.
                ("grpc.ssl_target_name_override", self.server_name),
                ("grpc.default_authority", self.server_name),
                ("grpc.max_send_message_length", limit),
                ("grpc.max_receive_message_length", limit),
                ("grpc.primary_user_agent", "travelgate-conformance"),
            ],
        )
        self._channels.append(channel)
        return channel

    @property
    def channel(self) -> grpc.aio.Channel:
        if self._main is None:
            self._main = self.open_channel(self.identity)
        return self._main

    def network(self, channel: grpc.aio.Channel | None = None) -> api_pb2_grpc.TRISANetworkStub:
        return api_pb2_grpc.TRISANetworkStub(channel or self.channel)

    def health(self, channel: grpc.aio.Channel | None = None) -> api_pb2_grpc.TRISAHealthStub:
        return api_pb2_grpc.TRISAHealthStub(channel or self.channel)

    async def close(self) -> None:
        channels, self._channels, self._main = self._channels, [], None
        for channel in channels:
            await channel.close()


async def unary(
    method: Callable[..., Awaitable[Any]], request: object, *, deadline: float
) -> Answer[Any]:
    """Call `method` once, `deadline` seconds at most; a gRPC error becomes the status."""
    try:
        reply = await method(request, timeout=deadline)
    except grpc.aio.AioRpcError as exc:
        return Answer(None, exc.code(), exc.details() or "", _legacy(exc))
    return Answer(reply, grpc.StatusCode.OK)


def _legacy(exc: grpc.aio.AioRpcError) -> errors_pb2.Error | None:
    try:
        return legacy_error(exc)
    except Exception:  # a malformed status-details trailer is itself just a status
        return None


async def stream(
    stub: api_pb2_grpc.TRISANetworkStub,
    requests: Sequence[api_pb2.SecureEnvelope],
    *,
    deadline: float,
) -> StreamAnswer:
    """Send every request on one TransferStream, half-close, and read until it ends."""
    replies: list[api_pb2.SecureEnvelope] = []
    call = stub.TransferStream(iter(requests), timeout=deadline)
    try:
        async for reply in call:
            replies.append(reply)
    except grpc.aio.AioRpcError as exc:
        return StreamAnswer(tuple(replies), exc.code(), exc.details() or "")
    return StreamAnswer(tuple(replies), grpc.StatusCode.OK)
