"""Travel Addresses, LNURL and target dispatch against every vector of trp.md section 16."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from travelgate.errors import TravelAddressError, TravelgateError, TrpError
from travelgate.trp import (
    decode_lnurl,
    decode_travel_address,
    encode_lnurl,
    encode_travel_address,
    inquiry_url,
    make_travel_address,
    reference_parse_problem,
    target_url,
    travel_address_url,
    valid_host,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "vectors" / "trp" / "travel_addresses.json").read_text()
)


def _ids(rows: list[dict[str, str]], key: str) -> list[str]:
    return [row[key][:40] for row in rows]


@pytest.mark.parametrize(
    "row", VECTORS["decode_url"], ids=_ids(VECTORS["decode_url"], "travel_address")
)
def test_decode_url_vectors(row: dict[str, str]) -> None:
    assert travel_address_url(row["travel_address"]) == row["url"]
    assert encode_travel_address(row["url"].removeprefix("https://")) == row["travel_address"]


@pytest.mark.parametrize(
    "row",
    VECTORS["strict"] + VECTORS["factory"],
    ids=_ids(VECTORS["strict"] + VECTORS["factory"], "bare_url"),
)
def test_strict_encode_and_decode_vectors(row: dict[str, str]) -> None:
    assert encode_travel_address(row["bare_url"]) == row["travel_address"]
    assert decode_travel_address(row["travel_address"]) == row["bare_url"]


@pytest.mark.parametrize("row", VECTORS["make"], ids=_ids(VECTORS["make"], "input"))
def test_lenient_make_vectors(row: dict[str, str]) -> None:
    assert make_travel_address(row["input"]) == row["travel_address"]


@pytest.mark.parametrize(
    "row", VECTORS["decode_errors"], ids=_ids(VECTORS["decode_errors"], "travel_address")
)
def test_decode_errors(row: dict[str, str]) -> None:
    with pytest.raises(TravelAddressError, match=row["error"]):
        decode_travel_address(row["travel_address"])


def test_negative_vectors_carry_the_content_they_claim() -> None:
    """The negative addresses are well-formed base58check: only the URL inside is wrong."""
    from travelgate.trp._traddr import _base58_decode

    for row in VECTORS["decode_errors"]:
        if "content" in row:
            assert _base58_decode(row["travel_address"][2:])[:-4].decode() == row["content"]


@pytest.mark.parametrize(
    "row", VECTORS["encode_errors"], ids=_ids(VECTORS["encode_errors"], "bare_url")
)
def test_encode_errors(row: dict[str, str]) -> None:
    with pytest.raises(TravelAddressError, match=row["error"]):
        encode_travel_address(row["bare_url"])


def _host(value: str) -> str:
    host = urlsplit(value if "://" in value else "//" + value).hostname
    assert host is not None
    return host


@pytest.mark.parametrize("value", VECTORS["tld_valid"])
def test_valid_top_level_domains(value: str) -> None:
    assert valid_host(_host(value))
    address = make_travel_address(value)
    assert travel_address_url(address).startswith("https://" + urlsplit("//" + _host(value)).netloc)


@pytest.mark.parametrize("value", VECTORS["tld_invalid"])
def test_invalid_top_level_domains(value: str) -> None:
    assert not valid_host(_host(value))
    with pytest.raises(TravelAddressError, match="invalid top level domain"):
        make_travel_address(value)


@pytest.mark.parametrize(
    "host", ["10.0.0.1", "::1", "LOCALHOST", "node.local", "xn--80ak6aa92e.com", "a.b.co.uk"]
)
def test_more_valid_hosts(host: str) -> None:
    assert valid_host(host)


@pytest.mark.parametrize("host", ["com.", "a..com", "single", "x.invalid-tld-zz", ""])
def test_more_invalid_hosts(host: str) -> None:
    assert not valid_host(host)


@pytest.mark.parametrize("row", VECTORS["lnurl"], ids=_ids(VECTORS["lnurl"], "lnurl"))
def test_lnurl_vectors(row: dict[str, str]) -> None:
    assert decode_lnurl(row["lnurl"]) == row["url"]
    assert decode_lnurl(row["lnurl"].swapcase()) == row["url"]
    assert encode_lnurl(row["url"]) == row["lnurl"].upper()


def test_lnurl_longer_than_bip173_limit_is_accepted() -> None:
    long_one = VECTORS["lnurl"][1]["lnurl"]
    assert len(long_one) == 91
    assert decode_lnurl(long_one).startswith("https://")


@pytest.mark.parametrize("row", VECTORS["lnurl_errors"], ids=_ids(VECTORS["lnurl_errors"], "lnurl"))
def test_lnurl_errors(row: dict[str, str]) -> None:
    with pytest.raises(TravelAddressError) as caught:
        decode_lnurl(row["lnurl"])
    assert row["error"] in caught.value.message


def test_lnurl_mixed_case_is_refused() -> None:
    good = VECTORS["lnurl"][0]["lnurl"]
    with pytest.raises(TravelAddressError, match="mixed"):
        decode_lnurl(good[:10] + good[10:].lower())


@pytest.mark.parametrize("row", VECTORS["dispatch"], ids=_ids(VECTORS["dispatch"], "target"))
def test_dispatch(row: dict[str, str]) -> None:
    assert target_url(row["target"]) == row["url"]


@pytest.mark.parametrize(
    "row", VECTORS["dispatch_errors"], ids=_ids(VECTORS["dispatch_errors"], "target")
)
def test_dispatch_errors(row: dict[str, str]) -> None:
    with pytest.raises(TravelAddressError, match=row["error"]):
        target_url(row["target"])


def test_dispatch_refuses_plain_http() -> None:
    with pytest.raises(TravelAddressError, match="https only"):
        target_url("http://beneficiary.com/x?t=i")


def test_inquiry_url_sets_t_i_and_sorts_like_the_reference_client() -> None:
    lnurl = VECTORS["lnurl"][0]["lnurl"]
    assert inquiry_url(lnurl) == "https://openvasp.test-net.io/123?t=i&tag=inquiry"
    assert inquiry_url("https://b.com/x?t=i&foo=bar") == "https://b.com/x?foo=bar&t=i"


def test_errors_sit_in_the_project_tree() -> None:
    assert issubclass(TravelAddressError, TrpError)
    assert issubclass(TrpError, TravelgateError)
    assert TravelAddressError.status == 400


@pytest.mark.parametrize(
    "bad",
    [
        "ta" + "z" * 5000,
        "ta0OIl",
        "beneficiary.com/x?t=i",
        "ta",
    ],
)
def test_garbage_never_escapes_as_another_exception(bad: str) -> None:
    with pytest.raises(TravelAddressError):
        decode_travel_address(bad)


def test_whitespace_and_bad_ports_are_refused() -> None:
    with pytest.raises(TravelAddressError, match="whitespace"):
        encode_travel_address("beneficiary.com/x y?t=i")
    with pytest.raises(TravelAddressError, match="invalid format"):
        encode_travel_address("beneficiary.com:99999/x?t=i")


_LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)


@given(
    labels=st.lists(_LABEL, min_size=1, max_size=3),
    tld=st.sampled_from(["com", "org", "io", "local", "co.uk"]),
    port=st.none() | st.integers(1, 65535),
    path=st.from_regex(r"(/[A-Za-z0-9._~-]{1,12}){0,3}", fullmatch=True),
    extra=st.from_regex(r"(&[a-z]{1,5}=[A-Za-z0-9]{0,6}){0,2}", fullmatch=True),
)
def test_round_trip(labels: list[str], tld: str, port: int | None, path: str, extra: str) -> None:
    host = ".".join([*labels, tld]) + (f":{port}" if port else "")
    bare = f"{host}{path}?t=i{extra}"
    address = encode_travel_address(bare)
    assert address.startswith("ta")
    assert decode_travel_address(address) == bare
    assert decode_lnurl(encode_lnurl("https://" + bare)) == "https://" + bare


# What trisa-refpeer's `traddr encode` (the Go library v1.7.0) answered for these in
# `make interop`: the first list fails in its URL parser, the second encodes.
@pytest.mark.parametrize(
    "url",
    [
        "127.0.0.1:8201/transfers/a/x?t=i",
        "127.0.0.1:8201?t=i",
        "[::1]:8201/x?t=i",
        "1password.com:8000/x?t=i",
        "https://127.0.0.1:8201",
    ],
)
def test_the_go_reference_cannot_parse_a_non_letter_host_with_a_port(url: str) -> None:
    problem = reference_parse_problem(url)
    assert problem is not None
    assert "TRISA Go library" in problem


@pytest.mark.parametrize(
    "url",
    [
        "localhost:8201/x?t=i",
        "a1.com:8000/x?t=i",
        "1password.com/x?t=i",
        "10.20.1.231/x/12345?t=i",
        "https://beneficiary.com:8000",
        "https://192.22.123.12?t=i",
    ],
)
def test_the_go_reference_parses_the_rest(url: str) -> None:
    assert reference_parse_problem(url) is None
