"""The TRISA reference vectors, opened and recomputed with the values of vectors/README.md."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from support.paths import ENVELOPE_VECTORS, KEY_VECTORS, SIGNATURE_VECTORS, TRISA_VECTORS
from travelgate import envelope as env
from travelgate._pb.ivms101 import identity_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2
from travelgate._pb.trisa.gds.api.v1beta1 import api_pb2 as gds_pb2
from travelgate.envelope import TransactionKind
from travelgate.errors import MissingFieldsError, NoPayloadError, TrisaError

SIGNATURES = SIGNATURE_VECTORS
KEYS = KEY_VECTORS


def _read(path: Path) -> bytes:
    return path.read_bytes()


@pytest.fixture(scope="module")
def sealing_key() -> env.KeyRing:
    return env.KeyRing.of([env.load_private_key(_read(ENVELOPE_VECTORS / "sealing_key.pem"))])


def test_sealing_key_is_pkcs8_under_an_rsa_private_key_label() -> None:
    data = _read(ENVELOPE_VECTORS / "sealing_key.pem")
    assert b"BEGIN RSA PRIVATE KEY" in data
    with pytest.raises(ValueError, match="Could not deserialize"):
        serialization.load_pem_private_key(data, password=None)
    key = env.load_private_key(data)
    assert env.public_key_signature(key) == "SHA256:QhEspinUU51gK0dQGqLa56BA6xyRy5/7sN5/6GlaLZw"


def test_sealed_envelope_opens_to_the_pending_payload(sealing_key: env.KeyRing) -> None:
    envelope = env.envelope_from_json(_read(ENVELOPE_VECTORS / "sealed_envelope.json"))
    assert envelope.id == "1e7bb3cc-53ff-41b8-870f-4c22110e6f04"
    assert envelope.sealed
    assert envelope.timestamp == "2022-03-29T09:16:29.755212-05:00"
    moment = env.parse_timestamp(envelope.timestamp)
    assert moment.utcoffset() is not None
    assert moment.astimezone().utctimetuple()[3:6] == (14, 16, 29)
    assert envelope.public_key_signature == "SHA256:QhEspinUU51gK0dQGqLa56BA6xyRy5/7sN5/6GlaLZw"
    assert (len(envelope.payload), len(envelope.encryption_key), len(envelope.hmac_secret)) == (
        1198,
        512,
        512,
    )
    assert len(envelope.hmac) == 32
    assert envelope.transfer_state == api_pb2.UNSPECIFIED
    assert env.classify(envelope) is env.EnvelopeKind.SEALED

    private_key = sealing_key.find(envelope.public_key_signature)
    key, secret = env.unseal_secrets(envelope, private_key)
    assert key.hex() == "dd325aa32f85cc27f921441ce40b01fc448cd6bb6742d7d7776cbdae807f05c5"
    assert secret == key

    payload = env.decrypt_payload(envelope, key, secret)
    plaintext = payload.SerializeToString(deterministic=True)
    assert len(plaintext) == 1170
    expected = env.payload_from_json(_read(ENVELOPE_VECTORS / "pending_payload.json"))
    assert payload == expected

    opened = env.open_envelope(envelope, sealing_key)
    parts = opened.parts
    assert parts.kind is TransactionKind.PENDING
    assert payload.identity.type_url == "type.googleapis.com/ivms101.IdentityPayload"
    assert payload.transaction.type_url == "type.googleapis.com/trisa.data.generic.v1beta1.Pending"
    assert (payload.sent_at, payload.received_at) == ("2022-01-27T08:21:43Z", "")
    pending = parts.transaction
    assert isinstance(pending, transaction_pb2.Pending)
    assert pending.envelope_id == "2b3b4c95-0a78-4f2a-a9fa-041970f97144"
    assert pending.received_by == "BobVASP Compliance Review"
    assert pending.reply_not_before == "2022-01-27T20:22:00Z"
    assert pending.reply_not_after == "2022-01-30T08:22:00Z"
    tx = pending.transaction
    assert (tx.originator, tx.beneficiary) == (
        "14HmBSwec8XrcWge9Zi1ZngNia64u3Wd2v",
        "14WU745djqecaJ1gmtWQGeMCFim1W5MNp3",
    )
    assert (tx.amount, tx.network, tx.asset_type) == (0.00206412, "btc", "BTC")
    person = parts.identity.originator.originator_persons[0].natural_person
    legl = [
        n for n in person.name.name_identifiers if n.name_identifier_type == 4
    ]  # NATURAL_PERSON_NAME_TYPE_CODE_LEGL
    assert (legl[0].primary_identifier, legl[0].secondary_identifier) == ("Howard", "Jane")
    vasp = parts.identity.originating_vasp.originating_vasp.legal_person
    assert vasp.name.name_identifiers[0].legal_person_name == "AliceCoin, Inc."


def test_unsealed_envelope_is_a_pure_aes_hmac_vector() -> None:
    envelope = env.envelope_from_json(_read(ENVELOPE_VECTORS / "unsealed_envelope.json"))
    assert envelope.id == "ca4344e6-fb1e-4ba2-9ac7-f78fab5f00c0"
    assert not envelope.sealed
    assert envelope.public_key_signature == ""
    assert envelope.timestamp == "2022-03-29T09:16:27.453444-05:00"
    raw = "6bbb328e4e0253bd07910abdd5e72a2ec309e20b849c1cb272011f5c9f47681f"
    assert envelope.encryption_key.hex() == raw
    assert envelope.hmac_secret.hex() == raw
    assert len(envelope.payload) == 28
    assert env.classify(envelope) is env.EnvelopeKind.UNSEALED
    payload = env.open_unsealed(envelope)
    assert payload == api_pb2.Payload()
    assert not payload.HasField("identity")
    assert not payload.HasField("transaction")
    with pytest.raises(MissingFieldsError):
        env.check_payload(payload)


def test_unsealed_envelope_is_refused_on_the_network_path(sealing_key: env.KeyRing) -> None:
    envelope = env.envelope_from_json(_read(ENVELOPE_VECTORS / "unsealed_envelope.json"))
    with pytest.raises(TrisaError) as caught:
        env.open_envelope(envelope, sealing_key)
    assert caught.value.code == errors_pb2.Error.BAD_REQUEST


def test_error_envelope_is_a_rejection() -> None:
    envelope = env.envelope_from_json(_read(ENVELOPE_VECTORS / "error_envelope.json"))
    assert envelope.id == "2b3b4c95-0a78-4f2a-a9fa-041970f97144"
    assert envelope.timestamp == "2022-01-27T08:21:43Z"
    assert envelope.error.code == errors_pb2.Error.COMPLIANCE_CHECK_FAIL == 90
    assert envelope.error.message == "specified account has been frozen temporarily"
    assert envelope.error.retry is False
    assert not envelope.error.HasField("details")
    for name in ("payload", "encryption_key", "hmac", "hmac_secret"):
        assert getattr(envelope, name) == b""
    assert (envelope.encryption_algorithm, envelope.hmac_algorithm) == ("", "")
    assert env.check_structure(envelope) is env.EnvelopeKind.ERROR
    assert envelope.transfer_state == api_pb2.UNSPECIFIED
    # Read as REJECTED although transfer_state is 0: retry is false.
    assert env.echo_error_state(envelope.transfer_state, envelope.error.retry) == api_pb2.REJECTED
    with pytest.raises(NoPayloadError):
        env.open_envelope(envelope, env.KeyRing())


def test_payload_vector_passes_the_rules_and_round_trips_through_alice() -> None:
    payload = env.payload_from_json(_read(ENVELOPE_VECTORS / "payload.json"))
    parts = env.check_payload(payload)
    assert parts.kind is TransactionKind.TRANSACTION
    tx = parts.transaction
    assert isinstance(tx, transaction_pb2.Transaction)
    assert tx.txid == "05d9dc3fcbf48771c8ee9e95200877ef08e2766a780d4e44eee397633eb164d0"
    assert tx.amount == 0.00206412
    assert tx.timestamp == "2022-01-30T16:14:00Z"
    assert json.loads(tx.extra_json) == {"value_when_transacted": "USD $77.86"}
    assert (payload.sent_at, payload.received_at) == (
        "2022-01-27T08:21:43Z",
        "2022-01-30T16:28:39Z",
    )

    alice = _read(ENVELOPE_VECTORS / "alice.vaspbot.net.pem")
    recipient = env.require_sealing_key(env.load_public_key(alice))
    sealed = env.seal(payload, recipient)
    opened = env.open_envelope(sealed, env.KeyRing.of([env.load_private_key(alice)]))
    assert opened.payload == payload


def test_bare_payload_parts_are_proto_equal_to_their_twins() -> None:
    identity = identity_pb2.IdentityPayload()
    env.parse_json(_read(ENVELOPE_VECTORS / "payload" / "identity.json"), identity, what="identity")
    twin = identity_pb2.IdentityPayload()
    env.parse_json(
        _read(TRISA_VECTORS / "ivms101" / "testdata" / "identity_payload.pb.json"),
        twin,
        what="identity",
    )
    assert identity == twin
    openvasp = identity_pb2.IdentityPayload()
    env.parse_json(
        _read(TRISA_VECTORS / "openvasp" / "testdata" / "identity.json"), openvasp, what="i"
    )
    assert identity == openvasp

    payload = env.payload_from_json(_read(ENVELOPE_VECTORS / "payload.json"))
    inner = identity_pb2.IdentityPayload()
    payload.identity.Unpack(inner)
    assert inner == identity

    string_amount = transaction_pb2.Transaction()
    env.parse_json(
        _read(ENVELOPE_VECTORS / "payload" / "transaction.json"), string_amount, what="t"
    )
    number_amount = transaction_pb2.Transaction()
    env.parse_json(
        _read(TRISA_VECTORS / "openvasp" / "testdata" / "transaction.json"), number_amount, what="t"
    )
    assert string_amount == number_amount
    assert string_amount.amount == 0.00206412

    pending = transaction_pb2.Pending()
    env.parse_json(_read(ENVELOPE_VECTORS / "payload" / "pending.json"), pending, what="p")
    assert pending.transaction.amount == 0.00206412
    assert pending.envelope_id == "2b3b4c95-0a78-4f2a-a9fa-041970f97144"


def test_openvasp_copies_of_the_envelopes_are_identical() -> None:
    for name in ("sealed_envelope.json", "unsealed_envelope.json"):
        assert _read(TRISA_VECTORS / "openvasp" / "testdata" / name) == _read(
            ENVELOPE_VECTORS / name
        )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "rsapub.pem",
            {
                "SHA256": "SHA256:BbUdmS0/gwFi7loGUcJeEUD4REaT5XgtCoRX+BDnkNg",
                "MD5": "MD5:oSbNMVJNnN/l4KgGVU+C2w",
                "SHA512": "SHA512:5xSYB7LfujoDzyzWJYqWDk7ffMsU8xqLCKbDnBcuLO75VF5fczy47AR9APMu0HVQrhKeejxeHV7YXj/702MGAQ",
            },
        ),
        (
            "ecdsa.pem",
            {
                "SHA256": "SHA256:KoKS3i9txi8DPwgmIdDr+rPrdF0bh5SbaQi4/HYheRA",
                "MD5": "MD5:ypCkp1+OdN4sVYyvVeu3uQ",
                "SHA512": "SHA512:X68VhfJAUVFRqpmz0N6Wftp+JNvTZvO1gAb8IuOXLe9eG+BCosUfvXgAPD8TrEH0L0rVBZUYuVAAezjAsqLZfw",
            },
        ),
        (
            "ed25519.pem",
            {
                "SHA256": "SHA256:csSenMcPrKDqVgRW4JOjfFyOuZta+bPBLqWI4/cJKyU",
                "MD5": "MD5:ckldayqiExTtcPlZBT8HCQ",
                "SHA512": "SHA512:+s9qX6DWjnO/851NI69ViNkhD3iDQn36JG3NlZTDB/BWcppZf0aZ4AaHsIe+dpRXjiDKJN719x0J052//YYu5g",
            },
        ),
    ],
)
def test_public_key_signature_vectors(name: str, expected: dict[str, str]) -> None:
    data = _read(SIGNATURES / name)
    key = env.load_public_key(data)
    for algorithm, pks in expected.items():
        assert env.public_key_signature(key, algorithm) == pks
    # Re-encoding as SPKI DER reproduces the file body byte for byte.
    assert env.spki_der(key) == env.pem_blocks(data)[0].der


def test_certificate_vectors() -> None:
    alice = _read(ENVELOPE_VECTORS / "alice.vaspbot.net.pem")
    leaf, ca = env.load_certificates(alice)
    assert (
        env.public_key_signature(leaf.public_key())
        == "SHA256:J2XfAxVS66xcv+DF3eZpttK1etCSJ2EQiQJiNmIjnvE"
    )
    assert (
        env.public_key_signature(ca.public_key())
        == "SHA256:EFW6sjJyj11OD2SR9cTLOsJS4oVXuUiuwn+93YYCpZ0"
    )
    assert env.public_key_signature(env.load_private_key(alice)) == env.public_key_signature(
        leaf.public_key()
    )
    signing = env.signing_key_for(leaf)
    assert signing.version == 3
    assert signing.signature_algorithm == "SHA256-RSA"
    assert signing.public_key_algorithm == "RSA"
    assert (signing.not_before, signing.not_after) == (
        "2024-03-28T21:44:43Z",
        "2054-03-21T21:44:43Z",
    )
    assert signing.data == env.spki_der(leaf.public_key())
    assert not signing.revoked

    certs = _read(KEYS / "certs.pem")
    leaf = env.load_certificates(certs)[0]
    pks = "SHA256:ToLuV/KNXWxQWd7/b3DK/hCgbN1Zg1PQECIHWr3F8KM"
    assert env.public_key_signature(leaf.public_key()) == pks
    assert env.public_key_signature(env.load_private_key(certs)) == pks
    signing = env.signing_key_for(leaf)
    assert (signing.version, signing.signature_algorithm, signing.public_key_algorithm) == (
        3,
        "SHA256-RSA",
        "RSA",
    )
    assert (signing.not_before, signing.not_after) == (
        "2022-05-15T18:34:12Z",
        "2022-11-15T19:34:12Z",
    )
    assert env.spki_der(env.sealing_key_from(signing)) == signing.data


def test_lookup_reply_certificate_is_pem_and_chain_is_gzip() -> None:
    reply = gds_pb2.LookupReply()
    env.parse_json(_read(KEYS / "lookup.json"), reply, what="lookup")
    assert reply.common_name == "api.alice.vaspbot.net"
    assert reply.endpoint == "api.alice.vaspbot.net:443"
    assert not reply.HasField("signing_certificate")
    cert = reply.identity_certificate
    assert (cert.version, cert.signature_algorithm) == (3, "SHA384-RSA")
    assert cert.data.startswith(b"-----BEGIN CERTIFICATE-----")
    key = env.load_public_key(cert.data)
    assert env.public_key_signature(key) == "SHA256:p6e+TfID7MG1l6V0QsfJpuv49t0q5sHfFY1WUNkkSgk"
    chain = env.load_certificates(gzip.decompress(cert.chain))
    names = [c.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value for c in chain]
    assert names == ["api.alice.vaspbot.net", "CipherTrace Issuing CA", "CipherTrace Root CA"]


@pytest.mark.parametrize(
    "pks",
    [
        "MD5:F",
        "SHA256",
        "SHA256:a:b",
        "SHA1:QhEspinUU51gK0dQGqLa56BA6xyRy5/7sN5/6GlaLZw",
        "SHA256:!!!",
        "SHA256:RhEspinUU51gK0dQGqLa56BA6xyRy5/7sN5/6GlaLZw",
    ],
)
def test_bad_public_key_signatures_never_match(sealing_key: env.KeyRing, pks: str) -> None:
    with pytest.raises(TrisaError) as caught:
        sealing_key.find(pks)
    assert caught.value.code == errors_pb2.Error.INVALID_KEY
    assert caught.value.retry is True


def test_public_key_signature_prefix_is_case_insensitive(sealing_key: env.KeyRing) -> None:
    assert sealing_key.find(" sha256 :QhEspinUU51gK0dQGqLa56BA6xyRy5/7sN5/6GlaLZw") is not None
