"""Durations as operators write them in the policy table: "30s", "90m", "24h", "7d", "5y".

Several parts may follow each other ("1h30m"). A year is 366 days: durations in years are
retention periods, which are minimums ("at least 5 years", EU TFR 2023/1113 Art. 26), so a year must
never be shorter than a calendar year.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["format_duration", "parse_duration"]

_UNITS: dict[str, timedelta] = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
    "y": timedelta(days=366),
}
_PART = re.compile(r"(\d{1,9})([smhdwy])")
_WHOLE = re.compile(r"(?:\d{1,9}[smhdwy])+")


def parse_duration(text: str) -> timedelta:
    """Parse "24h", "90m", "1h30m" ... into a timedelta; raise ValueError on anything else."""
    if not isinstance(text, str) or not _WHOLE.fullmatch(text):
        raise ValueError(f'not a duration: {text!r} (use e.g. "30s", "90m", "24h", "5y")')
    total = timedelta()
    for number, unit in _PART.findall(text):
        total += int(number) * _UNITS[unit]
    return total


def format_duration(value: timedelta) -> str:
    """The shortest "1d2h" form of a non-negative timedelta (whole seconds), for records."""
    seconds = int(value.total_seconds())
    if seconds < 0:
        raise ValueError("negative duration")
    if seconds == 0:
        return "0s"
    parts: list[str] = []
    for unit in ("d", "h", "m", "s"):
        size = int(_UNITS[unit].total_seconds())
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
