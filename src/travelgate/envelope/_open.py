"""The receive side: every TRISA receive-side envelope check that needs no network or store.

The steps are separate functions so the node can interleave its own (peer policy, exact
duplicates, the sender's key) in the spec's order and keep RSA work off the event loop;
`open_envelope` runs them all for local use.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError

from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2
from travelgate.envelope._formats import normalize_envelope_id, parse_timestamp
from travelgate.envelope._keys import KeyRing
from travelgate.envelope._payload import PayloadParts, check_payload
from travelgate.envelope._seal import (
    AES_ALGORITHM,
    HMAC_ALGORITHM,
    KEY_BYTES,
    NONCE_BYTES,
    OAEP,
    TAG_BYTES,
)
from travelgate.errors import (
    BadRequestError,
    EnvelopeDecodeError,
    InvalidKeyError,
    InvalidSignatureError,
    NoPayloadError,
    UnhandledAlgorithmError,
)

DEFAULT_MAX_PAYLOAD = 8 * 1024 * 1024
_DEFINED_CODES = frozenset(errors_pb2.Error.Code.values())


class EnvelopeKind(StrEnum):
    """The TRISA SecureEnvelope states (the `sealed` flag)."""

    ERROR = "error"
    SEALED = "sealed"
    SEALED_ERROR = "sealed_error"
    UNSEALED = "unsealed"
    UNSEALED_ERROR = "unsealed_error"
    CORRUPTED = "corrupted"


def has_error(envelope: api_pb2.SecureEnvelope) -> bool:
    """A present Error with code 0 and no message counts as no error (proto3 default values)."""
    return envelope.HasField("error") and bool(envelope.error.code or envelope.error.message)


def classify(envelope: api_pb2.SecureEnvelope) -> EnvelopeKind:
    error = has_error(envelope)
    if not envelope.payload:
        return EnvelopeKind.ERROR if error else EnvelopeKind.CORRUPTED
    if envelope.sealed:
        return EnvelopeKind.SEALED_ERROR if error else EnvelopeKind.SEALED
    return EnvelopeKind.UNSEALED_ERROR if error else EnvelopeKind.UNSEALED


def check_structure(
    envelope: api_pb2.SecureEnvelope, *, max_payload: int = DEFAULT_MAX_PAYLOAD
) -> EnvelopeKind:
    """Steps 2-6: id, timestamp, payload-or-error, a valid error, the crypto fields.

    Raises InvalidEnvelopeIdError (answered as gRPC INVALID_ARGUMENT) or BadRequestError.
    """
    normalize_envelope_id(envelope.id)
    parse_timestamp(envelope.timestamp)
    kind = classify(envelope)
    if kind is EnvelopeKind.CORRUPTED:
        raise BadRequestError("envelope has neither a payload nor an error")
    if kind is EnvelopeKind.ERROR:
        error = envelope.error
        if error.code == 0 or error.code not in _DEFINED_CODES:
            raise BadRequestError("error envelope has no defined error code")
        if not error.message:
            raise BadRequestError("error envelope has no error message")
        return kind
    if len(envelope.payload) > max_payload:
        raise BadRequestError(f"payload is larger than the {max_payload}-byte limit")
    missing = [
        name
        for name in (
            "encryption_key",
            "encryption_algorithm",
            "hmac",
            "hmac_secret",
            "hmac_algorithm",
        )
        if not getattr(envelope, name)
    ]
    if missing:
        raise BadRequestError(f"envelope is missing {', '.join(missing)}")
    return kind


def check_sealed(envelope: api_pb2.SecureEnvelope) -> None:
    """Steps 10-11, before any RSA work: sealed, and algorithms we handle."""
    if not envelope.sealed:
        raise BadRequestError("unsealed envelopes are not accepted")
    check_algorithms(envelope)


def check_algorithms(envelope: api_pb2.SecureEnvelope) -> None:
    if envelope.encryption_algorithm != AES_ALGORITHM:
        raise UnhandledAlgorithmError(
            f"encryption algorithm {envelope.encryption_algorithm[:40]!r} is not {AES_ALGORITHM}"
        )
    if envelope.hmac_algorithm != HMAC_ALGORITHM:
        raise UnhandledAlgorithmError(
            f"hmac algorithm {envelope.hmac_algorithm[:40]!r} is not {HMAC_ALGORITHM}"
        )


def unseal_secrets(envelope: api_pb2.SecureEnvelope, key: rsa.RSAPrivateKey) -> tuple[bytes, bytes]:
    """Steps 14-15: RSA-OAEP unseal of the AES key, then of the HMAC secret."""
    try:
        encryption_key = key.decrypt(envelope.encryption_key, OAEP)
        secret = key.decrypt(envelope.hmac_secret, OAEP)
    except ValueError:
        raise InvalidKeyError("cannot unseal the envelope keys with our key", retry=True) from None
    return _check_secrets(encryption_key, secret)


def _check_secrets(encryption_key: bytes, secret: bytes) -> tuple[bytes, bytes]:
    if len(encryption_key) != KEY_BYTES:
        raise InvalidKeyError(f"encryption key is {len(encryption_key)} bytes, not {KEY_BYTES}")
    if not secret:
        raise InvalidKeyError("hmac secret is empty")
    return encryption_key, secret


def decrypt_payload(
    envelope: api_pb2.SecureEnvelope, encryption_key: bytes, secret: bytes
) -> api_pb2.Payload:
    """Steps 16-18: HMAC (constant time), AES-GCM with the trailing nonce, Payload decode."""
    expected = hmac.new(secret, envelope.payload, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, envelope.hmac):
        raise InvalidSignatureError("hmac does not match the payload")
    data = envelope.payload
    if len(data) < NONCE_BYTES + TAG_BYTES:
        raise InvalidKeyError("payload is shorter than a GCM tag and nonce")
    try:
        plaintext = AESGCM(encryption_key).decrypt(data[-NONCE_BYTES:], data[:-NONCE_BYTES], None)
    except InvalidTag:
        raise InvalidKeyError("payload does not decrypt with the envelope key") from None
    payload = api_pb2.Payload()
    try:
        payload.ParseFromString(plaintext)
    except DecodeError:
        raise EnvelopeDecodeError("decrypted payload is not a trisa.api.v1beta1.Payload") from None
    return payload


def open_unsealed(envelope: api_pb2.SecureEnvelope) -> api_pb2.Payload:
    """Decrypt an envelope whose key and secret travel in clear (local storage, TRP)."""
    check_algorithms(envelope)
    encryption_key, secret = _check_secrets(envelope.encryption_key, envelope.hmac_secret)
    return decrypt_payload(envelope, encryption_key, secret)


@dataclass(frozen=True)
class OpenedEnvelope:
    """An envelope that passed every local check of 6.1, with its payload unpacked."""

    envelope: api_pb2.SecureEnvelope
    envelope_id: str
    parts: PayloadParts

    @property
    def payload(self) -> api_pb2.Payload:
        return self.parts.payload


def open_envelope(
    envelope: api_pb2.SecureEnvelope,
    keys: KeyRing,
    *,
    allow_unsealed: bool = False,
    accept_confirmation_receipt: bool = False,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
) -> OpenedEnvelope:
    """Run steps 2-6, 10-12 and 14-20 in order and return the opened payload.

    An error-only (or payload-with-error) envelope raises NoPayloadError: asking it
    for a payload is a mistake of the caller, who should look at `classify` first.
    """
    kind = check_structure(envelope, max_payload=max_payload)
    if kind in (EnvelopeKind.ERROR, EnvelopeKind.SEALED_ERROR, EnvelopeKind.UNSEALED_ERROR):
        raise NoPayloadError("this is an error envelope; it carries no payload to open")
    if kind is EnvelopeKind.UNSEALED and allow_unsealed:
        payload = open_unsealed(envelope)
    else:
        check_sealed(envelope)
        private_key = keys.find(envelope.public_key_signature)
        encryption_key, secret = unseal_secrets(envelope, private_key)
        payload = decrypt_payload(envelope, encryption_key, secret)
    parts = check_payload(payload, accept_confirmation_receipt=accept_confirmation_receipt)
    return OpenedEnvelope(envelope, normalize_envelope_id(envelope.id), parts)
