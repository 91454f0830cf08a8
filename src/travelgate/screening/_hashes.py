"""Hash functions of the two chains: Keccak-256 (Ethereum) and HASH160 / double SHA-256 (Bitcoin).

Keccak-256 is the original Keccak submission, not NIST SHA3-256 (their padding differs), and
RIPEMD-160 is missing from many OpenSSL 3 builds of hashlib, so both come from pycryptodome.
"""

from __future__ import annotations

import hashlib

from Crypto.Hash import RIPEMD160, keccak


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def hash160(data: bytes) -> bytes:
    """RIPEMD-160 of SHA-256: the hash inside P2PKH, P2SH and P2WPKH addresses."""
    return RIPEMD160.new(hashlib.sha256(data).digest()).digest()
