"""The discoverability extension and `/identity`: what a TRP host says about itself
(TRP v3). Answers from peers are read leniently: unknown members are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from travelgate.errors import TrpBodyError
from travelgate.trp._json import dumps, parse_object

VENDOR = "travelgate"
DISCOVERY_PATHS = ("/version", "/uptime", "/extensions", "/identity")


@dataclass(frozen=True)
class VersionInfo:
    """`GET /version`: the TRP version spoken and the vendor."""

    version: str
    vendor: str = VENDOR


@dataclass(frozen=True)
class ExtensionsInfo:
    """`GET /extensions`: extensions a peer must use with us, and those we understand."""

    required: tuple[str, ...] = ()
    supported: tuple[str, ...] = ()


@dataclass(frozen=True)
class IdentityInfo:
    """`GET /identity`: legal name, LEI and the PEM certificate of the TRP host."""

    name: str = ""
    lei: str = ""
    x509: str = ""


Discovery: TypeAlias = VersionInfo | ExtensionsInfo | IdentityInfo


def discovery_json(info: Discovery) -> dict[str, Any]:
    match info:
        case VersionInfo():
            return {"version": info.version, "vendor": info.vendor}
        case ExtensionsInfo():
            return {"required": list(info.required), "supported": list(info.supported)}
        case IdentityInfo():
            return {
                key: value
                for key, value in (("name", info.name), ("lei", info.lei), ("x509", info.x509))
                if value
            }
    raise TypeError(f"not a discovery answer: {type(info).__name__}")


def emit_discovery(info: Discovery) -> bytes:
    return dumps(discovery_json(info))


def parse_version(body: bytes | str) -> VersionInfo:
    document = parse_object(body)
    return VersionInfo(
        version=_text(document, "version"), vendor=_text(document, "vendor", required=False)
    )


def parse_extensions(body: bytes | str) -> ExtensionsInfo:
    document = parse_object(body)
    return ExtensionsInfo(
        required=_names(document, "required"), supported=_names(document, "supported")
    )


def parse_identity(body: bytes | str) -> IdentityInfo:
    document = parse_object(body)
    return IdentityInfo(
        name=_text(document, "name", required=False),
        lei=_text(document, "lei", required=False),
        x509=_text(document, "x509", required=False),
    )


def emit_uptime(seconds: float) -> bytes:
    """`GET /uptime` is text/plain: whole seconds."""
    return str(max(0, int(seconds))).encode("ascii")


def parse_uptime(body: bytes | str) -> int:
    text = (body.decode("utf-8", "replace") if isinstance(body, bytes) else body).strip()
    if not text.isdigit() or len(text) > 20:
        raise TrpBodyError(f"uptime must be whole seconds, not {text[:40]!r}")
    return int(text)


def _text(document: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = document.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise TrpBodyError(f'answer must carry "{name}" as a string')
    return value


def _names(document: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = document.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TrpBodyError(f'answer must carry "{name}" as a list of extension names')
    return tuple(value)
