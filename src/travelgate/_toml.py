"""A small TOML writer for the files travelgate generates (configs, peers).

`tomllib` only reads; generated files must read back to exactly the document given, which
the tests check. Top-level tables get a [section]; what fits on a line stays inline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def render_toml(document: Mapping[str, Any], *, comment: str = "") -> str:
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    _render_table(lines, (), document, header=None)
    return "\n".join(lines).strip("\n") + "\n"


def _render_table(
    lines: list[str], path: tuple[str, ...], table: Mapping[str, Any], *, header: str | None
) -> None:
    # Top-level tables always get a [section]; below that, whatever fits on a line
    # (possibly behind a dotted key such as name.nameIdentifier) stays inline.
    inline: dict[str, tuple[tuple[str, ...], Any]] = {}
    for key, value in table.items():
        if not path:
            if _is_scalar(value):
                inline[key] = ((key,), value)
        elif (chain := _inline_chain(key, value)) is not None:
            inline[key] = chain
    # A table holding only sub-tables needs no header of its own; an array element does.
    if header is not None and (inline or header.startswith("[[") or not table):
        lines.extend(["", header])
    for keys, value in inline.values():
        lines.append(f"{'.'.join(_key(k) for k in keys)} = {_value(value, multiline=True)}")
    for key, value in table.items():
        if key in inline:
            continue
        sub = (*path, key)
        dotted = ".".join(_key(part) for part in sub)
        if isinstance(value, Mapping):
            _render_table(lines, sub, value, header=f"[{dotted}]")
        elif isinstance(value, list) and all(isinstance(item, Mapping) for item in value):
            for item in value:
                _render_table(lines, sub, item, header=f"[[{dotted}]]")
        else:
            raise TypeError(f"cannot render {dotted} = {value!r} as TOML")


def _inline_chain(key: str, value: Any) -> tuple[tuple[str, ...], Any] | None:
    """The dotted key and value that write `key = value` on one line, if any do."""
    if _inlinable(value):
        return (key,), value
    if isinstance(value, Mapping) and len(value) == 1:
        ((inner_key, inner_value),) = value.items()
        chain = _inline_chain(inner_key, inner_value)
        if chain is not None:
            return (key, *chain[0]), chain[1]
    return None


def _is_scalar(value: Any) -> bool:
    if isinstance(value, list):
        return all(_is_scalar(item) for item in value)
    return isinstance(value, str | int | bool)


def _is_flat_table(value: Any) -> bool:
    return isinstance(value, Mapping) and all(_is_scalar(item) for item in value.values())


def _inlinable(value: Any) -> bool:
    if isinstance(value, list) and value and all(_is_flat_table(item) for item in value):
        return True
    return _is_scalar(value) or _is_flat_table(value)


def _value(value: Any, *, multiline: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        items = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, list):
        if multiline and value and all(isinstance(item, Mapping) for item in value):
            return "[\n" + "".join(f"  {_value(item)},\n" for item in value) + "]"
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot render {value!r} as TOML")


def _string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)
