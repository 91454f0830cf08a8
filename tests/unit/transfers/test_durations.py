"""Duration strings of the policy table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from travelgate.transfers import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("90m", timedelta(minutes=90)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("5y", timedelta(days=5 * 366)),
        ("1h30m", timedelta(minutes=90)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("0s", timedelta()),
    ],
)
def test_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "1", "h", "1.5h", "-1h", " 1h", "1H", "1h ", "1 h", "1x"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_five_years_cover_five_calendar_years() -> None:
    # 2024-02-28 .. 2029-02-28 holds two leap days: 1827 days.
    assert parse_duration("5y") >= timedelta(days=1827)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(), "0s"),
        (timedelta(hours=24), "1d"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(days=1830), "1830d"),
        (timedelta(seconds=3661), "1h1m1s"),
    ],
)
def test_format(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


def test_format_rejects_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_duration(timedelta(seconds=-1))


@given(st.integers(min_value=0, max_value=10**9))
def test_round_trip(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", timedelta(seconds=2)),
        ("1.5h", timedelta(minutes=90)),
        (" 24H ", timedelta(hours=24)),
        ("1h30m", timedelta(minutes=90)),
        ("5y", timedelta(days=5 * 366)),
    ],
)
def test_parse_loose(text: str, expected: timedelta) -> None:
    # The configuration file's form: the same parser, with seconds and fractions allowed.
    assert parse_duration(text, loose=True) == expected


@pytest.mark.parametrize("text", ["", "soon", "1 day", "-1h", "1e3", "99999999999999y", "nan"])
def test_parse_loose_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text, loose=True)
