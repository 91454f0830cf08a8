"""Fact tables and format checks: countries, LEIs, dates, registration authorities, character
classes, scripts (IVMS101 datatypes and formats)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest

from travelgate.ivms101 import COUNTRY_CODES, ISO_3166_ALPHA2, RaRegistry, default_registry
from travelgate.ivms101._formats import (
    has_forbidden,
    in_class_2020,
    is_country_shape,
    is_lei_shape,
    lei_checksum_ok,
    parse_date,
    script_of,
    scripts_in,
)

from ._cases import GLEIF, lei_with_check_digits


def test_country_table() -> None:
    assert len(ISO_3166_ALPHA2) == 249
    assert ISO_3166_ALPHA2 | {"XX"} == COUNTRY_CODES
    assert all(re.fullmatch("[A-Z]{2}", code) for code in ISO_3166_ALPHA2)
    for assigned in ("US", "GB", "TZ", "TV", "CL", "SS", "CW", "SX", "BQ", "AX", "PS", "TW"):
        assert assigned in ISO_3166_ALPHA2
    # reserved, withdrawn, user-assigned
    for other in ("UK", "EU", "XK", "XX", "AN", "YU", "CS", "ZZ", "QO", "EZ", "UN"):
        assert other not in ISO_3166_ALPHA2


def test_country_table_against_pycountry_when_available() -> None:
    pycountry = pytest.importorskip("pycountry")
    assert {c.alpha_2 for c in pycountry.countries} == set(ISO_3166_ALPHA2)


def test_country_shape() -> None:
    assert is_country_shape("US")
    for value in ("us", "USA", "U", "U1", "\uff35\uff33", "US\n"):
        assert not is_country_shape(value)


LEIS = {
    "3M5E1GQKGL17HI8CPN20": False,
    "3M5E1GQKGL17HI8CPN49": True,
    "506700T7Z685VUOZL877": True,
    "283100RWUNF913WOJT02": True,
    "213800AQUAUP6I215N33": False,
    "5493004YBI24IF4TIP92": False,
    "2594007XIACKNMUAW223": True,
    "5493001KJTIIGC8Y1R12": True,
    "7ZW8QJWVPR4P1S5PX088": True,
}


@pytest.mark.parametrize(("lei", "ok"), sorted(LEIS.items()))
def test_lei_reference_values(lei: str, ok: bool) -> None:
    assert is_lei_shape(lei)
    assert lei_checksum_ok(lei) is ok


def test_lei_shape_and_check_digit_range() -> None:
    for value in (
        "XXXXXXXXXXXXXXXXXXXX",
        "529900hnoaa1kxqjuq27",
        "3M5E1GQKGL17HI8CPN4",
        "3M5E1GQKGL17HI8CPN49\n",
    ):
        assert not is_lei_shape(value)
    assert lei_with_check_digits("3M5E1GQKGL17HI8CPN") == "3M5E1GQKGL17HI8CPN49"
    # a value that satisfies MOD 97 with check digits outside 02-98 is refused
    prefix = "5493001KJTIIGC8Y1R"
    good = lei_with_check_digits(prefix)
    digits = int(good[18:])
    assert 2 <= digits <= 98
    assert not lei_checksum_ok(prefix + f"{digits + 97:02d}"[-2:]) or digits + 97 > 99


def test_dates() -> None:
    assert parse_date("1990-02-25") == dt.date(1990, 2, 25)
    for value in (
        "2020-02-30",
        "1990-13-01",
        "0000-01-01",
        "19900225",
        "1990-W08-7",
        "1990-02-25T00:00:00Z",
        "1990-2-25",
        "\uff11\uff19\uff19\uff10-02-25",
        " 1990-02-25",
    ):
        assert parse_date(value) is None, value


def test_registry_matches_the_gleif_file() -> None:
    registry = default_registry()
    raw = (GLEIF / "registrationAuthorities.json").read_bytes()
    rows = json.loads(raw)
    assert len(rows) == 1037
    assert registry.codes == {row["option"] for row in rows}
    assert len(registry) == 994
    assert registry.sha256 == hashlib.sha256(raw).hexdigest()
    assert all(re.fullmatch("RA[0-9]{6}", code) for code in registry.codes)
    for code in (
        "RA000748",
        "RA000591",
        "RA000744",
        "RA000589",
        "RA777777",
        "RA888888",
        "RA999999",
    ):
        assert code in registry
    for code in ("VA001231", "ra001231", "RA14", "RA101005"):
        assert code not in registry
    assert len(registry.records("RA000189")) == 12
    assert registry.countries("RA777777") == frozenset()
    assert registry.countries("RA000553") == {"TZ"}


def test_registry_can_be_loaded_from_a_gleif_export(tmp_path: object) -> None:
    replaced = RaRegistry.from_gleif_file(GLEIF / "registrationAuthorities.json")
    assert replaced.codes == default_registry().codes
    assert replaced.sha256 == default_registry().sha256


def test_registry_is_replaceable_for_validation() -> None:
    from travelgate.ivms101 import RaRecord, validate

    from ._cases import NOW, example2

    tiny = RaRegistry([RaRecord("RA999000", "TZ", "Tanzania")], sha256="x", source="test")
    result = validate(example2(), registry=tiny, now=NOW)
    path = (
        "originator.originatorPersons[0].naturalPerson.nationalIdentification.registrationAuthority"
    )
    assert {(v.rule, v.path) for v in result.violations} == {("C10", path)}


def test_character_classes() -> None:
    assert in_class_2020("O'Brien 2")
    for value in ("Smith-Jones", "St.", "a,b", "a/b", "A&B", "Müller"):
        assert not in_class_2020(value)
    for value in ("\t", "\n", "a\x7f", "\x85", "\u2028", "\u2029", "\ud800"):
        assert has_forbidden(value)
    assert not has_forbidden("吴 信利 Müller")


def test_scripts() -> None:
    assert scripts_in("吴信利") == {"hani"}
    assert scripts_in("Иван") == {"cyrl"}
    assert scripts_in("김민준") == {"kore"}
    assert scripts_in("たなか") == {"kana"}
    assert scripts_in("Müller Łódź") == set()
    assert scripts_in("123 ・、。") == set()
    assert script_of("ء") == "arab"
    assert script_of("ᚠ") == "othr"  # a runic letter: no listed script
