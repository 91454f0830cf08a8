"""Travel Addresses: "ta" + base58(url || checksum), the routing handle of TRP (TRP v3).

`encode_travel_address` is strict like the reference's `Encode` (a scheme-less URL that
already carries `t=i` and names a real top-level domain); `make_travel_address` is the
lenient minting form (any scheme stripped, `t=i` set, query keys sorted, as `Make`).
"""

from __future__ import annotations

import hashlib
import ipaddress
from functools import cache
from urllib.parse import SplitResult, parse_qs, parse_qsl, urlencode, urlsplit

from publicsuffixlist import PublicSuffixList

from travelgate.errors import TravelAddressError

PREFIX = "ta"
HTTPS = "https://"
# Far above any real address; bounds the quadratic base58 arithmetic on hostile input.
MAX_TRAVEL_ADDRESS_LENGTH = 4096

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {char: index for index, char in enumerate(_BASE58)}
_CHECKSUM_LENGTH = 4


def encode_travel_address(bare_url: str) -> str:
    """The Travel Address of `host[:port][/path]?query` (no scheme, `t=i` required)."""
    check_bare_url(bare_url)
    raw = bare_url.encode("utf-8")
    return PREFIX + _base58_encode(raw + _checksum(raw))


def decode_travel_address(travel_address: str) -> str:
    """The scheme-less URL a Travel Address carries, checked as `encode_travel_address` does."""
    if not travel_address.startswith(PREFIX):
        raise TravelAddressError("unhandled travel address scheme: it must start with 'ta'")
    if len(travel_address) > MAX_TRAVEL_ADDRESS_LENGTH:
        raise TravelAddressError(
            f"invalid format: longer than {MAX_TRAVEL_ADDRESS_LENGTH} characters"
        )
    data = _base58_decode(travel_address[len(PREFIX) :])
    if len(data) <= _CHECKSUM_LENGTH:
        raise TravelAddressError("invalid format: version and/or checksum bytes missing")
    raw, checksum = data[:-_CHECKSUM_LENGTH], data[-_CHECKSUM_LENGTH:]
    if _checksum(raw) != checksum:
        raise TravelAddressError("checksum error: the travel address is mistyped or altered")
    try:
        bare_url = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TravelAddressError("invalid format: the encoded URL is not UTF-8") from None
    check_bare_url(bare_url)
    return bare_url


def travel_address_url(travel_address: str) -> str:
    """The https URL an inquiry for this Travel Address is POSTed to."""
    return HTTPS + decode_travel_address(travel_address)


def make_travel_address(url: str) -> str:
    """Mint a Travel Address from any URL of our TRP server: scheme dropped, `t=i` set,
    query parameters sorted by key (so the same URL always gives the same address).
    """
    parts = _split(url if "://" in url else "//" + url)
    params = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)]
    params = [(key, value) for key, value in params if key != "t"] + [("t", "i")]
    params.sort(key=lambda pair: pair[0])
    bare_url = f"{parts.netloc}{parts.path}?{urlencode(params)}"
    return encode_travel_address(bare_url)


def check_bare_url(bare_url: str) -> None:
    """Raise TravelAddressError unless `bare_url` may be carried by a Travel Address."""
    if not bare_url:
        raise TravelAddressError("invalid format: the URL is empty")
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in bare_url):
        raise TravelAddressError("invalid format: the URL contains whitespace or control bytes")
    if "://" in bare_url:
        raise TravelAddressError(
            "travel address should not contain protocol scheme (give host/path?t=i)"
        )
    # "host:port/..." would read as scheme "host": force authority parsing.
    parts = _split("//" + bare_url)
    if parse_qs(parts.query).get("t", [""])[0] != "i":
        raise TravelAddressError("missing query string: the URL must carry t=i")
    host = parts.hostname
    if not host or not valid_host(host):
        raise TravelAddressError(f"invalid top level domain in host {host or '(none)'!r}")


def valid_host(host: str) -> bool:
    """An IP literal, localhost, a `.local` name, or a name under a real (IANA) TLD."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    labels = host.lower().split(".")
    if host.lower() == "localhost" or (len(labels) > 1 and labels[-1] == "local"):
        return True
    if len(labels) < 2 or not all(labels):
        return False
    try:
        tld = labels[-1].encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return _suffixes().is_public(tld)


def reference_parse_problem(url: str) -> str | None:
    """Why counterparties on the TRISA Go library (v1.7.0, Envoy) cannot use the Travel
    Address of `url` (with or without `https://`), or None when they can.

    Its URL parser reads a scheme-less `host:port` as scheme and path; when the host does not
    start with a letter (an IP address, `[::1]`, a name such as `1vasp.com`) there is no
    scheme and the colon in the first path segment is refused, so it can neither decode nor
    encode such an address. A port-less name or IPv4 address, or a host starting with a
    letter, is fine.
    """
    authority = url.removeprefix(HTTPS).split("/", 1)[0].split("?", 1)[0]
    if ":" not in authority or (authority[0].isascii() and authority[0].isalpha()):
        return None
    return (
        f"the TRISA Go library (Envoy and other Go peers) cannot parse {authority!r}: a host "
        "that does not start with a letter, with a port, or an IPv6 address; name the host "
        "(a DNS name or localhost) or use the default port 443"
    )


@cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=False)


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError as exc:
        raise TravelAddressError(f"invalid format: {exc}") from None
    return parts


def _checksum(raw: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:_CHECKSUM_LENGTH]


def _base58_encode(raw: bytes) -> str:
    number = int.from_bytes(raw, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_BASE58[remainder])
    zeros = len(raw) - len(raw.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def _base58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _BASE58_INDEX.get(char)
        if index is None:
            raise TravelAddressError(f"invalid format: {char!r} is not a base58 character")
        number = number * 58 + index
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")
