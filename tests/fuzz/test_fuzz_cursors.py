"""Fuzz the page cursors of the internal API: only `bad_cursor`, and exact round trips."""

from __future__ import annotations

import base64

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from travelgate.api._errors import request_status
from travelgate.errors import BadParameterError
from travelgate.service import decode_cursor, encode_cursor

from ._harness import FUZZ, only, time_bound

ROWIDS = st.integers(0, 2**63 - 1)


def _encoded(text: bytes) -> str:
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


@FUZZ
@given(st.text(max_size=64) | st.binary(max_size=40).map(_encoded))
@example("\ud800")
@example("٣")
def test_any_cursor_text_is_a_bad_cursor_or_a_rowid(cursor: str) -> None:
    with only(BadParameterError):
        rowid = decode_cursor(cursor)
        assert rowid is None or encode_cursor(rowid) == cursor


@FUZZ
@given(ROWIDS)
def test_cursors_round_trip(rowid: int) -> None:
    with time_bound():
        assert decode_cursor(encode_cursor(rowid)) == rowid


# Each of these decoded to a rowid before: a negative one, padded text, digit separators,
# and one beyond SQLite's 64-bit integers (an OverflowError when bound to the query).
@pytest.mark.parametrize(
    "digits", [b"-1", b" 1 ", b"1_0", b"01", b"+1", b"9223372036854775808", b"9" * 30]
)
def test_cursors_we_never_issue_are_refused(digits: bytes) -> None:
    with pytest.raises(BadParameterError) as caught:
        decode_cursor(_encoded(digits))
    assert (request_status(caught.value), caught.value.code) == (400, "bad_cursor")


def test_padded_cursor_is_refused() -> None:
    with pytest.raises(BadParameterError):
        decode_cursor(encode_cursor(1) + "==")


def test_cursor_of_impossible_base64_length_is_refused() -> None:
    # Five base64 characters cannot encode whole bytes: binascii.Error, not a 400, before.
    with pytest.raises(BadParameterError):
        decode_cursor("AAAAA")
