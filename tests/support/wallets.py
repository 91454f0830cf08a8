"""Wallet signatures made the way wallets make them, with maintained libraries (tests only)."""

from __future__ import annotations

from eth_keys import keys  # type: ignore[attr-defined]


def eth_personal_sign(private_key: bytes, message: str) -> str:
    """personal_sign: r || s || 27 + recovery id, over the EIP-191 version 0x45 message."""
    data = message.encode()
    prefixed = b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data
    raw = keys.PrivateKey(private_key).sign_msg(prefixed).to_bytes()
    return "0x" + raw[:64].hex() + bytes([raw[64] + 27]).hex()


def eth_address(private_key: bytes) -> str:
    return str(keys.PrivateKey(private_key).public_key.to_checksum_address())
