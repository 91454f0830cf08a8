"""Wire formats of envelope metadata: envelope ids and timestamps (TRISA envelope metadata)."""

from __future__ import annotations

import uuid
from datetime import datetime

from travelgate.errors import BadRequestError, InvalidEnvelopeIdError
from travelgate.timestamps import format_timestamp, format_timestamp_seconds, parse_rfc3339

__all__ = [
    "format_timestamp",
    "format_timestamp_seconds",
    "is_timestamp",
    "new_envelope_id",
    "normalize_envelope_id",
    "parse_timestamp",
]

_HEX = frozenset("0123456789abcdefABCDEF")
_HYPHENS = (8, 13, 18, 23)
_URN = "urn:uuid:"


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
    """Parse an RFC 3339 timestamp with a zone into an aware datetime, or raise BAD_REQUEST."""
    try:
        return parse_rfc3339(value, field)
    except ValueError as exc:
        raise BadRequestError(str(exc)) from None


def is_timestamp(value: str) -> bool:
    try:
        parse_rfc3339(value, "timestamp")
    except ValueError:
        return False
    return True
