"""Bitcoin address encodings: Base58Check and Bech32 / Bech32m (BIP-173, BIP-350).

Written from the BIPs; these are text encodings with checksums, no curve arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

from travelgate.errors import EncodingError
from travelgate.screening._hashes import sha256d

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {char: index for index, char in enumerate(BASE58_ALPHABET)}

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {char: index for index, char in enumerate(BECH32_CHARSET)}
_BECH32_CONSTANT = 1
_BECH32M_CONSTANT = 0x2BC830A3
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


# -- Base58Check -------------------------------------------------------------------------


def base58check_encode(payload: bytes) -> str:
    data = payload + sha256d(payload)[:4]
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(BASE58_ALPHABET[remainder])
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + "".join(reversed(digits))


def base58check_decode(text: str) -> bytes:
    """The payload (version byte first) of a Base58Check string whose checksum holds."""
    number = 0
    for char in text:
        if char not in _BASE58_INDEX:
            raise EncodingError(f"{char!r} is not a Base58 character")
        number = number * 58 + _BASE58_INDEX[char]
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    data = b"\0" * (len(text) - len(text.lstrip("1"))) + body
    if len(data) < 5:
        raise EncodingError("too short for Base58Check")
    payload, checksum = data[:-4], data[-4:]
    if sha256d(payload)[:4] != checksum:
        raise EncodingError("Base58Check checksum does not match")
    return payload


# -- Bech32 / Bech32m ------------------------------------------------------------------


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit, generator in enumerate(_GENERATOR):
            if (top >> bit) & 1:
                checksum ^= generator
    return checksum


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(char) >> 5 for char in hrp] + [0] + [ord(char) & 31 for char in hrp]


def _convert_bits(data: list[int] | bytes, source: int, target: int, *, pad: bool) -> list[int]:
    accumulator, bits, result = 0, 0, []
    limit = (1 << target) - 1
    for value in data:
        accumulator = (accumulator << source) | value
        bits += source
        while bits >= target:
            bits -= target
            result.append((accumulator >> bits) & limit)
    if pad and bits:
        result.append((accumulator << (target - bits)) & limit)
    elif not pad and (bits >= source or (accumulator << (target - bits)) & limit):
        raise EncodingError("invalid padding in the witness program")
    return result


@dataclass(frozen=True)
class WitnessAddress:
    hrp: str
    version: int
    program: bytes


def segwit_encode(hrp: str, version: int, program: bytes) -> str:
    data = [version, *_convert_bits(program, 8, 5, pad=True)]
    constant = _BECH32_CONSTANT if version == 0 else _BECH32M_CONSTANT
    polymod = _polymod([*_hrp_expand(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ constant
    checksum = [(polymod >> 5 * (5 - index)) & 31 for index in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[value] for value in data + checksum)


def segwit_decode(text: str) -> WitnessAddress:
    """A segwit address (BIP-173 for version 0, BIP-350 for 1 and above)."""
    if text.lower() != text and text.upper() != text:
        raise EncodingError("Bech32 strings are all lower case or all upper case, never mixed")
    text = text.lower()
    hrp, separator, rest = text.rpartition("1")
    if not separator or not hrp or len(rest) < 6 or len(text) > 90:
        raise EncodingError("not a Bech32 string")
    if any(not 33 <= ord(char) <= 126 for char in hrp):
        raise EncodingError("invalid human-readable part")
    try:
        data = [_BECH32_INDEX[char] for char in rest]
    except KeyError as exc:
        raise EncodingError(f"{exc.args[0]!r} is not a Bech32 character") from None
    constant = _polymod([*_hrp_expand(hrp), *data])
    if constant not in (_BECH32_CONSTANT, _BECH32M_CONSTANT):
        raise EncodingError("Bech32 checksum does not match")
    values = data[:-6]
    if not values or values[0] > 16:
        raise EncodingError("invalid witness version")
    version = values[0]
    if (version == 0) != (constant == _BECH32_CONSTANT):
        raise EncodingError("witness version and checksum variant (Bech32 / Bech32m) disagree")
    program = bytes(_convert_bits(values[1:], 5, 8, pad=False))
    if not 2 <= len(program) <= 40 or (version == 0 and len(program) not in (20, 32)):
        raise EncodingError("invalid witness program length")
    return WitnessAddress(hrp, version, program)
