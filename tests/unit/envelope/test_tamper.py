"""Round trips with fresh RSA-4096 keys and every tamper case of the receive path (6.1)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from support.paths import ENVELOPE_VECTORS
from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2
from travelgate.errors import InvalidEnvelopeIdError, TrisaError

Code = errors_pb2.Error
Mutation = Callable[[api_pb2.SecureEnvelope], None]


@pytest.fixture(scope="module")
def payload() -> api_pb2.Payload:
    return env.payload_from_json((ENVELOPE_VECTORS / "payload.json").read_bytes())


@pytest.fixture(scope="module")
def sealed(
    payload: api_pb2.Payload, rsa4096_pair: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> api_pb2.SecureEnvelope:
    return env.seal(payload, rsa4096_pair[0].public_key())


@pytest.fixture(scope="module")
def ring(rsa4096_pair: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]) -> env.KeyRing:
    return env.KeyRing.of([rsa4096_pair[0]])


def _flip(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def test_round_trip_with_fresh_keys(
    sealed: api_pb2.SecureEnvelope, ring: env.KeyRing, payload: api_pb2.Payload
) -> None:
    opened = env.open_envelope(sealed, ring)
    assert opened.payload == payload
    assert opened.envelope_id == sealed.id
    assert sealed.transfer_state == api_pb2.STARTED
    assert sealed.encryption_algorithm == "AES256-GCM"
    assert sealed.hmac_algorithm == "HMAC-SHA256"
    assert len(sealed.encryption_key) == len(sealed.hmac_secret) == 512
    assert len(sealed.payload) == len(payload.SerializeToString()) + 28
    assert env.parse_timestamp(sealed.timestamp).tzinfo is not None
    assert sealed.timestamp.endswith("Z")


def test_key_and_secret_are_separate_and_fresh(
    sealed: api_pb2.SecureEnvelope,
    payload: api_pb2.Payload,
    rsa4096_pair: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey],
) -> None:
    key, secret = env.unseal_secrets(sealed, rsa4096_pair[0])
    assert key != secret
    again = env.seal(payload, rsa4096_pair[0].public_key(), envelope_id=sealed.id)
    assert env.unseal_secrets(again, rsa4096_pair[0]) != (key, secret)
    assert again.payload[-12:] != sealed.payload[-12:]


def _copy(envelope: api_pb2.SecureEnvelope, mutate: Mutation) -> api_pb2.SecureEnvelope:
    copy = api_pb2.SecureEnvelope()
    copy.CopyFrom(envelope)
    mutate(copy)
    return copy


def _set(name: str, value: object) -> Mutation:
    def mutate(envelope: api_pb2.SecureEnvelope) -> None:
        setattr(envelope, name, value)

    return mutate


def _flip_field(name: str, index: int = 0) -> Mutation:
    def mutate(envelope: api_pb2.SecureEnvelope) -> None:
        setattr(envelope, name, _flip(getattr(envelope, name), index))

    return mutate


def _truncate(envelope: api_pb2.SecureEnvelope) -> None:
    envelope.payload = envelope.payload[:-20]


CASES: list[tuple[str, Mutation, errors_pb2.Error.Code.ValueType, bool]] = [
    ("flip a payload byte", _flip_field("payload", 5), Code.INVALID_SIGNATURE, False),
    ("flip the last nonce byte", _flip_field("payload", -1), Code.INVALID_SIGNATURE, False),
    ("flip an hmac byte", _flip_field("hmac"), Code.INVALID_SIGNATURE, False),
    ("replace the hmac", _set("hmac", b"\0" * 32), Code.INVALID_SIGNATURE, False),
    ("flip an encryption_key byte", _flip_field("encryption_key", 7), Code.INVALID_KEY, True),
    ("flip an hmac_secret byte", _flip_field("hmac_secret", 7), Code.INVALID_KEY, True),
    ("truncated encryption_key", _set("encryption_key", b"\1" * 100), Code.INVALID_KEY, True),
    ("truncated payload", _truncate, Code.INVALID_SIGNATURE, False),
    ("AES128-GCM", _set("encryption_algorithm", "AES128-GCM"), Code.UNHANDLED_ALGORITHM, False),
    ("lower-case aes", _set("encryption_algorithm", "aes256-gcm"), Code.UNHANDLED_ALGORITHM, False),
    ("HMAC-SHA1", _set("hmac_algorithm", "HMAC-SHA1"), Code.UNHANDLED_ALGORITHM, False),
    (
        "one PKS character",
        _set("public_key_signature", "SHA256:A" + "b" * 42),
        Code.INVALID_KEY,
        True,
    ),
    ("garbled PKS", _set("public_key_signature", "not a signature"), Code.INVALID_KEY, True),
    ("no PKS", _set("public_key_signature", ""), Code.INVALID_KEY, True),
    ("empty timestamp", _set("timestamp", ""), Code.BAD_REQUEST, False),
    ("naive timestamp", _set("timestamp", "2022-01-27T08:21:43"), Code.BAD_REQUEST, False),
    ("space for T", _set("timestamp", "2022-01-27 08:21:43Z"), Code.BAD_REQUEST, False),
    ("sealed false", _set("sealed", False), Code.BAD_REQUEST, False),
    ("missing encryption_key", _set("encryption_key", b""), Code.BAD_REQUEST, False),
    ("missing hmac", _set("hmac", b""), Code.BAD_REQUEST, False),
    ("missing hmac_secret", _set("hmac_secret", b""), Code.BAD_REQUEST, False),
    ("missing algorithm", _set("encryption_algorithm", ""), Code.BAD_REQUEST, False),
    ("missing hmac algorithm", _set("hmac_algorithm", ""), Code.BAD_REQUEST, False),
    ("no payload no error", _set("payload", b""), Code.BAD_REQUEST, False),
]


@pytest.mark.parametrize(
    ("mutation", "code", "retry"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_tampered_envelope_gets_the_right_code(
    sealed: api_pb2.SecureEnvelope,
    ring: env.KeyRing,
    mutation: Mutation,
    code: errors_pb2.Error.Code.ValueType,
    retry: bool,
) -> None:
    with pytest.raises(TrisaError) as caught:
        env.open_envelope(_copy(sealed, mutation), ring)
    assert (caught.value.code_name, caught.value.retry) == (Code.Code.Name(code), retry)


def test_wrong_private_key_is_an_unknown_signature(
    sealed: api_pb2.SecureEnvelope, rsa4096_pair: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    with pytest.raises(TrisaError) as caught:
        env.open_envelope(sealed, env.KeyRing.of([rsa4096_pair[1]]))
    assert (caught.value.code, caught.value.retry) == (Code.INVALID_KEY, True)


def test_keys_sealed_for_someone_else_under_our_pks_fail_to_unseal(
    payload: api_pb2.Payload,
    rsa4096_pair: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey],
    ring: env.KeyRing,
) -> None:
    other = env.seal(payload, rsa4096_pair[1].public_key())
    other.public_key_signature = env.public_key_signature(rsa4096_pair[0])
    with pytest.raises(TrisaError) as caught:
        env.open_envelope(other, ring)
    assert (caught.value.code, caught.value.retry) == (Code.INVALID_KEY, True)


def test_valid_hmac_over_a_corrupted_payload_is_a_gcm_failure(
    sealed: api_pb2.SecureEnvelope,
    rsa4096_pair: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey],
    ring: env.KeyRing,
) -> None:
    _key, secret = env.unseal_secrets(sealed, rsa4096_pair[0])
    corrupted = _copy(sealed, _flip_field("payload", 3))
    corrupted.hmac = hmac.new(secret, corrupted.payload, hashlib.sha256).digest()
    with pytest.raises(TrisaError) as caught:
        env.open_envelope(corrupted, ring)
    assert (caught.value.code, caught.value.retry) == (Code.INVALID_KEY, False)


def test_payload_shorter_than_tag_and_nonce_is_invalid_key(
    sealed: api_pb2.SecureEnvelope,
    rsa4096_pair: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey],
    ring: env.KeyRing,
) -> None:
    _key, secret = env.unseal_secrets(sealed, rsa4096_pair[0])
    short = _copy(sealed, _set("payload", b"\1" * 20))
    short.hmac = hmac.new(secret, short.payload, hashlib.sha256).digest()
    with pytest.raises(TrisaError) as caught:
        env.open_envelope(short, ring)
    assert caught.value.code == Code.INVALID_KEY


def test_sealed_short_key_is_invalid_key_without_retry(
    payload: api_pb2.Payload,
    rsa4096_pair: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey],
    ring: env.KeyRing,
) -> None:
    public = rsa4096_pair[0].public_key()
    envelope = env.seal(payload, public)
    envelope.encryption_key = public.encrypt(b"\1" * 16, env.OAEP)
    with pytest.raises(TrisaError) as caught:
        env.open_envelope(envelope, ring)
    assert (caught.value.code, caught.value.retry) == (Code.INVALID_KEY, False)


def test_plaintext_that_is_not_a_payload_is_a_decode_failure(
    rsa4096_pair: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey], ring: env.KeyRing
) -> None:
    public = rsa4096_pair[0].public_key()
    key, secret = b"k" * 32, b"s" * 32
    body, mac = env._seal.encrypt_payload(b"\xff\xff\xff", key, secret)
    envelope = api_pb2.SecureEnvelope(
        id=env.new_envelope_id(),
        payload=body,
        encryption_key=public.encrypt(key, env.OAEP),
        encryption_algorithm="AES256-GCM",
        hmac=mac,
        hmac_secret=public.encrypt(secret, env.OAEP),
        hmac_algorithm="HMAC-SHA256",
        timestamp=env.format_timestamp(),
        sealed=True,
        public_key_signature=env.public_key_signature(public),
    )
    with pytest.raises(TrisaError) as caught:
        env.open_envelope(envelope, ring)
    assert (caught.value.code, caught.value.retry) == (Code.ENVELOPE_DECODE_FAIL, False)


@pytest.mark.parametrize(
    "envelope_id", ["", "not-a-uuid", "1e7bb3cc53ff41b8870f4c22110e6f0", "g" * 32]
)
def test_bad_ids_are_invalid_argument(
    sealed: api_pb2.SecureEnvelope, ring: env.KeyRing, envelope_id: str
) -> None:
    with pytest.raises(InvalidEnvelopeIdError):
        env.open_envelope(_copy(sealed, _set("id", envelope_id)), ring)


def test_oversize_payload_is_refused_before_any_crypto(
    sealed: api_pb2.SecureEnvelope, ring: env.KeyRing
) -> None:
    with pytest.raises(TrisaError) as caught:
        env.open_envelope(sealed, ring, max_payload=100)
    assert caught.value.code == Code.BAD_REQUEST
    assert "limit" in caught.value.message


def _payload_without(field: str, base: api_pb2.Payload) -> api_pb2.Payload:
    copy = api_pb2.Payload()
    copy.CopyFrom(base)
    copy.ClearField(field)  # type: ignore[arg-type]
    return copy


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("identity", Code.MISSING_FIELDS),
        ("transaction", Code.MISSING_FIELDS),
        ("sent_at", Code.MISSING_FIELDS),
        ("identity_type", Code.UNPARSEABLE_IDENTITY),
        ("transaction_type", Code.UNPARSEABLE_TRANSACTION),
        ("trp_type", Code.UNPARSEABLE_TRANSACTION),
        ("sent_at_format", Code.VALIDATION_ERROR),
        ("received_at_format", Code.VALIDATION_ERROR),
        ("identity_bytes", Code.UNPARSEABLE_IDENTITY),
    ],
)
def test_payload_rules_over_the_wire_path(
    payload: api_pb2.Payload,
    rsa4096_pair: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey],
    ring: env.KeyRing,
    change: str,
    code: int,
) -> None:
    bad = api_pb2.Payload()
    bad.CopyFrom(payload)
    if change in ("identity", "transaction", "sent_at"):
        bad = _payload_without(change, payload)
    elif change == "identity_type":
        bad.identity.type_url = "type.googleapis.com/ivms101.Person"
    elif change == "transaction_type":
        bad.transaction.type_url = "type.googleapis.com/trisa.data.generic.v1beta1.Asset"
    elif change == "trp_type":
        bad.transaction.type_url = "type.googleapis.com/trisa.data.generic.v1beta1.TRP"
    elif change == "sent_at_format":
        bad.sent_at = "27/01/2022"
    elif change == "received_at_format":
        bad.received_at = "2022-01-30T16:28:39"
    elif change == "identity_bytes":
        bad.identity.value = b"\xff\xff"
    envelope = env.seal(bad, rsa4096_pair[0].public_key(), validate=False)
    with pytest.raises(TrisaError) as caught:
        env.open_envelope(envelope, ring)
    assert (caught.value.code, caught.value.retry) == (code, True)


def test_sealing_refuses_an_invalid_payload(
    rsa4096_pair: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey],
) -> None:
    with pytest.raises(TrisaError):
        env.seal(api_pb2.Payload(), rsa4096_pair[0].public_key())


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (errors_pb2.Error(code=Code.UNHANDLED, message="x"), "no defined error code"),
        (errors_pb2.Error(code=77, message="x"), "no defined error code"),  # type: ignore[arg-type]
        (errors_pb2.Error(code=Code.REJECTED, message=""), "no error message"),
    ],
)
def test_invalid_error_envelopes_are_bad_requests(error: errors_pb2.Error, message: str) -> None:
    envelope = api_pb2.SecureEnvelope(
        id=env.new_envelope_id(), timestamp=env.format_timestamp(), error=error
    )
    with pytest.raises(TrisaError) as caught:
        env.check_structure(envelope)
    assert caught.value.code == Code.BAD_REQUEST
    assert message in caught.value.message


def test_zero_error_with_a_payload_is_not_an_error(sealed: api_pb2.SecureEnvelope) -> None:
    envelope = _copy(sealed, lambda e: e.error.SetInParent())
    assert env.classify(envelope) is env.EnvelopeKind.SEALED


def test_error_envelopes_take_repair_or_rejected() -> None:
    from travelgate.errors import MissingFieldsError, RejectedError

    repair = env.error_envelope("2b3b4c95-0a78-4f2a-a9fa-041970f97144", MissingFieldsError("x"))
    assert (repair.transfer_state, repair.error.retry) == (api_pb2.REPAIR, True)
    assert repair.error.code == Code.MISSING_FIELDS
    reject = env.error_envelope("2b3b4c95-0a78-4f2a-a9fa-041970f97144", RejectedError("no"))
    assert (reject.transfer_state, reject.error.retry) == (api_pb2.REJECTED, False)
    assert env.check_structure(reject) is env.EnvelopeKind.ERROR
    assert not reject.payload
    assert not reject.sealed
    assert not reject.public_key_signature


@pytest.mark.parametrize(
    ("incoming", "retry", "reply"),
    [
        (api_pb2.UNSPECIFIED, True, api_pb2.PENDING),
        (api_pb2.UNSPECIFIED, False, api_pb2.REJECTED),
        (api_pb2.REJECTED, False, api_pb2.REJECTED),
        (api_pb2.REJECTED, True, api_pb2.REJECTED),
        (api_pb2.REPAIR, True, api_pb2.PENDING),
        (api_pb2.ACCEPTED, False, api_pb2.REJECTED),
        (api_pb2.ACCEPTED, True, api_pb2.PENDING),
    ],
)
def test_echo_state_of_received_errors(incoming: int, retry: bool, reply: int) -> None:
    assert env.echo_error_state(incoming, retry) == reply  # type: ignore[arg-type]
