"""Reading sanctions list files: CSV, the OFAC SDN XML, and the files that must be refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from travelgate.screening import OFAC_LIST_NAME, ScreeningListError, address_key, read_list_file

from ._files import (
    BILLION_LAUGHS,
    BTC_LISTED,
    EVM_LISTED,
    EXTERNAL_ENTITY,
    XMR_LISTED,
    sdn_xml,
    write,
)


def test_the_ofac_sdn_xml_yields_every_digital_currency_address(tmp_path: Path) -> None:
    parsed = read_list_file(write(tmp_path, "sdn.xml", sdn_xml()))
    assert parsed.format == "ofac-sdn-xml"
    assert list(parsed.lists) == [OFAC_LIST_NAME]
    entries = {(e.address, e.asset, e.reference) for e in parsed.lists[OFAC_LIST_NAME]}
    assert entries == {
        (EVM_LISTED, "ETH", "SDN uid 30518: LAZARUS GROUP"),
        (BTC_LISTED, "BTC", "SDN uid 30518: LAZARUS GROUP"),  # OFAC's XBT is our BTC
        (XMR_LISTED, "XMR", "SDN uid 30519: Ivan PETROV"),
        (EVM_LISTED, "USDT", "SDN uid 30519: Ivan PETROV"),
    }
    assert parsed.total == 4
    assert len(parsed.digest) == 64


def test_the_xml_format_is_found_by_content_and_the_list_can_be_renamed(tmp_path: Path) -> None:
    parsed = read_list_file(write(tmp_path, "sdn.txt", sdn_xml()), list_name="US-SDN")
    assert parsed.format == "ofac-sdn-xml"
    assert list(parsed.lists) == ["US-SDN"]


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_entities_and_dtds_are_refused(tmp_path: Path, document: str) -> None:
    with pytest.raises(ScreeningListError, match="refused unsafe XML"):
        read_list_file(write(tmp_path, "evil.xml", document))


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "sdn.xml", sdn_xml())
    with pytest.raises(ScreeningListError, match="larger than the 200-byte limit"):
        read_list_file(path, limit=200)
    with pytest.raises(ScreeningListError, match="larger than the 10-byte limit"):
        read_list_file(write(tmp_path, "l.csv", f"{BTC_LISTED},BTC,EU,x\n"), limit=10)


def test_broken_xml_and_xml_without_addresses_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ScreeningListError, match="not well-formed XML"):
        read_list_file(write(tmp_path, "a.xml", "<sdnList><sdnEntry></sdnList>"))
    with pytest.raises(ScreeningListError, match="holds no address"):
        read_list_file(write(tmp_path, "b.xml", sdn_xml(entries="")))


def test_csv_rows_with_and_without_a_header(tmp_path: Path) -> None:
    plain = write(
        tmp_path,
        "plain.csv",
        f"{BTC_LISTED},btc,EU-2026,Reg 2026/1\n{EVM_LISTED},ETH,UK-OFSI,OFSI 123\n\n# note\n",
    )
    parsed = read_list_file(plain)
    assert parsed.format == "csv"
    assert {
        name: [(e.address, e.asset, e.reference) for e in v] for name, v in parsed.lists.items()
    } == {
        "EU-2026": [(BTC_LISTED, "BTC", "Reg 2026/1")],
        "UK-OFSI": [(EVM_LISTED, "ETH", "OFSI 123")],
    }
    reordered = write(
        tmp_path,
        "header.csv",
        f'\ufeffReference,Address,List,Asset\n"Smith, J",{BTC_LISTED},EU,BTC\n',
    )
    (entry,) = read_list_file(reordered).lists["EU"]
    assert (entry.address, entry.asset, entry.reference) == (BTC_LISTED, "BTC", "Smith, J")


def test_list_option_puts_every_row_on_one_list(tmp_path: Path) -> None:
    path = write(tmp_path, "l.csv", f"{BTC_LISTED},BTC,,r1\n{EVM_LISTED},ETH,OTHER,r2\n")
    parsed = read_list_file(path, list_name="INTERNAL")
    assert list(parsed.lists) == ["INTERNAL"]
    assert parsed.total == 2


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (f"{BTC_LISTED},BTC,,ref\n", "line 1: the list column is empty"),
        ("ok1,BTC,EU,r\n,BTC,EU,ref\n", "line 2: the address column is empty"),
        ("bad address,BTC,EU,r\n", "is not an address"),
        (f"{BTC_LISTED},B T C,EU,r\n", "not an asset ticker"),
        (f"{BTC_LISTED},BTC,EU list,r\n", "list name"),
        (f"{BTC_LISTED},BTC,EU,r,extra\n", "5 columns"),
        ("address,asset,colour\n", "header must name the columns"),
        ("address,asset,list,reference\n", "holds no address"),
    ],
)
def test_bad_csv_rows_are_refused_with_their_line(tmp_path: Path, text: str, error: str) -> None:
    with pytest.raises(ScreeningListError, match=error):
        read_list_file(write(tmp_path, "bad.csv", text))


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ScreeningListError, match="not found"):
        read_list_file(tmp_path / "nope.csv")
    (tmp_path / "latin.csv").write_bytes(b"\xff\xfe,BTC,EU,r\n")
    with pytest.raises(ScreeningListError, match="not UTF-8"):
        read_list_file(tmp_path / "latin.csv")


def test_address_comparison_follows_the_network_rules() -> None:
    # EVM: case-insensitive hex.
    assert address_key(EVM_LISTED) == address_key(EVM_LISTED.lower()) == EVM_LISTED.lower()
    assert address_key("0X" + EVM_LISTED[2:].upper()) == EVM_LISTED.lower()
    # Base58: exact.
    assert address_key("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH") != address_key(
        "1bggz9tcn4rm9kbzdn7kprqz87sz26samh"
    )
    # Bech32: the all-upper spelling is the same address; a mixed-case one is not valid.
    bech32 = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    assert address_key(bech32.upper()) == bech32
    assert address_key("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3T4") != bech32
    assert address_key(f"  {bech32}\n") == bech32
    # Monero and other base58 chains: exact.
    assert address_key(XMR_LISTED.upper()) != address_key(XMR_LISTED)
