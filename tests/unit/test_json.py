"""Strict JSON loading: every document the standard parser lets through wrongly is refused."""

from __future__ import annotations

import json

import pytest

from travelgate._json import MAX_DEPTH, load_json
from travelgate.errors import JsonInputError


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"beneficiary": {"name": "\\ud800"}}', "beneficiary.name"),
        ('{"destination": {"address": "bc1\\udfff"}}', "destination.address"),
        ('{"destination": {"tag": "\\ud800x"}}', "destination.tag"),
        ('{"addresses": ["ok", "\\udc00"]}', "addresses[1]"),
        ('{"reason": "\\ud83d"}', "reason"),
        ('"\\ud800"', None),
    ],
)
def test_lone_surrogates_are_refused_naming_the_field(text: str, field: str | None) -> None:
    with pytest.raises(JsonInputError, match="lone UTF-16 surrogate") as caught:
        load_json(text)
    assert caught.value.field == field


def test_surrogate_in_a_key_is_refused() -> None:
    with pytest.raises(JsonInputError, match="key of person"):
        load_json('{"person": {"\\ud800": 1}}')


def test_escaped_surrogate_pairs_are_characters() -> None:
    assert load_json('{"name": "\\ud83d\\ude00"}') == {"name": "\U0001f600"}


@pytest.mark.parametrize("digits", [101, 4301, 200_000])
def test_long_integers_are_refused(digits: int) -> None:
    # 4,301+ digits made the standard parser raise a bare ValueError (a 500 in the API).
    with pytest.raises(JsonInputError, match="more than 100 characters"):
        load_json('{"wait": ' + "9" * digits + "}")


def test_integers_up_to_the_limit_load() -> None:
    assert load_json("9" * 100) == int("9" * 100)
    assert load_json("-" + "9" * 99) == -int("9" * 99)


@pytest.mark.parametrize(
    "text", ["1e999", "-1e999", "1E+999999999", "NaN", "Infinity", "-Infinity"]
)
def test_non_finite_numbers_are_refused(text: str) -> None:
    with pytest.raises(JsonInputError):
        load_json(f'{{"x": {text}}}')


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(JsonInputError, match="'amount' appears twice"):
        load_json('{"amount": "1", "amount": "1000000"}')


def test_nesting_is_bounded() -> None:
    assert load_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    for depth in (MAX_DEPTH + 1, 100_000):
        with pytest.raises(JsonInputError, match="nested deeper"):
            load_json("[" * depth + "]" * depth)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff{}", "not UTF-8 text"),
        (b"", "Expecting value"),
        (b"{} {}", "Extra data"),
        (b"\xef\xbb\xbf{}", "BOM"),
    ],
)
def test_malformed_text_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(JsonInputError, match=message):
        load_json(data)


def test_ordinary_documents_load_as_the_standard_parser_reads_them() -> None:
    text = '{"amount": "0.5", "n": 3, "x": 1.5, "ok": true, "no": null, "list": [1, "é"]}'
    assert load_json(text) == json.loads(text)
    assert load_json(text.encode()) == json.loads(text)
