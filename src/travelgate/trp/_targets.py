"""Where an inquiry goes: a Travel Address, an LNURL or an https URL -> one URL (TRP v3)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from travelgate.errors import TravelAddressError
from travelgate.trp._lnurl import decode_lnurl, is_lnurl
from travelgate.trp._traddr import PREFIX, travel_address_url


def target_url(target: str) -> str:
    """The https URL named by a Travel Address, an LNURL, or an https URL given as is."""
    target = target.strip()
    if not target:
        raise TravelAddressError("empty travel address")
    if is_lnurl(target):
        url = decode_lnurl(target)
    elif target.startswith(PREFIX):
        return travel_address_url(target)
    else:
        parts = urlsplit(target)
        if not parts.scheme or not parts.netloc:
            raise TravelAddressError(
                f"could not identify travel address or trp endpoint in {target[:80]!r}"
            )
        url = target
    if urlsplit(url).scheme.lower() != "https":
        raise TravelAddressError(f"TRP endpoints are https only, not {url[:80]!r}")
    return url


def inquiry_url(target: str) -> str:
    """`target_url` with `t=i` set in its query (keys sorted, as the reference client does)."""
    parts = urlsplit(target_url(target))
    params = [pair for pair in parse_qsl(parts.query, keep_blank_values=True) if pair[0] != "t"]
    params.append(("t", "i"))
    params.sort(key=lambda pair: pair[0])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(params), ""))
