"""Bounded, strict JSON reading: size and depth limits, duplicate keys, no NaN (IVMS101 pitfalls).

The standard library parser keeps the last of two equal keys and accepts NaN/Infinity; here
an object with repeated keys keeps the *first* value and lists the repeats, so the decoder
can report DUPLICATE_FIELD at the second occurrence.
"""

from __future__ import annotations

import json
from typing import Any

DEFAULT_MAX_SIZE = 1024 * 1024  # bytes
DEFAULT_MAX_DEPTH = 32

BOM_BYTES = b"\xef\xbb\xbf"
_BOM = "\ufeff"


class ParseFailure(Exception):  # noqa: N818 (internal signal, never escapes the package)
    """The input cannot be read as JSON (or protobuf); the message holds no document data."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DupDict(dict[str, Any]):
    """A JSON object in which some keys were repeated; `dups` lists them in document order."""

    __slots__ = ("dups",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.dups: list[str] = []
        for key, value in pairs:
            if key in self:
                self.dups.append(key)
            else:
                self[key] = value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        return DupDict(pairs)
    return result


def _no_constants(name: str) -> Any:
    raise ParseFailure(f"{name} is not a valid JSON number")


def has_bom(data: bytes | str) -> bool:
    return data.startswith(BOM_BYTES) if isinstance(data, bytes) else data.startswith(_BOM)


def strip_bom(data: bytes | str) -> bytes | str:
    if isinstance(data, bytes):
        return data[len(BOM_BYTES) :] if data.startswith(BOM_BYTES) else data
    return data[1:] if data.startswith(_BOM) else data


def check_size(data: bytes | str, max_size: int) -> None:
    size = len(data)
    if isinstance(data, str) and size * 4 > max_size:
        size = len(data.encode("utf-8", "surrogatepass"))
    if size > max_size:
        raise ParseFailure(f"input of {size} bytes exceeds the limit of {max_size} bytes")


def loads(data: bytes | str) -> Any:
    """Parse JSON text (BOM already handled) into Python values."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseFailure(f"input is not valid UTF-8 (byte {exc.start})") from None
    else:
        text = data
    try:
        return json.loads(text, object_pairs_hook=_object, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise ParseFailure(
            f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise ParseFailure("JSON nesting is too deep") from None
    except ValueError as exc:  # e.g. an integer beyond the interpreter's digit limit
        if isinstance(exc, ParseFailure):
            raise
        raise ParseFailure("invalid JSON: a value cannot be represented") from None
