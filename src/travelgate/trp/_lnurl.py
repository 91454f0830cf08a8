"""LNURL, the TRP 2.x addressing: bech32 (BIP-173) of the full URL under "lnurl" (TRP v3).

Decoded for compatibility with older counterparties, never minted. Unlike the `bech32`
reference code there is no 90-character limit: real LNURLs are longer.
"""

from __future__ import annotations

from travelgate.errors import TravelAddressError

HRP = "lnurl"
MAX_LNURL_LENGTH = 4096

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX = {char: index for index, char in enumerate(_CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_CHECKSUM_LENGTH = 6


def is_lnurl(text: str) -> bool:
    return text[: len(HRP) + 1].lower() == HRP + "1"


def decode_lnurl(lnurl: str) -> str:
    """The URL (with its scheme) an LNURL carries."""
    if not is_lnurl(lnurl):
        raise TravelAddressError("unhandled scheme: an LNURL starts with 'lnurl1'")
    if len(lnurl) > MAX_LNURL_LENGTH:
        raise TravelAddressError(f"invalid LNURL: longer than {MAX_LNURL_LENGTH} characters")
    for char in lnurl:
        if not 33 <= ord(char) <= 126:
            raise TravelAddressError(f"invalid LNURL: invalid character {char!r}")
    if lnurl not in (lnurl.lower(), lnurl.upper()):
        raise TravelAddressError("invalid LNURL: mixed upper and lower case")
    text = lnurl.lower()
    separator = text.rfind("1")
    if separator < 1 or separator + _CHECKSUM_LENGTH + 1 > len(text):
        raise TravelAddressError(f"invalid LNURL: invalid separator index {separator}")
    hrp, data_part = text[:separator], text[separator + 1 :]
    data: list[int] = []
    for char in data_part:
        value = _CHARSET_INDEX.get(char)
        if value is None:
            raise TravelAddressError(f"invalid LNURL: invalid character {char!r} in data")
        data.append(value)
    if _polymod(_expand_hrp(hrp) + data) != 1:
        expected = _checksum(hrp, data[:-_CHECKSUM_LENGTH])
        raise TravelAddressError(
            f"invalid LNURL: checksum error (expected {expected}, got {data_part[-6:]})"
        )
    if hrp != HRP:
        raise TravelAddressError(f"invalid LNURL: human-readable part {hrp!r} is not 'lnurl'")
    try:
        return _regroup_to_bytes(data[:-_CHECKSUM_LENGTH]).decode("utf-8")
    except UnicodeDecodeError:
        raise TravelAddressError("invalid LNURL: the encoded URL is not UTF-8") from None


def encode_lnurl(url: str) -> str:
    """The uppercase LNURL of `url` (for tests and tooling; TRP 3 peers get Travel Addresses)."""
    data = _regroup_to_fives(url.encode("utf-8"))
    checksum = _checksum(HRP, data)
    return (HRP + "1" + "".join(_CHARSET[value] for value in data) + checksum).upper()


def _polymod(values: list[int]) -> int:
    check = 1
    for value in values:
        top = check >> 25
        check = ((check & 0x1FFFFFF) << 5) ^ value
        for bit, generator in enumerate(_GENERATOR):
            if (top >> bit) & 1:
                check ^= generator
    return check


def _expand_hrp(hrp: str) -> list[int]:
    return [ord(char) >> 5 for char in hrp] + [0] + [ord(char) & 31 for char in hrp]


def _checksum(hrp: str, data: list[int]) -> str:
    residue = _polymod([*_expand_hrp(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ 1
    return "".join(_CHARSET[(residue >> 5 * (5 - i)) & 31] for i in range(_CHECKSUM_LENGTH))


def _regroup_to_bytes(data: list[int]) -> bytes:
    accumulator = bits = 0
    out = bytearray()
    for value in data:
        accumulator = ((accumulator << 5) | value) & 0xFFF
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((accumulator >> bits) & 0xFF)
    if bits > 4 or accumulator & ((1 << bits) - 1):
        raise TravelAddressError("invalid LNURL: invalid incomplete group")
    return bytes(out)


def _regroup_to_fives(raw: bytes) -> list[int]:
    accumulator = bits = 0
    out: list[int] = []
    for byte in raw:
        accumulator = ((accumulator << 8) | byte) & 0xFFF
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((accumulator >> bits) & 31)
    if bits:
        out.append((accumulator << (5 - bits)) & 31)
    return out
