"""Fuzz the amount grammar: any text is an exact amount or an InvalidAmountError, and every
amount in range prints and parses back to itself; peers' doubles too."""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from travelgate.errors import ValidationError
from travelgate.transfers import (
    InvalidAmountError,
    currency_decimals,
    parse_amount,
    parse_fiat_amount,
    peer_amount,
)
from travelgate.transfers._amounts import MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS

from ._harness import FUZZ, only, time_bound

AMOUNTISH = st.text(alphabet="0123456789.eE+-_ \u0661\uff11", max_size=70) | st.text(max_size=30)


@FUZZ
@given(AMOUNTISH)
@example("9" * 200_000)
def test_any_text_is_an_exact_amount_or_refused(text: str) -> None:
    with only(InvalidAmountError):
        amount = parse_amount(text)
        assert format(amount, "f") == text
        assert amount > 0


AMOUNTS = st.builds(
    lambda integer, fraction: f"{integer}.{fraction}" if fraction else str(integer),
    st.integers(0, 10**MAX_INTEGER_DIGITS - 1),
    st.text(alphabet="0123456789", max_size=MAX_FRACTION_DIGITS),
)


@FUZZ
@given(AMOUNTS)
def test_amounts_in_range_round_trip(text: str) -> None:
    with time_bound():
        if Decimal(text) == 0:
            return
        assert format(parse_amount(text), "f") == text


@FUZZ
@given(AMOUNTS, st.sampled_from(["USD", "JPY", "BHD", "CLF", "EUR"]))
def test_fiat_amounts_keep_to_the_currency(text: str, currency: str) -> None:
    with only(InvalidAmountError):
        amount = parse_fiat_amount(text, currency)
        assert len(format(amount, "f").partition(".")[2]) <= currency_decimals(currency)


@FUZZ
@given(st.floats())
@example(1e-7)
@example(5e-324)
def test_peer_doubles_are_exact_or_validation_errors(value: float) -> None:
    with only(ValidationError):
        amount = peer_amount(value)
        assert math.isfinite(value)
        assert float(amount) == value
