"""Moments as travelgate writes and reads them: RFC 3339 text in UTC.

Everything the gateway stores, sends or shows is written here, so one format holds
everywhere: `2025-07-15T10:46:38.123456Z` (microseconds, sortable as text: the store
compares and orders these strings), or to the second where people read it (certificate
validity, Pending windows, log lines).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# RFC 3339 with a mandatory zone; Python's own parsers are more lenient than the
# TRISA reference (naive values, a space for T, the basic format), so match the shape first.
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def format_timestamp(moment: datetime | None = None) -> str:
    """RFC 3339 in UTC with microseconds, as the gateway emits it: 2025-07-15T10:46:38.123456Z."""
    moment = datetime.now(UTC) if moment is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_timestamp_seconds(moment: datetime) -> str:
    """RFC 3339 in UTC to the second (certificate validity, Pending windows, messages)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_text() -> str:
    """This moment as the store writes it."""
    return format_timestamp()


def parse_stored(text: str) -> datetime:
    """An aware datetime from text travelgate wrote (`...Z`) or any ISO time with a zone."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_zoned(text: str) -> datetime | None:
    """A time a person typed (RFC 3339, `Z` or an offset; a space for `T` is tolerated),
    or None when it is not one or names no zone."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def parse_rfc3339(value: str, field: str) -> datetime:
    """Exactly RFC 3339 with a zone, as the TRISA reference reads it; ValueError otherwise,
    with a message naming `field`.

    Fractions beyond microseconds are truncated (Python datetimes stop there); keep the
    original string when exact ordering ties matter.
    """
    match = _RFC3339.match(value)
    if match is None:
        if not value:
            raise ValueError(f"{field} is missing")
        raise ValueError(f"{field} is not an RFC 3339 timestamp with a time zone")
    fraction = (match.group(7) or "")[:7]
    zone = match.group(8).upper()
    text = f"{value[:10]}T{value[11:19]}{fraction}{'+00:00' if zone == 'Z' else zone}"
    try:
        moment = datetime.fromisoformat(text)
        # 0001-01-01T00:00:00+01:00 and 9999-12-31T23:59:59-01:00 have no UTC instant, so
        # comparing or storing them would fail far from here.
        moment.astimezone(UTC)
    except ValueError:
        raise ValueError(f"{field} is not a valid date and time") from None
    except OverflowError:
        raise ValueError(f"{field} is outside the years 1 to 9999 in UTC") from None
    return moment
