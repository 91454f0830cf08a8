"""Keyset pages of the internal API: `{"items": [...], "next_cursor": str | null}`.

The cursor is the rowid of the last item, opaque to clients: a page costs the same at the
start of a table of a million rows as at its end.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from travelgate.errors import ApiError

MAX_PAGE = 500


class _Paged(Protocol):
    @property
    def rowid(self) -> int: ...


P = TypeVar("P", bound=_Paged)


def encode_cursor(rowid: int) -> str:
    return base64.urlsafe_b64encode(str(rowid).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        value = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(
            400, "bad_cursor", "cursor is not one this API returned", field="cursor"
        ) from None
    return value


def parse_limit(text: str | None, default: int = 50) -> int:
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise ApiError(
            400, "bad_limit", f"limit must be an integer from 1 to {MAX_PAGE}", field="limit"
        )
    return int(text)


def check_state(state: str | None, allowed: Iterable[str]) -> None:
    names = list(allowed)
    if state is not None and state not in names:
        raise ApiError(400, "bad_state", f"state must be one of {', '.join(names)}", field="state")


def page_of(rows: Sequence[P], limit: int, view: Callable[[P], dict[str, Any]]) -> dict[str, Any]:
    """The page of `rows`, fetched with `limit + 1` to know whether another page follows."""
    shown = rows[:limit]
    more = len(rows) > limit
    return {
        "items": [view(row) for row in shown],
        "next_cursor": encode_cursor(shown[-1].rowid) if more else None,
    }
