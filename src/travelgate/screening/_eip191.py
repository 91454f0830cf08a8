"""Ethereum `personal_sign` proofs (EIP-191 version 0x45): who signed a message.

The signed digest is Keccak-256 of "\\x19Ethereum Signed Message:\\n" + the decimal byte length
+ the message. The signature is r || s || v (65 bytes, hex); v is 27/28 (or 0/1 from some
signers). The public key is recovered with libsecp256k1 (coincurve), and its address is the
last 20 bytes of the Keccak-256 of the uncompressed key without its 0x04 prefix.
"""

from __future__ import annotations

import coincurve

from travelgate.errors import InvalidProofError
from travelgate.screening._addresses import eip55_valid, is_evm_address
from travelgate.screening._hashes import keccak256

_PREFIX = b"\x19Ethereum Signed Message:\n"


def personal_sign_digest(message: str) -> bytes:
    data = message.encode("utf-8")
    return keccak256(_PREFIX + str(len(data)).encode("ascii") + data)


def address_of_public_key(public_key: coincurve.PublicKey) -> str:
    return "0x" + keccak256(public_key.format(compressed=False)[1:])[-20:].hex()


def recover_eip191_signer(message: str, signature: str) -> str:
    """The (lower-case) address whose key made `signature` over `message`."""
    text = signature.strip()
    if text[:2] in ("0x", "0X"):
        text = text[2:]
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise InvalidProofError("the eip191 signature is not hex") from None
    if len(raw) != 65:
        raise InvalidProofError(f"an eip191 signature is 65 bytes, this one is {len(raw)}")
    v = raw[64]
    recovery_id = v - 27 if v >= 27 else v
    if recovery_id not in (0, 1):
        raise InvalidProofError(f"the eip191 signature's v byte ({v}) is not 27 or 28")
    try:
        public_key = coincurve.PublicKey.from_signature_and_message(
            raw[:64] + bytes([recovery_id]), personal_sign_digest(message), hasher=None
        )
    except (ValueError, TypeError):
        raise InvalidProofError(
            "no public key can be recovered from the eip191 signature"
        ) from None
    return address_of_public_key(public_key)


def verify_eip191(address: str, message: str, signature: str) -> None:
    """Pass if `signature` is a `personal_sign` of `message` by `address`, else InvalidProofError.

    A mixed-case address must carry a valid EIP-55 checksum: a typo in it is refused rather
    than compared case-insensitively.
    """
    candidate = address.strip()
    if not is_evm_address(candidate):
        raise InvalidProofError("an eip191 proof needs an Ethereum address (0x and 40 hex digits)")
    if not eip55_valid(candidate):
        raise InvalidProofError("the address's EIP-55 checksum (its mixed case) is wrong")
    signer = recover_eip191_signer(message, signature)
    if signer != "0x" + candidate[2:].lower():
        raise InvalidProofError("the signature was not made by the key of this address")
