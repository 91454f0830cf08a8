"""Who may talk to a node, and what a hostile or broken envelope gets back (TRISA mTLS and peer identity; TRISA receive-side checks).

Every refusal is checked on the wire and in the database: nothing is stored for a caller
that is not allowed, and no tamper case crashes the server or leaks a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from support.nodes import ALICE, ALICE_ADDRESS, BOB, BOB_ADDRESS, Cluster, TestPki, two_node_specs
from support.payloads import identity, transfer_payload
from travelgate import envelope as env
from travelgate import pki
from travelgate._pb.trisa.api.v1beta1 import api_pb2, api_pb2_grpc, errors_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2
from travelgate.errors import Code

Mutation = Callable[[api_pb2.SecureEnvelope], None]


async def _count(cluster: Cluster, name: str, table: str) -> int:
    return await cluster.nodes[name].gateway.db.read(lambda tx: tx.count(table))


async def _transfer(
    cluster: Cluster, identity: pki.Identity | None, envelope: api_pb2.SecureEnvelope
) -> api_pb2.SecureEnvelope:
    channel = cluster.channel(BOB, identity)
    try:
        stub = api_pb2_grpc.TRISANetworkStub(channel)
        reply: api_pb2.SecureEnvelope = await stub.Transfer(envelope, timeout=10)
        return reply
    finally:
        await channel.close()


async def _sealed_for_bob(cluster: Cluster) -> api_pb2.SecureEnvelope:
    bob = cluster.nodes[BOB]
    return env.seal(transfer_payload(), bob.gateway.credentials.sealing_key.public_key())


@pytest.fixture
async def started(cluster: Cluster) -> Cluster:
    await cluster.start(*two_node_specs())
    return cluster


async def test_client_without_certificate_never_reaches_a_handler(started: Cluster) -> None:
    envelope = await _sealed_for_bob(started)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _transfer(started, None, envelope)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert await _count(started, BOB, "envelopes") == 0


async def test_certificate_from_another_ca_is_refused(started: Cluster, test_pki: TestPki) -> None:
    other_ca = pki.make_authority("some other CA", key_size=2048)
    stranger = test_pki.identity(ALICE, ca=other_ca)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _transfer(started, stranger, await _sealed_for_bob(started))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert await _count(started, BOB, "envelopes") == 0


async def test_expired_certificate_is_refused(started: Cluster, test_pki: TestPki) -> None:
    expired = test_pki.identity(
        ALICE, not_after=datetime.now(UTC) - timedelta(days=1), valid_days=30
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _transfer(started, expired, await _sealed_for_bob(started))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert await _count(started, BOB, "envelopes") == 0


async def test_cn_not_in_the_directory_is_forbidden_and_nothing_is_stored(
    started: Cluster, test_pki: TestPki
) -> None:
    mallory = test_pki.identity("mallory.example")
    envelope = await _sealed_for_bob(started)
    reply = await _transfer(started, mallory, envelope)
    assert reply.id == envelope.id
    assert (reply.error.code, reply.error.retry) == (Code.FORBIDDEN, False)
    assert reply.transfer_state == api_pb2.REJECTED
    assert not reply.payload
    for table in ("envelopes", "conversations"):
        assert await _count(started, BOB, table) == 0


async def test_cn_missing_from_the_dns_names_is_unauthenticated(
    started: Cluster, test_pki: TestPki
) -> None:
    odd = test_pki.identity(ALICE, dns_names=["elsewhere.example"])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _transfer(started, odd, await _sealed_for_bob(started))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert await _count(started, BOB, "envelopes") == 0


async def test_key_exchange_from_an_unknown_peer_is_denied(
    started: Cluster, test_pki: TestPki
) -> None:
    mallory = test_pki.identity("mallory.example")
    channel = started.channel(BOB, mallory)
    try:
        stub = api_pb2_grpc.TRISANetworkStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.KeyExchange(env.signing_key_for(mallory.certificate), timeout=10)
    finally:
        await channel.close()
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_key_exchange_with_an_unusable_key_is_invalid_argument(
    started: Cluster, test_pki: TestPki
) -> None:
    alice = test_pki.identity(ALICE)
    channel = started.channel(BOB, alice)
    try:
        stub = api_pb2_grpc.TRISANetworkStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.KeyExchange(api_pb2.SigningKey(data=b"not a key"), timeout=10)
        small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()  # noqa: S505 - deliberately too small
        with pytest.raises(grpc.aio.AioRpcError) as small_caught:
            await stub.KeyExchange(api_pb2.SigningKey(data=env.spki_der(small)), timeout=10)
        reply = await stub.KeyExchange(env.signing_key_for(alice.certificate), timeout=10)
    finally:
        await channel.close()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert small_caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bob = started.nodes[BOB].gateway.credentials
    assert reply.data == env.spki_der(bob.sealing_key.public_key())
    assert reply.version == 3
    assert reply.public_key_algorithm == "RSA"


def _flip(name: str, index: int = 3) -> Mutation:
    def mutate(envelope: api_pb2.SecureEnvelope) -> None:
        value = getattr(envelope, name)
        setattr(envelope, name, value[:index] + bytes([value[index] ^ 1]) + value[index + 1 :])

    return mutate


def _set(name: str, value: object) -> Mutation:
    def mutate(envelope: api_pb2.SecureEnvelope) -> None:
        setattr(envelope, name, value)

    return mutate


TAMPER: list[tuple[str, Mutation, int, bool]] = [
    ("payload bit", _flip("payload"), Code.INVALID_SIGNATURE, False),
    ("hmac", _flip("hmac"), Code.INVALID_SIGNATURE, False),
    ("encryption_key", _flip("encryption_key"), Code.INVALID_KEY, True),
    ("hmac_secret", _flip("hmac_secret"), Code.INVALID_KEY, True),
    ("truncated payload", _set("payload", b"\1" * 20), Code.INVALID_SIGNATURE, False),
    ("AES128-GCM", _set("encryption_algorithm", "AES128-GCM"), Code.UNHANDLED_ALGORITHM, False),
    ("HMAC-SHA1", _set("hmac_algorithm", "HMAC-SHA1"), Code.UNHANDLED_ALGORITHM, False),
    ("unknown PKS", _set("public_key_signature", "SHA256:" + "A" * 43), Code.INVALID_KEY, True),
    ("empty timestamp", _set("timestamp", ""), Code.BAD_REQUEST, False),
    ("unsealed", _set("sealed", False), Code.BAD_REQUEST, False),
    ("no hmac secret", _set("hmac_secret", b""), Code.BAD_REQUEST, False),
]


@pytest.mark.parametrize(
    ("mutation", "code", "retry"), [t[1:] for t in TAMPER], ids=[t[0] for t in TAMPER]
)
async def test_tampered_envelopes_get_error_envelopes_over_the_wire(
    started: Cluster, test_pki: TestPki, mutation: Mutation, code: int, retry: bool
) -> None:
    envelope = await _sealed_for_bob(started)
    mutation(envelope)
    reply = await _transfer(started, test_pki.identity(ALICE), envelope)
    assert reply.id == envelope.id
    assert (reply.error.code, reply.error.retry) == (code, retry)
    assert reply.transfer_state == (api_pb2.REPAIR if retry else api_pb2.REJECTED)
    assert "Traceback" not in reply.error.message
    # The server is still healthy after every tamper case.
    after = await _transfer(started, test_pki.identity(ALICE), await _sealed_for_bob(started))
    assert after.transfer_state == api_pb2.ACCEPTED


async def test_valid_hmac_over_a_corrupted_payload_is_invalid_key(
    started: Cluster, test_pki: TestPki
) -> None:
    bob_key = started.nodes[BOB].gateway.credentials.sealing_key
    envelope = await _sealed_for_bob(started)
    _key, secret = env.unseal_secrets(envelope, bob_key)
    _flip("payload")(envelope)
    envelope.hmac = hmac.new(secret, envelope.payload, hashlib.sha256).digest()
    reply = await _transfer(started, test_pki.identity(ALICE), envelope)
    assert (reply.error.code, reply.error.retry) == (Code.INVALID_KEY, False)


@pytest.mark.parametrize("envelope_id", ["", "not-a-uuid"])
async def test_invalid_envelope_id_is_invalid_argument(
    started: Cluster, test_pki: TestPki, envelope_id: str
) -> None:
    envelope = await _sealed_for_bob(started)
    envelope.id = envelope_id
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _transfer(started, test_pki.identity(ALICE), envelope)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_error_envelope_for_an_unknown_conversation_is_not_found(
    started: Cluster, test_pki: TestPki
) -> None:
    envelope = env.error_envelope(
        env.new_envelope_id(), errors_pb2.Error(code=Code.REJECTED, message="no", retry=False)
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _transfer(started, test_pki.identity(ALICE), envelope)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_error_envelope_for_a_known_conversation_is_echoed(
    started: Cluster, test_pki: TestPki
) -> None:
    alice = started.nodes[ALICE]
    envelope_id = env.new_envelope_id()
    result = await alice.gateway.outbound.send(
        BOB, envelope_id=envelope_id, state=api_pb2.STARTED, payload=transfer_payload()
    )
    assert result.reply.transfer_state == api_pb2.ACCEPTED
    cancel = env.error_envelope(
        envelope_id,
        errors_pb2.Error(code=Code.CANCELED, message="the customer cancelled", retry=False),
    )
    reply = await _transfer(started, test_pki.identity(ALICE), cancel)
    assert reply.error == cancel.error
    assert reply.transfer_state == api_pb2.REJECTED
    states = await started.nodes[BOB].gateway.db.read(
        lambda tx: [(c.state,) for c in tx.conversations()]
    )
    assert states == [("CANCELED",)]


@pytest.mark.parametrize(
    ("payload_change", "code"),
    [
        ("identity", Code.MISSING_FIELDS),
        ("invalid_ivms", Code.INCOMPLETE_IDENTITY),
        ("bad_country", Code.VALIDATION_ERROR),
    ],
)
async def test_payload_and_identity_problems_ask_for_repair(
    started: Cluster, test_pki: TestPki, payload_change: str, code: int
) -> None:
    payload = transfer_payload()
    if payload_change == "identity":
        payload.ClearField("identity")
    else:
        parts = env.check_payload(payload)
        identity = parts.identity
        if payload_change == "invalid_ivms":
            del identity.originator.originator_persons[:]
        else:
            identity.originator.originator_persons[0].natural_person.country_of_residence = "UK"
        payload.identity.CopyFrom(env.pack(identity))
    bob_key = started.nodes[BOB].gateway.credentials.sealing_key.public_key()
    envelope = env.seal(payload, bob_key, validate=False)
    reply = await _transfer(started, test_pki.identity(ALICE), envelope)
    assert (reply.error.code, reply.error.retry) == (code, True)
    assert reply.transfer_state == api_pb2.REPAIR


async def test_confirm_address_is_unimplemented_by_default(
    started: Cluster, test_pki: TestPki
) -> None:
    channel = started.channel(BOB, test_pki.identity(ALICE))
    try:
        stub = api_pb2_grpc.TRISANetworkStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ConfirmAddress(api_pb2.Address(crypto_address="x"), timeout=10)
    finally:
        await channel.close()
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize(
    ("amount", "extra_json"),
    [
        (0.5, '{"amount_exact": "1_0"}'),
        (0.5, '{"amount_exact": "1E+999999999"}'),
        (0.5, '{"amount_exact": "\\u0661"}'),
        (float("inf"), ""),
        (-1.0, ""),
    ],
)
async def test_an_amount_we_cannot_represent_exactly_is_a_validation_error(
    started: Cluster, test_pki: TestPki, amount: float, extra_json: str
) -> None:
    transaction = transaction_pb2.Transaction(
        originator=ALICE_ADDRESS,
        beneficiary=BOB_ADDRESS,
        amount=amount,
        extra_json=extra_json,
        network="BTC",
        asset_type="BTC",
    )
    payload = env.make_payload(identity(), transaction, sent_at=env.format_timestamp())
    bob = started.nodes[BOB]
    envelope = env.seal(payload, bob.gateway.credentials.sealing_key.public_key())
    reply = await _transfer(started, test_pki.identity(ALICE), envelope)
    assert reply.error.code == Code.VALIDATION_ERROR, reply.error
    assert await _count(started, BOB, "conversations") == 0
