"""Wire formats of envelope metadata: envelope ids and timestamps (TRISA envelope metadata)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from travelgate.errors import BadRequestError, InvalidEnvelopeIdError

_HEX = frozenset("0123456789abcdefABCDEF")
_HYPHENS = (8, 13, 18, 23)
_URN = "urn:uuid:"

# RFC 3339 with a mandatory zone; Python's own parsers are more lenient than the
# reference (naive values, a space for T, the basic format), so match the shape first.
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def _canonical_shape(text: str) -> bool:
    if len(text) != 36:
        return False
    for i, char in enumerate(text):
        if i in _HYPHENS:
            if char != "-":
                return False
        elif char not in _HEX:
            return False
    return True


def normalize_envelope_id(envelope_id: str) -> str:
    """Return the canonical lower-case form of an envelope id, or raise.

    Accepts what the reference parser accepts: the 36-character form in either case, 32 hex
    digits, the braced form and the `urn:uuid:` prefix. The version is not checked.
    """
    text = envelope_id
    if len(text) == 45 and text[:9].lower() == _URN:
        text = text[9:]
    elif len(text) == 38 and text[0] == "{" and text[-1] == "}":
        text = text[1:-1]
    if len(text) == 32 and all(c in _HEX for c in text):
        return str(uuid.UUID(hex=text))
    if _canonical_shape(text):
        return text.lower()
    if not envelope_id:
        raise InvalidEnvelopeIdError("envelope id is missing")
    raise InvalidEnvelopeIdError("envelope id is not a UUID")


def new_envelope_id() -> str:
    """A fresh random (version 4) UUID in canonical lower-case form."""
    return str(uuid.uuid4())


def parse_timestamp(value: str, *, field: str = "timestamp") -> datetime:
    """Parse an RFC 3339 timestamp with a zone into an aware datetime, or raise BAD_REQUEST.

    Fractions beyond microseconds are truncated (Python datetimes stop there); keep the
    original string when exact ordering ties matter.
    """
    match = _RFC3339.match(value)
    if match is None:
        if not value:
            raise BadRequestError(f"{field} is missing")
        raise BadRequestError(f"{field} is not an RFC 3339 timestamp with a time zone")
    fraction = (match.group(7) or "")[:7]
    zone = match.group(8).upper()
    text = f"{value[:10]}T{value[11:19]}{fraction}{'+00:00' if zone == 'Z' else zone}"
    try:
        moment = datetime.fromisoformat(text)
        # 0001-01-01T00:00:00+01:00 and 9999-12-31T23:59:59-01:00 have no UTC instant, so
        # comparing or storing them would fail far from here.
        moment.astimezone(UTC)
    except ValueError:
        raise BadRequestError(f"{field} is not a valid date and time") from None
    except OverflowError:
        raise BadRequestError(f"{field} is outside the years 1 to 9999 in UTC") from None
    return moment


def is_timestamp(value: str) -> bool:
    try:
        parse_timestamp(value)
    except BadRequestError:
        return False
    return True


def format_timestamp(moment: datetime | None = None) -> str:
    """RFC 3339 in UTC with microseconds, as the gateway emits it: 2025-07-15T10:46:38.123456Z."""
    moment = datetime.now(UTC) if moment is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_timestamp_seconds(moment: datetime) -> str:
    """RFC 3339 in UTC to the second (certificate validity, Pending windows)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
