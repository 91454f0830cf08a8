"""TRP bodies as JSON: one object in, plain decimal numbers out (TRP v3).

Numbers are read as `Decimal` so an amount keeps every digit it was sent with, and written
without exponents (`0.0000001`, never `1e-07`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from travelgate.errors import TrpBodyError, TrpMediaTypeError, TrpTooLargeError

MAX_BODY_BYTES = 10 * 1024 * 1024
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def check_content_type(value: str | None) -> None:
    """An absent content-type means JSON; anything but application/json is refused (415)."""
    if value is None or not value.strip():
        return
    media_type, _, parameters = value.partition(";")
    if media_type.strip().lower() != "application/json":
        raise TrpMediaTypeError(f"content-type must be application/json, not {value[:80]!r}")
    for parameter in parameters.split(";"):
        name, _, charset = parameter.partition("=")
        if name.strip().lower() == "charset" and charset.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            raise TrpMediaTypeError(f"JSON bodies are UTF-8, not charset {charset.strip()!r}")


def parse_object(body: bytes | str, *, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The single JSON object of a body; 413 over `limit`, 400 for anything else."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(raw) > limit:
        raise TrpTooLargeError(f"request body must not be larger than {limit} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TrpBodyError(f"request body is not UTF-8 (at byte {exc.start})") from None
    if not text.strip():
        raise TrpBodyError("request body must not be empty")
    decoder = json.JSONDecoder(
        parse_float=Decimal,
        parse_constant=_refuse_constant,
        object_pairs_hook=_object_without_duplicates,
    )
    start = len(text) - len(text.lstrip())
    try:
        value, end = decoder.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        # Counted like the reference server: the offending character included (1-based).
        raise TrpBodyError(
            f"request body contains badly-formed JSON (at position {exc.pos + 1})"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise TrpBodyError(f"request body contains badly-formed JSON: {exc}") from None
    if text[end:].strip():
        raise TrpBodyError("request body must only contain a single JSON object")
    if not isinstance(value, dict):
        raise TrpBodyError("request body must be a JSON object")
    return value


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON; `Decimal` numbers in plain notation."""
    return _text(value).encode("utf-8")


def plain_decimal(number: Decimal) -> str:
    """`number` without an exponent, trailing zeros kept as given (`1E+2` -> `100`)."""
    text = format(number, "f")
    return "0" if text in ("-0", "") else text


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, Mapping):
        members = (json.dumps(str(key)) + ":" + _text(item) for key, item in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_text(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"duplicate key {key!r}")
        found[key] = value
    return found
