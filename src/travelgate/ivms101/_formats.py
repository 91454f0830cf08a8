"""Datatype facts and format checks: text types, character classes, dates, LEIs, scripts.

Everything here is a pure function of a value (IVMS101 datatypes and formats). Patterns are
matched with
`fullmatch` and explicit ASCII classes, never `\\d`, `$` or IGNORECASE (IVMS101 pitfalls).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Literal

CharClass = Literal["ascii", "local"]


@dataclass(frozen=True)
class TextType:
    """A text datatype: maximum length in code points and its character class."""

    name: str
    max: int
    chars: CharClass


MAX16 = TextType("Max16Text", 16, "ascii")
MAX35 = TextType("Max35Text", 35, "ascii")
MAX50 = TextType("Max50Text", 50, "ascii")
MAX70 = TextType("Max70Text", 70, "ascii")
MAX100 = TextType("Max100Text", 100, "ascii")
MAX512 = TextType("Max512Text", 512, "ascii")
LOCAL100 = TextType("LocalMax100Text", 100, "local")

# The forbidden set of 6.1: categories Cc and Cs, and the two Unicode line/paragraph separators.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_CLASS_2020 = re.compile(r"[A-Za-z0-9' ]*")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_COUNTRY_SHAPE = re.compile(r"[A-Z]{2}")
_LEI = re.compile(r"[0-9A-Z]{18}[0-9]{2}")
_DIGITS = re.compile(r"[0-9]+")

MAX_NUMBER = 999_999_999_999_999_999  # Number: at most 18 digits
# ISO 7064 MOD 97-10 reads A as 10 ... Z as 35.
_LEI_DIGITS = str.maketrans({chr(ord("A") + n): str(10 + n) for n in range(26)})


def has_forbidden(value: str) -> bool:
    return _FORBIDDEN.search(value) is not None


def is_printable_ascii(value: str) -> bool:
    # For ASCII text, isprintable() is exactly U+0020..U+007E.
    return value.isascii() and value.isprintable()


def in_class_2020(value: str) -> bool:
    return _CLASS_2020.fullmatch(value) is not None


def parse_date(value: str) -> _dt.date | None:
    """The calendar date of a `YYYY-MM-DD` string, or None when it is not one (IVMS101 dates)."""
    if _DATE.fullmatch(value) is None:
        return None
    try:
        return _dt.date(int(value[0:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        return None


def is_country_shape(value: str) -> bool:
    return _COUNTRY_SHAPE.fullmatch(value) is not None


def is_lei_shape(value: str) -> bool:
    return _LEI.fullmatch(value) is not None


def lei_checksum_ok(value: str) -> bool:
    """ISO 7064 MOD 97-10 over a well-shaped LEI, with check digits in 02..98."""
    if not 2 <= int(value[18:20]) <= 98:
        return False
    return int(value.translate(_LEI_DIGITS)) % 97 == 1


def is_digits(value: str) -> bool:
    return _DIGITS.fullmatch(value) is not None


def upper_ascii(value: str) -> str | None:
    """Upper-case `value` only when it is ASCII (so the length cannot change), else None."""
    return value.upper() if value.isascii() else None


# Script ranges for TRANSLIT (IVMS101 transliteration). `arab` and `aran` share the Arabic ranges.
_SCRIPTS: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    (
        "arab",
        ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    ),
    ("armn", ((0x0530, 0x058F), (0xFB13, 0xFB17))),
    ("cyrl", ((0x0400, 0x052F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F))),
    ("deva", ((0x0900, 0x0DFF),)),
    ("geor", ((0x10A0, 0x10FF), (0x1C90, 0x1CBF), (0x2D00, 0x2D2F))),
    ("grek", ((0x0370, 0x03FF), (0x1F00, 0x1FFF))),
    (
        "hani",
        (
            (0x2E80, 0x2FDF),
            (0x3400, 0x4DBF),
            (0x4E00, 0x9FFF),
            (0xF900, 0xFAFF),
            (0x20000, 0x2FA1F),
        ),
    ),
    ("hebr", ((0x0590, 0x05FF), (0xFB1D, 0xFB4F))),
    ("kana", ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF65, 0xFF9F))),
    (
        "kore",
        ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7AF), (0xD7B0, 0xD7FF)),
    ),
    ("thai", ((0x0E00, 0x0E7F),)),
)
_LATIN = ((0x0000, 0x024F), (0x1E00, 0x1EFF), (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xFF21, 0xFF5A))


def _in(ranges: tuple[tuple[int, int], ...], point: int) -> bool:
    return any(low <= point <= high for low, high in ranges)


def script_of(char: str) -> str | None:
    """Transliteration code needed for one character, or None (Latin, or not a letter)."""
    point = ord(char)
    for code, ranges in _SCRIPTS:
        if _in(ranges, point):
            # Digits and punctuation inside a script block need no method (IVMS101 transliteration).
            return code if char.isalpha() else None
    if _in(_LATIN, point) or not char.isalpha():
        return None
    return "othr"


def scripts_in(value: str) -> set[str]:
    """Transliteration codes needed for the letters of `value`."""
    if value.isascii():
        return set()
    found: set[str] = set()
    for char in value:
        code = script_of(char)
        if code is not None:
            found.add(code)
    return found
