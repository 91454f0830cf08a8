"""Hand-built envelopes: correctly sealed ones whose every secret we know, and their defects.

`envelope.seal` keeps its key and HMAC secret to itself, which is right for the node but
not for a tester that must, say, re-sign a corrupted ciphertext so that only the GCM tag
can catch it (TRISA reference test vectors). So the suite seals by hand, with the same algorithms.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2

NONCE_BYTES = 12
KEY_BYTES = 32


@dataclass(frozen=True)
class Crafted:
    """A sealed envelope and the clear key and secret inside it."""

    envelope: api_pb2.SecureEnvelope
    key: bytes
    secret: bytes

    def copy(self) -> api_pb2.SecureEnvelope:
        duplicate = api_pb2.SecureEnvelope()
        duplicate.CopyFrom(self.envelope)
        return duplicate

    def resigned(self, payload: bytes) -> api_pb2.SecureEnvelope:
        """The envelope with `payload` in place of its own and an HMAC that matches it."""
        changed = self.copy()
        changed.payload = payload
        changed.hmac = hmac.new(self.secret, payload, hashlib.sha256).digest()
        return changed


def craft(
    plaintext: bytes,
    recipient: rsa.RSAPublicKey,
    *,
    envelope_id: str | None = None,
    transfer_state: api_pb2.TransferState.ValueType = api_pb2.STARTED,
    key: bytes | None = None,
) -> Crafted:
    """Seal `plaintext` (normally a serialized Payload) as a TRISA SecureEnvelope is sealed."""
    key = os.urandom(KEY_BYTES) if key is None else key
    secret = os.urandom(KEY_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    payload = AESGCM(key).encrypt(nonce, plaintext, None) + nonce
    envelope = api_pb2.SecureEnvelope(
        id=envelope_id or env.new_envelope_id(),
        payload=payload,
        encryption_key=recipient.encrypt(key, env.OAEP),
        encryption_algorithm=env.AES_ALGORITHM,
        hmac=hmac.new(secret, payload, hashlib.sha256).digest(),
        hmac_secret=recipient.encrypt(secret, env.OAEP),
        hmac_algorithm=env.HMAC_ALGORITHM,
        timestamp=env.format_timestamp(),
        sealed=True,
        public_key_signature=env.public_key_signature(recipient),
        transfer_state=transfer_state,
    )
    return Crafted(envelope, key, secret)


def flip_bit(data: bytes, index: int, bit: int = 0) -> bytes:
    """`data` with one bit of byte `index` inverted (negative indexes count from the end)."""
    changed = bytearray(data)
    changed[index] ^= 1 << bit
    return bytes(changed)


def other_pks(pks: str) -> str:
    """The PKS with one base64 character changed, in a place that changes the digest.

    The last character of an unpadded SHA-256 digest carries two padding bits, so a change
    there may decode to the same digest; the character after the prefix never does.
    """
    prefix, _, digest = pks.partition(":")
    if not digest:
        return pks + "A"
    first = "B" if digest[0] == "A" else "A"
    return f"{prefix}:{first}{digest[1:]}"
