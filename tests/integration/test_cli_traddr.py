"""The `travelgate traddr decode|encode` contract, through the installed command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from support.processes import run_cli

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "vectors" / "trp" / "travel_addresses.json").read_text()
)


def traddr(*args: str) -> subprocess.CompletedProcess[bytes]:
    return run_cli("traddr", *args)


def test_decode_prints_the_url_and_its_parts() -> None:
    done = traddr("decode", "ta2wijJqYhcj5zriQyV5SVWybf71AyHEXgRCa7WWJ8XQk9g1NodLEHbKoHdg")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "url": "https://trisa.beneficiary.com:4443/x/12345?t=i",
        "host": "trisa.beneficiary.com:4443",
        "path": "/x/12345",
        "query": "t=i",
        "port": 4443,
    }
    assert done.stderr == b""


def test_decode_every_vector() -> None:
    for row in VECTORS["decode_url"]:
        done = traddr("decode", row["travel_address"])
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["url"] == row["url"]


def test_decode_an_lnurl_for_compatibility() -> None:
    row = VECTORS["lnurl"][0]
    done = traddr("decode", row["lnurl"])
    assert done.returncode == 0, done.stderr
    decoded = json.loads(done.stdout)
    assert decoded["url"] == row["url"]
    assert decoded["host"] == "openvasp.test-net.io"
    assert decoded["query"] == "tag=inquiry"
    assert decoded["port"] is None


@pytest.mark.parametrize(
    "row",
    VECTORS["decode_errors"],
    ids=[r["travel_address"][:20] for r in VECTORS["decode_errors"]],
)
def test_decode_errors_exit_1_with_the_reason(row: dict[str, str]) -> None:
    done = traddr("decode", row["travel_address"])
    assert done.returncode == 1
    assert done.stdout == b""
    last = done.stderr.decode().strip().splitlines()[-1]
    assert last.startswith("travelgate: error: ")
    assert row["error"] in last
    assert "Traceback" not in done.stderr.decode()


def test_encode_prints_the_address() -> None:
    for row in VECTORS["strict"]:
        done = traddr("encode", row["bare_url"])
        assert done.returncode == 0, done.stderr
        assert done.stdout.decode() == row["travel_address"] + "\n"


@pytest.mark.parametrize(
    "row", VECTORS["encode_errors"], ids=[r["bare_url"] for r in VECTORS["encode_errors"]]
)
def test_encode_is_strict(row: dict[str, str]) -> None:
    done = traddr("encode", row["bare_url"])
    assert done.returncode == 1
    assert done.stdout == b""
    assert row["error"] in done.stderr.decode()


def test_encode_then_decode() -> None:
    url = "trp.example-vasp.com/transfers/a/Zq3h9v?t=i"
    address = traddr("encode", url).stdout.decode().strip()
    decoded = json.loads(traddr("decode", address).stdout)
    assert decoded == {
        "url": "https://" + url,
        "host": "trp.example-vasp.com",
        "path": "/transfers/a/Zq3h9v",
        "query": "t=i",
        "port": None,
    }


def test_usage_errors_exit_2() -> None:
    assert traddr().returncode == 2
    assert traddr("decode").returncode == 2
    assert traddr("encode", "a", "b").returncode == 2


def test_encode_notes_an_address_the_go_reference_cannot_parse() -> None:
    done = traddr("encode", "127.0.0.1:8201/transfers/abc?t=i")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().startswith("ta")
    note = done.stderr.decode()
    assert note.startswith("note: the TRISA Go library")
    assert "'127.0.0.1:8201'" in note
    done = traddr("encode", "localhost:8201/transfers/abc?t=i")
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
