"""At-rest sealing of personal data with the node's storage key (pynacl SecretBox).

Decrypted identities never reach the database in clear; deleting the key (or a row)
crypto-shreds what it sealed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from pathlib import Path

import nacl.exceptions
import nacl.secret
import nacl.utils

from travelgate._keyfile import read_or_create
from travelgate.errors import ConfigError, StoreError


class Sealer:
    """Seals and opens blobs with one 32-byte key (XSalsa20-Poly1305)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != nacl.secret.SecretBox.KEY_SIZE:
            raise ConfigError(f"storage key must be {nacl.secret.SecretBox.KEY_SIZE} bytes")
        self._box = nacl.secret.SecretBox(key)
        # A key of its own for digests, so that no MAC ever shares the sealing key's use.
        self._digest_key = hmac.new(key, b"travelgate digest key", hashlib.sha256).digest()

    def digest(self, data: bytes) -> str:
        """A keyed digest (HMAC-SHA256): comparable, but worthless without the key file."""
        return hmac.new(self._digest_key, data, hashlib.sha256).hexdigest()

    def seal(self, data: bytes) -> bytes:
        return bytes(self._box.encrypt(data))

    def open(self, sealed: bytes) -> bytes:
        try:
            return bytes(self._box.decrypt(sealed))
        except nacl.exceptions.CryptoError:
            raise StoreError(
                "a stored record does not open with this storage key (wrong key file?)"
            ) from None


def load_or_create_key(path: Path) -> bytes:
    """Read the base64 storage key, creating it (mode 0600) on first start; replicas that
    start together agree on one key (see `travelgate._keyfile`)."""
    text = read_or_create(path, _new_key_text, what="storage key")
    try:
        key = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ConfigError(f"storage key {path} is not base64") from None
    if len(key) != nacl.secret.SecretBox.KEY_SIZE:
        raise ConfigError(
            f"storage key {path} holds {len(key)} bytes, not {nacl.secret.SecretBox.KEY_SIZE}"
        )
    return key


def _new_key_text() -> str:
    return base64.b64encode(nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)).decode("ascii")
