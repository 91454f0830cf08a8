"""Whatever a peer sends, the parsers answer with a TrpError (an HTTP status), never a crash."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from travelgate.errors import TravelAddressError, TrpError
from travelgate.trp import (
    decode_lnurl,
    decode_travel_address,
    parse_confirmation,
    parse_inquiry,
    parse_inquiry_response,
    parse_resolution,
    target_url,
)

INQUIRY: dict[str, Any] = json.loads(
    json.loads((Path(__file__).parents[2] / "vectors" / "trp" / "examples.json").read_text())[
        "exchanges"
    ][0]["body"]
)

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**40), 10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
_KEYS = st.sampled_from(
    [
        "asset",
        "amount",
        "callback",
        "IVMS101",
        "extensions",
        "approved",
        "rejected",
        "version",
        "txid",
        "canceled",
        "dti",
        "slip0044",
        "address",
    ]
)
PARSERS: list[Callable[[bytes], Any]] = [
    parse_inquiry,
    parse_resolution,
    parse_confirmation,
    parse_inquiry_response,
]


def _status_of(parse: Callable[[bytes], Any], body: bytes) -> int | None:
    """None when `body` parses, else the HTTP status of the TrpError (anything else fails)."""
    try:
        parse(body)
    except TrpError as exc:
        return exc.status
    return None


@pytest.mark.parametrize("parse", PARSERS, ids=lambda parse: parse.__name__)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(document=st.dictionaries(_KEYS, _JSON, max_size=5))
def test_any_object_gets_an_answer(parse: Callable[[bytes], Any], document: dict[str, Any]) -> None:
    status = _status_of(parse, json.dumps(document).encode())
    assert status is None or 400 <= status < 500


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(sorted(INQUIRY)), value=_JSON)
def test_one_bad_field_of_a_good_inquiry(field: str, value: Any) -> None:
    document = {**INQUIRY, field: value}
    assert _status_of(parse_inquiry, json.dumps(document).encode()) in (None, 400, 422)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200))
def test_any_bytes(raw: bytes) -> None:
    for parse in PARSERS:
        with contextlib.suppress(TrpError):
            parse(raw)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=120))
def test_any_address_text(text: str) -> None:
    for decode in (decode_travel_address, decode_lnurl, target_url):
        with contextlib.suppress(TravelAddressError):
            decode(text)
        with contextlib.suppress(TravelAddressError):
            decode("ta" + text)
