"""How addresses are compared: the network rules that decide when two spellings are one address.

EVM addresses (0x and 40 hex digits) are case-insensitive: the mixed case of EIP-55 is only a
checksum. Base58 addresses are case-sensitive and compared exactly. A Bech32 address has one
canonical form, lower case; BIP-173 allows the same address written all in upper case (for QR
codes), so an all-upper Bech32 address with a valid checksum is folded to lower case. Anything
else is compared exactly, after trimming surrounding white space.
"""

from __future__ import annotations

import re

from travelgate.errors import EncodingError
from travelgate.screening._encodings import segwit_decode
from travelgate.screening._hashes import keccak256

_EVM = re.compile(r"0[xX][0-9a-fA-F]{40}")


def is_evm_address(address: str) -> bool:
    return _EVM.fullmatch(address) is not None


def address_key(address: str) -> str:
    """The form under which an address is stored and looked up on a sanctions list."""
    text = address.strip()
    if is_evm_address(text):
        return "0x" + text[2:].lower()
    if text.isupper() and "1" in text:
        try:
            segwit_decode(text)
        except EncodingError:
            return text
        return text.lower()
    return text


def eip55_checksum(address: str) -> str:
    """The EIP-55 mixed-case spelling of a 20-byte hex address."""
    digits = address[2:].lower()
    hashed = keccak256(digits.encode("ascii")).hex()
    return "0x" + "".join(
        char.upper() if char.isalpha() and int(hashed[index], 16) >= 8 else char
        for index, char in enumerate(digits)
    )


def eip55_valid(address: str) -> bool:
    """True unless a mixed-case address breaks its checksum (one case only carries none)."""
    digits = address[2:]
    if digits == digits.lower() or digits == digits.upper():
        return True
    return eip55_checksum(address) == "0x" + digits
