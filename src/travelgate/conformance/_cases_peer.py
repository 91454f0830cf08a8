"""Cases about the peer as a service: health, key exchange, mTLS refusals, ConfirmAddress."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import grpc
from cryptography.hazmat.primitives.asymmetric import rsa

from travelgate import envelope as env
from travelgate import pki
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate.conformance._model import Case, Finding, failed, passed
from travelgate.conformance._payloads import unknown_address
from travelgate.conformance._probe import Probe, Skip
from travelgate.conformance._wire import Answer, ClientIdentity, unary
from travelgate.errors import BadRequestError


def _status_name(status: int) -> str:
    if status in api_pb2.ServiceState.Status.values():
        return api_pb2.ServiceState.Status.Name(status)  # type: ignore[arg-type]
    return f"undefined status {status}"


def _timestamp_problems(message: object, *fields: str) -> list[str]:
    problems = []
    for name in fields:
        value = getattr(message, name)
        if value and not env.is_timestamp(value):
            problems.append(f"{name} {value!r} is not RFC 3339 with a zone")
    return problems


async def _health_status(probe: Probe) -> Finding:
    answer = await probe.health()
    if answer.transport_failure:
        return failed(
            answer.status_text(),
            f"the peer's certificate must carry the name {probe.settings.peer_name!r} (set it "
            "with --target-name), and the peer must trust the CA of our certificate",
        )
    if answer.message is None:
        return failed(answer.status_text())
    state = answer.message
    actual = f"ServiceState {_status_name(state.status)}"
    if state.not_before or state.not_after:
        actual += f", next check between {state.not_before!r} and {state.not_after!r}"
    if state.status != api_pb2.ServiceState.HEALTHY:
        return failed(actual, "the peer does not report itself ready for transfers")
    problems = _timestamp_problems(state, "not_before", "not_after")
    if problems:
        return failed(actual, "; ".join(problems))
    return passed(actual)


async def _keys_exchange(probe: Probe) -> Finding:
    answer = await probe.key_exchange()
    if answer.message is None:
        return failed(answer.status_text())
    signing_key = answer.message
    try:
        key = env.sealing_key_from(signing_key)
    except env.KeyLoadError as exc:
        return failed(f"SigningKey whose data is unusable: {exc.message}")
    actual = f"RSA-{key.key_size} sealing key {env.public_key_signature(key)}"
    algorithm = signing_key.public_key_algorithm
    if algorithm and algorithm != "RSA":
        return failed(actual, f"public_key_algorithm is {algorithm!r}, not 'RSA'")
    return passed(actual)


async def _keys_validity(probe: Probe) -> Finding:
    answer = await probe.key_exchange()
    if answer.message is None:
        raise Skip(f"KeyExchange failed ({answer.status_text()}); see keys.exchange")
    signing_key = answer.message
    now = datetime.now(UTC)
    actual = (
        f"not_before {signing_key.not_before!r}, not_after {signing_key.not_after!r}, "
        f"revoked {str(signing_key.revoked).lower()}"
    )
    problems = []
    if signing_key.revoked:
        problems.append("the key is marked revoked")
    try:
        if env.parse_timestamp(signing_key.not_after, field="not_after") <= now:
            problems.append("not_after is in the past")
    except BadRequestError as exc:
        problems.append(exc.message)
    if signing_key.not_before:
        try:
            if env.parse_timestamp(signing_key.not_before, field="not_before") > now:
                problems.append("not_before is in the future")
        except BadRequestError as exc:
            problems.append(exc.message)
    return failed(actual, "; ".join(problems)) if problems else passed(actual)


async def _keys_unparseable(probe: Probe) -> Finding:
    await probe.require_reachable()
    bogus = api_pb2.SigningKey(
        version=3, public_key_algorithm="RSA", data=b"conformance: this is not a key"
    )
    answer: Answer[api_pb2.SigningKey] = await unary(
        probe.wire.network().KeyExchange, bogus, deadline=probe.timeout
    )
    if answer.code == grpc.StatusCode.INVALID_ARGUMENT:
        return passed(answer.status_text())
    if answer.message is not None:
        return failed("a SigningKey came back: the unusable key was accepted")
    return failed(answer.status_text())


async def _confirm_address(probe: Probe) -> Finding:
    await probe.require_reachable()
    request = api_pb2.Address(
        confirmation=api_pb2.SIMPLE, crypto_address=unknown_address(), network="BTC"
    )
    answer: Answer[api_pb2.AddressConfirmation] = await unary(
        probe.wire.network().ConfirmAddress, request, deadline=probe.timeout
    )
    if answer.code == grpc.StatusCode.UNIMPLEMENTED:
        return passed(answer.status_text())
    if answer.message is None:
        return failed(answer.status_text())
    reply = answer.message
    if reply.address.crypto_address != request.crypto_address:
        return failed("an AddressConfirmation that does not echo the queried address")
    if reply.controlled_by_entity:
        return failed(
            "the peer claims to control an address made up by the suite",
            "an address nobody controls must not be confirmed",
        )
    if not reply.HasField("error"):
        return failed("an AddressConfirmation with neither a confirmation nor an error")
    return passed(f"AddressConfirmation refusing with error code {reply.error.code}")


@asynccontextmanager
async def _channel(probe: Probe, identity: ClientIdentity) -> AsyncIterator[grpc.aio.Channel]:
    channel = probe.wire.open_channel(identity)
    try:
        yield channel
    finally:
        await channel.close()


async def _refused(probe: Probe, identity: ClientIdentity) -> Finding:
    async with _channel(probe, identity) as channel:
        answer: Answer[api_pb2.ServiceState] = await unary(
            probe.wire.health(channel).Status, api_pb2.HealthCheck(), deadline=probe.timeout
        )
    if answer.code == grpc.StatusCode.UNAVAILABLE:
        return passed(answer.status_text())
    if answer.message is not None:
        return failed("the call was answered: the handshake accepted the client")
    return failed(answer.status_text())


async def _no_client_cert(probe: Probe) -> Finding:
    await probe.require_reachable()
    return await _refused(probe, ClientIdentity(probe.credentials.trust_pem))


def _stranger(probe: Probe) -> ClientIdentity:
    """Our own name, but certified by a CA the peer has never heard of.

    Our TLS key signs both the throwaway CA and the leaf: no key has to be generated, and
    the only thing wrong with the certificate is who issued it.
    """
    key = env.load_private_key(probe.credentials.key_pem)
    assert isinstance(key, rsa.RSAPrivateKey)
    authority = pki.make_authority("travelgate conformance stranger CA", key=key)
    identity = pki.issue_identity(authority, probe.credentials.name, key=key)
    return ClientIdentity(probe.credentials.trust_pem, identity.key_pem, identity.chain_pem)


async def _foreign_ca(probe: Probe) -> Finding:
    await probe.require_reachable()
    return await _refused(probe, _stranger(probe))


HEALTH_AND_KEYS = (
    Case(
        "health.status",
        "TRISAHealth.Status over mTLS reports HEALTHY, with RFC 3339 check windows",
        "ServiceState HEALTHY, gRPC OK",
        "5.6",
        _health_status,
    ),
    Case(
        "keys.exchange",
        "KeyExchange with our SigningKey returns the peer's usable RSA sealing key",
        "SigningKey whose data is an RSA key of at least 2048 bits, gRPC OK",
        "5.4, 4.5",
        _keys_exchange,
    ),
    Case(
        "keys.validity",
        "the exchanged key is not revoked and its certificate is valid now",
        "revoked false, not_before <= now < not_after (RFC 3339)",
        "5.4, 4.9",
        _keys_validity,
    ),
)

SERVICE = (
    Case(
        "keys.unparseable",
        "KeyExchange with key data that is not a key",
        "gRPC INVALID_ARGUMENT",
        "5.4, 6.4",
        _keys_unparseable,
    ),
    Case(
        "confirm_address.answer",
        "ConfirmAddress for an address nobody controls",
        "gRPC UNIMPLEMENTED, or an AddressConfirmation refusing with an error",
        "5.7, 6.4",
        _confirm_address,
    ),
)

TLS = (
    Case(
        "tls.no_client_cert",
        "a client without a certificate is refused in the TLS handshake",
        "gRPC UNAVAILABLE (no RPC reaches the peer)",
        "5.1, 6.1 step 0, 13.4",
        _no_client_cert,
    ),
    Case(
        "tls.foreign_ca",
        "a client whose certificate comes from another CA is refused in the handshake",
        "gRPC UNAVAILABLE (no RPC reaches the peer)",
        "5.1, 6.1 step 0",
        _foreign_ca,
    ),
)
