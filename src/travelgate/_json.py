"""Strict JSON for text from outside: one error type for every way a document can be wrong.

The standard library parser accepts what our documents must not hold: lone surrogates
(`"\\ud800"`, which cannot be encoded as UTF-8 to be hashed, stored or forwarded), integers
of any length (4,301+ digits raise a bare ValueError), NaN and Infinity, literals that
overflow to infinity (`1e999`), repeated keys (the last one silently wins) and unbounded
nesting. `load_json` refuses each with a JsonInputError that says what and, where it
can, at which field.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from travelgate.errors import (
    JsonInputError,
)

MAX_NUMBER_CHARS = 100
MAX_DEPTH = 64

_SURROGATE = re.compile("[\ud800-\udfff]")


def _number(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonInputError(f"a number of more than {MAX_NUMBER_CHARS} characters")


def _integer(text: str) -> int:
    _number(text)
    return int(text)


def _float(text: str) -> float:
    _number(text)
    value = float(text)
    if not math.isfinite(value):
        raise JsonInputError(f"the number {text} is too large")
    return value


def _constant(name: str) -> Any:
    raise JsonInputError(f"{name} is not a JSON number")


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonInputError(f"the key {key!r} appears twice in one object")
            seen.add(key)
    return result


def load_json(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse one JSON document (UTF-8 when given bytes), or raise JsonInputError."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonInputError(f"not UTF-8 text (byte {exc.start})") from None
    else:
        text = data
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as exc:
        raise JsonInputError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise JsonInputError(f"nested deeper than {max_depth} levels") from None
    _check_tree(value, max_depth)
    return value


def _check_tree(root: Any, max_depth: int) -> None:
    """Refuse lone surrogates in keys and strings, and nesting beyond `max_depth`."""
    stack: list[tuple[Any, str, int]] = [(root, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise JsonInputError(
                    f"{path or 'the document'} holds a lone UTF-16 surrogate", field=path or None
                )
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= max_depth:
            raise JsonInputError(f"nested deeper than {max_depth} levels")
        if isinstance(value, list):
            stack.extend((item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value))
            continue
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if _SURROGATE.search(key):
                raise JsonInputError(
                    f"a key of {path or 'the document'} holds a lone UTF-16 surrogate",
                    field=path or None,
                )
            stack.append((item, where, depth + 1))
