"""The node's audit key: an Ed25519 key that signs every audit record and every export.

Kept in its own file (`[storage] audit_key_file`, base64 of the 32-byte seed, mode 0600),
apart from the storage key: whoever can read the database cannot forge the trail, and the
public half can be handed to anyone who must check an export.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

import nacl.exceptions
import nacl.signing

from travelgate._keyfile import read_or_create
from travelgate.errors import ConfigError

SEED_BYTES = 32


class AuditKey:
    """Signs with the node's Ed25519 audit key."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != SEED_BYTES:
            raise ConfigError(f"audit key must be {SEED_BYTES} bytes")
        self._signing = nacl.signing.SigningKey(seed)

    @classmethod
    def generate(cls) -> AuditKey:
        """A key nobody keeps: for stores opened without a node configuration (tests)."""
        return cls(os.urandom(SEED_BYTES))

    @property
    def public_key(self) -> bytes:
        return bytes(self._signing.verify_key)

    @property
    def public_key_text(self) -> str:
        return public_key_text(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return bytes(self._signing.sign(message).signature)


def public_key_text(public_key: bytes) -> str:
    """How a public key is written in exports and manifests: `ed25519:<base64>`."""
    return "ed25519:" + base64.b64encode(public_key).decode("ascii")


def parse_public_key(text: str) -> bytes:
    """The 32 bytes of an `ed25519:<base64>` public key; ValueError when it is not one."""
    scheme, _sep, encoded = text.partition(":")
    if scheme != "ed25519":
        raise ValueError(f"not an ed25519 public key: {text[:40]!r}")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError("public key is not base64") from None
    if len(raw) != SEED_BYTES:
        raise ValueError(f"public key holds {len(raw)} bytes, not {SEED_BYTES}")
    return raw


def fingerprint(public_key: bytes) -> str:
    """A short name for a public key (SHA-256, first 16 hex digits)."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def signature_holds(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, TypeError):
        return False
    return True


def load_or_create_audit_key(path: Path) -> AuditKey:
    """Read the base64 audit key seed, creating it (mode 0600) on first start; replicas that
    start together agree on one key (see `travelgate._keyfile`)."""
    text = read_or_create(
        path,
        lambda: base64.b64encode(os.urandom(SEED_BYTES)).decode("ascii"),
        what="[storage] audit_key_file",
    )
    try:
        seed = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ConfigError(f"[storage] audit_key_file {path} is not base64") from None
    if len(seed) != SEED_BYTES:
        raise ConfigError(
            f"[storage] audit_key_file {path} holds {len(seed)} bytes, not {SEED_BYTES}"
        )
    return AuditKey(seed)
