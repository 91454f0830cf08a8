"""Durations as operators write them: "30s", "90m", "24h", "7d", "2w", "5y".

The one parser of every duration travelgate reads: the policy table (strict: whole
numbers, lower-case units, several parts allowed, "1h30m") and the configuration file and
environment (`loose`: also a bare number of seconds, fractions such as "1.5h", any case,
surrounding blanks). A year is 366 days: durations in years are retention periods, which
are minimums ("at least 5 years", EU TFR 2023/1113 Art. 26), so a year must never be
shorter than a calendar year.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["format_duration", "parse_duration"]

_UNIT_SECONDS: dict[str, int] = {
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
    "y": 366 * 86400,
}
_STRICT_PART = re.compile(r"(\d{1,9})([smhdwy])")
_STRICT = re.compile(r"(?:\d{1,9}[smhdwy])+")
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_LOOSE_PART = re.compile(rf"({_NUMBER})([smhdwy])")
_LOOSE = re.compile(rf"(?:{_NUMBER}[smhdwy])+")
_SECONDS = re.compile(_NUMBER)
_HINT = '(use e.g. "30s", "90m", "24h", "5y")'


def parse_duration(text: str, *, loose: bool = False) -> timedelta:
    """Parse "24h", "90m", "1h30m" ... into a timedelta; raise ValueError on anything else.

    `loose` also takes what configuration files hold: "2" (seconds), "1.5h", " 24H ".
    """
    if not isinstance(text, str):
        raise ValueError(f"not a duration: {text!r} {_HINT}")
    seconds: float
    if not loose:
        if not _STRICT.fullmatch(text):
            raise ValueError(f"not a duration: {text!r} {_HINT}")
        seconds = sum(
            int(number) * _UNIT_SECONDS[unit] for number, unit in _STRICT_PART.findall(text)
        )
    else:
        cleaned = text.strip().lower()
        if _SECONDS.fullmatch(cleaned):
            seconds = float(cleaned)
        elif _LOOSE.fullmatch(cleaned):
            parts = _LOOSE_PART.findall(cleaned)
            seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
        else:
            raise ValueError(f"not a duration: {text!r} {_HINT}")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"not a duration: {text!r} is longer than any date can reach") from None


def format_duration(value: timedelta) -> str:
    """The shortest "1d2h" form of a non-negative timedelta (whole seconds), for records."""
    seconds = int(value.total_seconds())
    if seconds < 0:
        raise ValueError("negative duration")
    if seconds == 0:
        return "0s"
    parts: list[str] = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
