"""Readers for values of the `[policy]` table, each failing with a `ConfigError` that starts
with the key path (`policy.rules[1].when.value_above: not a decimal: "abc"`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from travelgate.durations import parse_duration
from travelgate.errors import ConfigError

__all__ = [
    "fail",
    "kind_of",
    "read_bool",
    "read_currency",
    "read_decimal",
    "read_duration",
    "read_enum",
    "read_str",
    "read_str_set",
    "read_table",
    "show",
    "sub",
    "toml_key",
]

_E = TypeVar("_E", bound=StrEnum)
_BARE = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(key: str) -> str:
    return key if _BARE.fullmatch(key) else json.dumps(key)


def sub(path: str, key: str) -> str:
    return f"{path}.{toml_key(key)}"


def show(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    name = kind_of(value)
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def kind_of(value: object) -> str:
    if isinstance(value, Mapping):
        return "table"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    return type(value).__name__


def fail(path: str, message: str) -> ConfigError:
    return ConfigError(f"{path}: {message}")


def read_table(
    value: object, path: str, allowed: Sequence[str] | None = None
) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise fail(path, f"expected a table, got {kind_of(value)}")
    for key in value:
        if not isinstance(key, str):
            raise fail(path, f"keys must be strings, got {show(key)}")
        if allowed is not None and key not in allowed:
            raise fail(sub(path, key), f"unknown key (expected one of: {', '.join(allowed)})")
    return value


def read_str(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise fail(path, f"expected a string, got {kind_of(value)}")
    if not value.strip():
        raise fail(path, "must not be empty")
    return value.strip()


def read_bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise fail(path, f"expected true or false, got {show(value)}")
    return value


def read_decimal(value: object, path: str, *, positive: bool = False) -> Decimal:
    if isinstance(value, float):
        raise fail(
            path, f'not a decimal: {show(value)} (write amounts as quoted strings, e.g. "1000.50")'
        )
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise fail(path, f"not a decimal: {show(value)}")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise fail(path, f"not a decimal: {show(value)}") from None
    if not number.is_finite():
        raise fail(path, f"not a decimal: {show(value)}")
    if number < 0:
        raise fail(path, f"must not be negative: {show(value)}")
    if positive and number == 0:
        raise fail(path, f"must be greater than zero: {show(value)}")
    return number


def read_duration(value: object, path: str) -> timedelta:
    if not isinstance(value, str):
        raise fail(path, f'not a duration: {show(value)} (use e.g. "30s", "90m", "24h", "5y")')
    try:
        result = parse_duration(value.strip())
    except ValueError:
        raise fail(
            path, f'not a duration: {show(value)} (use e.g. "30s", "90m", "24h", "5y")'
        ) from None
    if result <= timedelta():
        raise fail(path, f"must be longer than zero: {show(value)}")
    return result


def read_enum(value: object, enum: type[_E], path: str, *, upper: bool = False) -> _E:
    choices = " | ".join(m.value for m in enum)
    if isinstance(value, str):
        text = value.strip().upper() if upper else value.strip()
        for member in enum:
            if member.value == text:
                return member
    raise fail(path, f"must be one of {choices}, got {show(value)}")


def read_currency(value: object, path: str) -> str:
    text = value.strip().upper() if isinstance(value, str) else None
    if text is None or not re.fullmatch(r"[A-Z]{3}", text):
        raise fail(path, f"not an ISO 4217 currency code: {show(value)}")
    return text


def read_str_set(value: object, path: str, *, upper: bool = False) -> frozenset[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise fail(path, f"expected a string or a non-empty array of strings, got {show(value)}")
    out: set[str] = set()
    for index, item in enumerate(items):
        text = read_str(item, f"{path}[{index}]" if isinstance(value, list) else path)
        out.add(text.upper() if upper else text.lower())
    return frozenset(out)
