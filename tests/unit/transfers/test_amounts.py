"""The amount grammar: what the API and peers may write, and the message for everything else."""

from __future__ import annotations

from decimal import Decimal

import pytest

from travelgate.errors import ValidationError
from travelgate.transfers import (
    InvalidAmountError,
    currency_decimals,
    parse_amount,
    parse_fiat_amount,
    peer_amount,
)

PLAIN = "must be a plain decimal"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\u0661\u0662\u0663", PLAIN),  # Arabic-Indic digits: Decimal reads 123
        ("\uff11", PLAIN),  # a full-width 1
        ("1_0", PLAIN),  # Decimal reads 10
        (" 1 ", PLAIN),
        ("1E+999999999", PLAIN),
        ("0.1e-999999", PLAIN),
        ("9" * 200_000, "more than 40 digits before the point"),
        ("1." + "1" * 200_000, "longer than any amount"),
        ("-1", PLAIN),
        ("+1", PLAIN),
        ("01", PLAIN),
        ("00.5", PLAIN),
        ("1.", PLAIN),
        (".5", PLAIN),
        ("1.2.3", PLAIN),
        ("1,5", PLAIN),
        ("1e3", PLAIN),
        ("0x10", PLAIN),
        ("NaN", PLAIN),
        ("Infinity", PLAIN),
        ("1\n", PLAIN),
        ("", PLAIN),
        ("1" * 41, "more than 40 digits before the point"),
        ("1." + "1" * 19, "more than 18 digits after the point"),
        ("0", "greater than zero"),
        ("0.000", "greater than zero"),
    ],
)
def test_text_outside_the_grammar_is_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidAmountError, match=message):
        parse_amount(text)


@pytest.mark.parametrize("value", [0.5, 1, None, True, b"1", ["1"]])
def test_only_strings_are_amounts(value: object) -> None:
    with pytest.raises(InvalidAmountError, match=r'decimal string such as "0\.5"'):
        parse_amount(value)


@pytest.mark.parametrize(
    "text", ["1", "0.5", "10", "1.50", "0.000000000000000001", "9" * 40, "9" * 40 + "." + "9" * 18]
)
def test_amounts_in_the_grammar_are_exact(text: str) -> None:
    amount = parse_amount(text)
    assert isinstance(amount, Decimal)
    assert format(amount, "f") == text


def test_zero_is_allowed_only_when_asked() -> None:
    assert parse_amount("0", allow_zero=True) == 0
    assert parse_amount("0.00", allow_zero=True) == 0


def test_the_message_names_the_field() -> None:
    with pytest.raises(InvalidAmountError, match=r"^value\.amount must be greater than zero$"):
        parse_amount("0", what="value.amount")


@pytest.mark.parametrize(
    ("currency", "decimals"),
    [("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("CLF", 4)],
)
def test_currency_decimals(currency: str, decimals: int) -> None:
    assert currency_decimals(currency) == decimals


def test_fiat_amounts_have_at_most_the_currency_decimals() -> None:
    assert parse_fiat_amount("31000.00", "USD") == Decimal("31000")
    assert parse_fiat_amount("10.005", "BHD") == Decimal("10.005")
    assert parse_fiat_amount("1000", "JPY") == 1000
    with pytest.raises(InvalidAmountError, match="more than 2 decimals, the most USD has"):
        parse_fiat_amount("10.005", "USD")
    with pytest.raises(InvalidAmountError, match="more than 0 decimals, the most JPY has"):
        parse_fiat_amount("1000.5", "JPY")
    with pytest.raises(InvalidAmountError, match=PLAIN):
        parse_fiat_amount("1_000", "USD")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.5, "0.5"), (1e-7, "0.0000001"), (1e20, "100000000000000000000"), ("2.25", "2.25")],
)
def test_peer_amounts_in_the_grammar(value: float | str, expected: str) -> None:
    assert format(peer_amount(value), "f") == expected


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), -1.0, 1e300, 1e-30, 0.0, "1E+999999999", "\u0661"]
)
def test_peer_amounts_we_cannot_represent_are_validation_errors(value: float | str) -> None:
    with pytest.raises(ValidationError) as caught:
        peer_amount(value)
    assert caught.value.code_name == "VALIDATION_ERROR"
