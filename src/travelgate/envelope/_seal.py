"""The send side: seal a Payload for a recipient, build TRISA error-only envelopes."""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import TypeAlias

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2
from travelgate.envelope._formats import format_timestamp, new_envelope_id
from travelgate.envelope._keys import public_key_signature
from travelgate.envelope._payload import check_payload
from travelgate.errors import TrisaError

AES_ALGORITHM = "AES256-GCM"
HMAC_ALGORITHM = "HMAC-SHA256"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16

# RSA-OAEP with SHA-512 both as the hash and inside MGF1, empty label (TRISA RSA-OAEP key sealing).
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA512()), algorithm=hashes.SHA512(), label=None)

TransferState: TypeAlias = api_pb2.TransferState.ValueType


def encrypt_payload(plaintext: bytes, key: bytes, secret: bytes) -> tuple[bytes, bytes]:
    """AES-256-GCM with the nonce appended, and the HMAC-SHA256 over all of it (TRISA)."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext, None) + nonce
    return sealed, hmac.new(secret, sealed, hashlib.sha256).digest()


def seal(
    payload: api_pb2.Payload,
    recipient: rsa.RSAPublicKey,
    *,
    envelope_id: str | None = None,
    transfer_state: TransferState = api_pb2.STARTED,
    timestamp: str | None = None,
    validate: bool = True,
) -> api_pb2.SecureEnvelope:
    """Encrypt and seal `payload` for `recipient` with a fresh key, secret and nonce (TRISA).

    The HMAC secret is separate from the AES key (stricter than the TRISA reference);
    receivers accept both.
    `validate=False` lets tests and the conformance suite seal deliberately bad payloads.
    """
    if validate:
        check_payload(payload)
    key, secret = os.urandom(KEY_BYTES), os.urandom(KEY_BYTES)
    sealed, mac = encrypt_payload(payload.SerializeToString(), key, secret)
    return api_pb2.SecureEnvelope(
        id=envelope_id or new_envelope_id(),
        payload=sealed,
        encryption_key=recipient.encrypt(key, OAEP),
        encryption_algorithm=AES_ALGORITHM,
        hmac=mac,
        hmac_secret=recipient.encrypt(secret, OAEP),
        hmac_algorithm=HMAC_ALGORITHM,
        timestamp=timestamp or format_timestamp(),
        sealed=True,
        public_key_signature=public_key_signature(recipient),
        transfer_state=transfer_state,
    )


def unsealed(
    payload: api_pb2.Payload,
    *,
    envelope_id: str | None = None,
    transfer_state: TransferState = api_pb2.UNSPECIFIED,
    timestamp: str | None = None,
) -> api_pb2.SecureEnvelope:
    """An envelope with its key and secret in clear: for local storage and TRP only."""
    key, secret = os.urandom(KEY_BYTES), os.urandom(KEY_BYTES)
    sealed, mac = encrypt_payload(payload.SerializeToString(), key, secret)
    return api_pb2.SecureEnvelope(
        id=envelope_id or new_envelope_id(),
        payload=sealed,
        encryption_key=key,
        encryption_algorithm=AES_ALGORITHM,
        hmac=mac,
        hmac_secret=secret,
        hmac_algorithm=HMAC_ALGORITHM,
        timestamp=timestamp or format_timestamp(),
        sealed=False,
        transfer_state=transfer_state,
    )


def error_envelope(
    envelope_id: str,
    error: TrisaError | errors_pb2.Error,
    *,
    transfer_state: TransferState | None = None,
    timestamp: str | None = None,
) -> api_pb2.SecureEnvelope:
    """A TRISA error-only envelope: REPAIR when retry, REJECTED otherwise, unless told."""
    proto = error.to_proto() if isinstance(error, TrisaError) else error
    if transfer_state is None:
        transfer_state = api_pb2.REPAIR if proto.retry else api_pb2.REJECTED
    return api_pb2.SecureEnvelope(
        id=envelope_id,
        error=proto,
        timestamp=timestamp or format_timestamp(),
        transfer_state=transfer_state,
    )


def echo_error_state(incoming: TransferState, retry: bool) -> TransferState:
    """The state with which an incoming error envelope is echoed (Envoy's mapping, 6.2)."""
    if incoming == api_pb2.REJECTED:
        return api_pb2.REJECTED
    if incoming == api_pb2.REPAIR:
        return api_pb2.PENDING
    return api_pb2.PENDING if retry else api_pb2.REJECTED
