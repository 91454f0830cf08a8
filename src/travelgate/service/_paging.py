"""Keyset pages of the internal API: `{"items": [...], "next_cursor": str | null}`.

The cursor is the rowid of the last item, opaque to clients: a page costs the same at the
start of a table of a million rows as at its end.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from travelgate.errors import BadParameterError

MAX_PAGE = 500
_MAX_ROWID = 2**63 - 1
_MAX_CURSOR = 26  # unpadded base64 of the 19 digits of the largest rowid
_CURSOR_TEXT = re.compile(r"[A-Za-z0-9_-]+")
_ROWID = re.compile(rb"0|[1-9][0-9]*")


class _Paged(Protocol):
    @property
    def rowid(self) -> int: ...


P = TypeVar("P", bound=_Paged)


def encode_cursor(rowid: int) -> str:
    return base64.urlsafe_b64encode(str(rowid).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The rowid of a cursor `encode_cursor` made; any other text is 400 `bad_cursor`.

    Only the exact text we hand out is accepted: a rowid SQLite can bind (a signed 64-bit
    integer, so a huge one cannot fail the query), written in canonical ASCII decimal.
    """
    if not cursor:
        return None
    value = None
    if len(cursor) <= _MAX_CURSOR and len(cursor) % 4 != 1 and _CURSOR_TEXT.fullmatch(cursor):
        digits = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if _ROWID.fullmatch(digits) and int(digits) <= _MAX_ROWID:
            value = int(digits)
    if value is None or encode_cursor(value) != cursor:
        raise BadParameterError("bad_cursor", "cursor is not one this API returned", field="cursor")
    return value


def parse_limit(text: str | None, default: int = 50) -> int:
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise BadParameterError(
            "bad_limit", f"limit must be an integer from 1 to {MAX_PAGE}", field="limit"
        )
    return int(text)


def check_state(state: str | None, allowed: Iterable[str]) -> None:
    names = list(allowed)
    if state is not None and state not in names:
        raise BadParameterError(
            "bad_state", f"state must be one of {', '.join(names)}", field="state"
        )


def page_of(rows: Sequence[P], limit: int, view: Callable[[P], dict[str, Any]]) -> dict[str, Any]:
    """The page of `rows`, fetched with `limit + 1` to know whether another page follows."""
    shown = rows[:limit]
    more = len(rows) > limit
    return {
        "items": [view(row) for row in shown],
        "next_cursor": encode_cursor(shown[-1].rowid) if more else None,
    }
