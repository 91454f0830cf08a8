"""Fuzz the receive side of SecureEnvelopes: protobuf bytes, protojson, and the payload.

An envelope from a peer (gRPC hands us its protobuf bytes), from `travelgate envelope open`
(protojson) or from storage is checked in the order of trisa.md 6.1. Every refusal is a
TrisaError (an error envelope for the peer); asking an error envelope for its payload is
NoPayloadError. What opens can be printed as JSON and reads back the same; the protojson
and protobuf codecs give back the envelope they were given.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import cast

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError
from hypothesis import example, given
from hypothesis import strategies as st

from support.paths import ENVELOPE_VECTORS
from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2
from travelgate.envelope._payload import IDENTITY_TYPE_URL, TYPE_PREFIX
from travelgate.envelope._seal import encrypt_payload
from travelgate.errors import BadRequestError, NoPayloadError, TrisaError

from ._harness import FUZZ, json_mutated, mutated, only, seed_ids, seeds, time_bound

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_VECTOR_KEY = env.load_private_key((ENVELOPE_VECTORS / "sealing_key.pem").read_bytes())
KEYS = env.KeyRing.of([_KEY, _VECTOR_KEY])

_VECTOR_JSON = [
    (ENVELOPE_VECTORS / name).read_bytes()
    for name in ("sealed_envelope.json", "unsealed_envelope.json", "error_envelope.json")
]
_PAYLOAD = env.payload_from_json((ENVELOPE_VECTORS / "payload.json").read_bytes())
_PENDING = env.payload_from_json((ENVELOPE_VECTORS / "pending_payload.json").read_bytes())
_OURS = [
    env.seal(_PAYLOAD, _KEY.public_key()),
    env.seal(_PENDING, _KEY.public_key(), transfer_state=api_pb2.PENDING),
    env.unsealed(_PAYLOAD),
    env.error_envelope(env.new_envelope_id(), BadRequestError("no")),
]
JSON_CORPUS = (
    _VECTOR_JSON
    + [env.message_to_json(e).encode() for e in _OURS]
    + [p.read_bytes() for p in seeds("envelope") if p.suffix == ".json"]
)
PB_CORPUS = [env.envelope_from_json(text).SerializeToString() for text in _VECTOR_JSON] + [
    e.SerializeToString() for e in _OURS
]
PB_CORPUS += [p.read_bytes() for p in seeds("envelope") if p.suffix == ".pb"]


def _open_like_the_node(envelope: api_pb2.SecureEnvelope, *, allow_unsealed: bool) -> None:
    """Every receive step; what opens must print as JSON and read back unchanged."""
    with only(TrisaError, NoPayloadError):
        kind = env.check_structure(envelope)
        env.classify(envelope)
        if env.has_error(envelope):
            json.dumps(env.message_to_dict(envelope.error), ensure_ascii=False)
        opened = env.open_envelope(
            envelope,
            KEYS,
            allow_unsealed=allow_unsealed and kind is env.EnvelopeKind.UNSEALED,
            accept_confirmation_receipt=allow_unsealed,
        )
        printed = env.message_to_json(opened.payload)
        again = env.payload_from_json(printed)
        assert env.message_to_dict(again) == env.message_to_dict(opened.payload)


def _envelope_bytes(data: bytes) -> None:
    envelope = api_pb2.SecureEnvelope()
    try:
        envelope.ParseFromString(data)
    except DecodeError:
        return  # grpc's deserializer answers this one before our code runs
    _open_like_the_node(envelope, allow_unsealed=False)
    _open_like_the_node(envelope, allow_unsealed=True)


def _envelope_json(text: bytes) -> None:
    with only(env.JsonFormatError):
        envelope = env.envelope_from_json(text)
        _open_like_the_node(envelope, allow_unsealed=True)


@FUZZ
@given(mutated(PB_CORPUS))
def test_envelope_bytes_open_or_give_a_trisa_error(data: bytes) -> None:
    _envelope_bytes(data)


@FUZZ
@given(mutated(JSON_CORPUS))
@example(b'{"id": "1e7bb3cc-53ff-41b8-870f-4c22110e6f04", "timestamp": "\\ud800"}')
@example(b'{"id": ' + b"1" * 5000 + b"}")
def test_envelope_json_opens_or_gives_a_format_or_trisa_error(text: bytes) -> None:
    _envelope_json(text)


_ENVELOPE_KEYS = sorted(
    {f.name for f in api_pb2.SecureEnvelope.DESCRIPTOR.fields}
    | {f.json_name for f in api_pb2.SecureEnvelope.DESCRIPTOR.fields}
    | {f.name for f in errors_pb2.Error.DESCRIPTOR.fields}
)


@FUZZ
@given(
    json_mutated([*map(json.loads, _VECTOR_JSON), *map(env.message_to_dict, _OURS)], _ENVELOPE_KEYS)
)
def test_envelope_json_edited_in_place(document: object) -> None:
    _envelope_json(json.dumps(document).encode("utf-8", "surrogatepass"))


ENVELOPE_SEEDS = seeds("envelope")


@pytest.mark.parametrize("path", ENVELOPE_SEEDS, ids=seed_ids(ENVELOPE_SEEDS))
def test_envelope_corpus(path: Path) -> None:
    data = path.read_bytes()
    if path.suffix == ".json":
        _envelope_json(data)
    else:
        _envelope_bytes(data)


# -- envelopes built field by field ---------------------------------------------------------

IDS = st.sampled_from(
    [
        "",
        "1e7bb3cc-53ff-41b8-870f-4c22110e6f04",
        "{1E7BB3CC-53FF-41B8-870F-4C22110E6F04}",
        "urn:uuid:1e7bb3cc-53ff-41b8-870f-4c22110e6f04",
        "1e7bb3cc53ff41b8870f4c22110e6f04",
    ]
) | st.text(max_size=45)
TIMESTAMPS = st.sampled_from(
    [
        "",
        "2022-03-29T09:16:29.755212-05:00",
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+01:00",
        "2022-02-30T00:00:00Z",
        "2022-03-29t09:16:29.123456789z",
    ]
) | st.text(max_size=40)
ERRORS = st.none() | st.builds(
    errors_pb2.Error,
    code=st.integers(0, 2**31 - 1) | st.sampled_from(errors_pb2.Error.Code.values()),
    message=st.text(max_size=30),
    retry=st.booleans(),
)


@st.composite
def envelopes(draw: st.DrawFn) -> api_pb2.SecureEnvelope:
    base = api_pb2.SecureEnvelope()
    base.CopyFrom(draw(st.sampled_from(_OURS)))
    base.id = draw(IDS)
    if draw(st.booleans()):
        base.timestamp = draw(TIMESTAMPS)
    if draw(st.booleans()):
        base.public_key_signature = draw(st.text(max_size=60))
    if draw(st.booleans()):
        base.encryption_algorithm = draw(st.sampled_from(["", "AES256-GCM", "aes256-gcm"]))
    if draw(st.booleans()):
        base.hmac = draw(st.binary(max_size=40))
    if draw(st.booleans()):
        # Open enums keep values they do not name; a peer may send any int32.
        base.transfer_state = cast(env.TransferState, draw(st.integers(-(2**31), 2**31 - 1)))
    if draw(st.booleans()):
        base.sealed = draw(st.booleans())
    error = draw(ERRORS)
    if error is not None:
        base.error.CopyFrom(error)
    return base


@FUZZ
@given(envelopes())
@example(api_pb2.SecureEnvelope(id=env.new_envelope_id(), timestamp="9999-12-31T23:59:59-23:59"))
def test_envelope_codecs_round_trip_and_open(envelope: api_pb2.SecureEnvelope) -> None:
    with time_bound():
        assert api_pb2.SecureEnvelope.FromString(envelope.SerializeToString()) == envelope
        assert env.envelope_from_json(env.message_to_json(envelope)) == envelope
    _open_like_the_node(envelope, allow_unsealed=True)


def test_timestamp_without_a_utc_instant_is_bad_request() -> None:
    # Accepted before; storing or comparing it in UTC then raised OverflowError.
    for text in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00"):
        with pytest.raises(BadRequestError):
            env.parse_timestamp(text)
        assert not env.is_timestamp(text)


# -- payload unpacking: any plaintext behind a valid key and HMAC ---------------------------

TYPE_URLS = st.sampled_from(
    [
        IDENTITY_TYPE_URL,
        TYPE_PREFIX + "trisa.data.generic.v1beta1.Transaction",
        TYPE_PREFIX + "trisa.data.generic.v1beta1.Pending",
        TYPE_PREFIX + "trisa.data.generic.v1beta1.Sunrise",
        TYPE_PREFIX + "trisa.data.generic.v1beta1.ConfirmationReceipt",
        TYPE_PREFIX + "google.protobuf.Empty",
        "",
    ]
) | st.text(max_size=40)
_PAYLOAD_PARTS = [
    _PAYLOAD.identity.value,
    _PAYLOAD.transaction.value,
    _PENDING.transaction.value,
]


@st.composite
def payload_plaintexts(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return draw(mutated([_PAYLOAD.SerializeToString(), _PENDING.SerializeToString()]))
    payload = api_pb2.Payload(
        identity=any_pb2.Any(
            type_url=draw(TYPE_URLS), value=draw(mutated(_PAYLOAD_PARTS) | st.binary(max_size=64))
        ),
        transaction=any_pb2.Any(
            type_url=draw(TYPE_URLS), value=draw(mutated(_PAYLOAD_PARTS) | st.binary(max_size=64))
        ),
        sent_at=draw(TIMESTAMPS),
        received_at=draw(TIMESTAMPS),
    )
    return payload.SerializeToString()


@FUZZ
@given(payload_plaintexts())
def test_any_decrypted_payload_unpacks_or_gives_a_trisa_error(plaintext: bytes) -> None:
    key, secret = os.urandom(32), os.urandom(32)
    sealed, mac = encrypt_payload(plaintext, key, secret)
    envelope = api_pb2.SecureEnvelope(
        id=env.new_envelope_id(),
        payload=sealed,
        encryption_key=key,
        encryption_algorithm=env.AES_ALGORITHM,
        hmac=mac,
        hmac_secret=secret,
        hmac_algorithm=env.HMAC_ALGORITHM,
        timestamp=env.format_timestamp(),
    )
    _open_like_the_node(envelope, allow_unsealed=True)
