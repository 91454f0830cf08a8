"""Amounts written as text: the one grammar for the internal API and for peers' amounts.

An amount is ASCII `(0|[1-9][0-9]*)(.[0-9]+)?` with at most 40 digits before the point and
18 after, and greater than zero: no sign, exponent, spaces, digit separators or non-ASCII
digits, which Python's `Decimal` would all accept. A fiat amount has at most as many
decimals as its currency's minor unit (two unless ISO 4217 says otherwise). What passes is
exact: `format(amount, "f")` gives back the very text it came from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

from travelgate._json import load_json
from travelgate.errors import InvalidAmountError, JsonInputError, ValidationError

MAX_INTEGER_DIGITS = 40
MAX_FRACTION_DIGITS = 18
FIAT_DECIMALS = 2
_LONGEST = MAX_INTEGER_DIGITS + 1 + MAX_FRACTION_DIGITS
_GRAMMAR = re.compile(r"(0|[1-9][0-9]*)(?:\.([0-9]+))?")
# ISO 4217 currencies whose minor unit is not the cent.
_MINOR_UNITS = {
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
            "VND", "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip
MINOR_UNITS: Mapping[str, int] = MappingProxyType(_MINOR_UNITS)


def currency_decimals(currency: str) -> int:
    """Digits after the point that an amount of `currency` (ISO 4217 code) may have."""
    return _MINOR_UNITS.get(currency, FIAT_DECIMALS)


def parse_amount(
    text: object,
    *,
    what: str = "amount",
    max_fraction_digits: int = MAX_FRACTION_DIGITS,
    allow_zero: bool = False,
) -> Decimal:
    """The exact Decimal of an amount string, or InvalidAmountError saying what is wrong."""
    if not isinstance(text, str):
        raise InvalidAmountError(f'{what} must be a decimal string such as "0.5"')
    # The length comes first so that a 200,000-digit string costs no more than a short one.
    if len(text) > _LONGEST:
        if text.isascii() and text.isdigit():
            raise InvalidAmountError(
                f"{what} has more than {MAX_INTEGER_DIGITS} digits before the point"
            )
        raise InvalidAmountError(f"{what} is longer than any amount ({_LONGEST} characters)")
    match = _GRAMMAR.fullmatch(text)
    if match is None:
        raise InvalidAmountError(
            f'{what} must be a plain decimal such as "0.5": ASCII digits and at most one '
            "point, without sign, exponent, spaces or separators"
        )
    integer, fraction = match.group(1), match.group(2) or ""
    if len(integer) > MAX_INTEGER_DIGITS:
        raise InvalidAmountError(
            f"{what} has more than {MAX_INTEGER_DIGITS} digits before the point"
        )
    if len(fraction) > max_fraction_digits:
        raise InvalidAmountError(
            f"{what} has more than {max_fraction_digits} digits after the point"
        )
    amount = Decimal(text)
    if amount == 0 and not allow_zero:
        raise InvalidAmountError(f"{what} must be greater than zero")
    return amount


def parse_fiat_amount(
    text: object, currency: str, *, what: str = "value.amount", allow_zero: bool = False
) -> Decimal:
    """An amount of money in `currency`, with at most that currency's decimals."""
    decimals = currency_decimals(currency)
    try:
        return parse_amount(text, what=what, max_fraction_digits=decimals, allow_zero=allow_zero)
    except InvalidAmountError as exc:
        if "after the point" in exc.message:
            raise InvalidAmountError(
                f"{what} has more than {decimals} decimals, the most {currency} has"
            ) from None
        raise


def peer_amount(value: float | str, *, what: str = "transaction amount") -> Decimal:
    """An amount a peer sent (a protobuf double, or text such as extra_json's amount_exact),
    held to the same grammar; one we could not represent exactly is VALIDATION_ERROR."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"{what} is not a finite number")
        # The shortest text that reads back as the same double, written without exponent.
        value = format(Decimal(repr(value)), "f")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
    try:
        return parse_amount(value, what=what)
    except InvalidAmountError as exc:
        raise ValidationError(exc.message) from None


def transaction_amount(amount: float, extra_json: str) -> Decimal | None:
    """The exact amount of a peer's Transaction, or None when it names none.

    A sender that knows the double cannot carry its amount exactly writes the text in
    `extra_json` as `amount_exact`; that text wins. Either must be in the grammar: an amount
    we could not represent exactly is VALIDATION_ERROR, never rounded or guessed.
    """
    exact: object = None
    if extra_json:
        try:
            extra = load_json(extra_json)
        except JsonInputError:
            extra = None  # extra_json is free-form: what is not JSON carries no amount
        if isinstance(extra, dict):
            exact = extra.get("amount_exact")
    if isinstance(exact, str):
        return peer_amount(exact, what="extra_json amount_exact")
    if amount == 0:
        return None
    return peer_amount(amount)
