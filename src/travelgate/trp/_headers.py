"""The TRP request headers: `api-version`, `request-identifier`, `api-extensions` (TRP v3).

A server accepts exactly the versions it is configured for (the reference accepts only
3.1.0) and answers with its own; the request identifier names the transfer and is reused
on every message and retry of it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from travelgate.errors import TrpHeaderError
from travelgate.trp._json import JSON_CONTENT_TYPE

API_VERSION = "3.1.0"
ACCEPTED_API_VERSIONS: frozenset[str] = frozenset({API_VERSION})
MAX_REQUEST_IDENTIFIER_LENGTH = 256

API_VERSION_HEADER = "api-version"
REQUEST_IDENTIFIER_HEADER = "request-identifier"
API_EXTENSIONS_HEADER = "api-extensions"

_SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True)
class RequestHeaders:
    """The TRP headers of one request, checked."""

    api_version: str
    request_identifier: str
    extensions: tuple[str, ...] = ()


def parse_request_headers(
    headers: Mapping[str, str],
    *,
    accepted_versions: Collection[str] = ACCEPTED_API_VERSIONS,
    require_identifier: bool = True,
) -> RequestHeaders:
    """Check the headers of a TRP request (`headers` looked up case-insensitively by the
    caller's mapping, e.g. aiohttp's). GETs may omit `request-identifier`.
    """
    version = _header(headers, API_VERSION_HEADER).strip()
    if version not in accepted_versions:
        wanted = ", ".join(sorted(accepted_versions))
        got = f" (got {version[:40]!r})" if version else ""
        raise TrpHeaderError(f"must specify api version header {wanted}{got}")
    identifier = _header(headers, REQUEST_IDENTIFIER_HEADER).strip()
    if require_identifier and not identifier:
        raise TrpHeaderError("must specify request identifier")
    if identifier and (
        len(identifier) > MAX_REQUEST_IDENTIFIER_LENGTH or not _VISIBLE_ASCII.fullmatch(identifier)
    ):
        raise TrpHeaderError(
            "request identifier must be printable ASCII without spaces, at most "
            f"{MAX_REQUEST_IDENTIFIER_LENGTH} characters"
        )
    extensions = parse_extension_names(_header(headers, API_EXTENSIONS_HEADER))
    return RequestHeaders(version, identifier, extensions)


def parse_extension_names(value: str) -> tuple[str, ...]:
    """`a, b,,c` -> ("a", "b", "c"): split on commas, trimmed, empties and repeats dropped."""
    names = (name.strip() for name in value.split(","))
    return tuple(dict.fromkeys(name for name in names if name))


def is_semver(value: str) -> bool:
    return _SEMVER.fullmatch(value) is not None


def new_request_identifier() -> str:
    """A fresh transfer identifier (UUIDv4, which every known implementation accepts)."""
    return str(uuid.uuid4())


def request_headers(
    request_identifier: str,
    *,
    api_version: str = API_VERSION,
    extensions: Iterable[str] = (),
    with_body: bool = True,
) -> dict[str, str]:
    """The headers of a TRP request we send."""
    headers = {
        API_VERSION_HEADER: api_version,
        REQUEST_IDENTIFIER_HEADER: request_identifier,
        "accept": "application/json",
    }
    names = ", ".join(extensions)
    if names:
        headers[API_EXTENSIONS_HEADER] = names
    if with_body:
        headers["content-type"] = JSON_CONTENT_TYPE
    return headers


def response_headers(
    request_identifier: str, *, api_version: str = API_VERSION, with_json: bool = True
) -> dict[str, str]:
    """The headers of a TRP response: our version, the request's identifier echoed."""
    headers = {API_VERSION_HEADER: api_version}
    if request_identifier:
        headers[REQUEST_IDENTIFIER_HEADER] = request_identifier
    if with_json:
        headers["content-type"] = JSON_CONTENT_TYPE
    return headers


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), "")
    return value
