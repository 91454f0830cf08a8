"""The `travelgate ivms validate|convert` contract, through the installed command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TRAVELGATE = str(Path(sys.executable).parent / "travelgate")
TESTDATA = Path(__file__).parents[1] / "vectors" / "trisa" / "pkg" / "ivms101" / "testdata"
EXAMPLES = Path(__file__).parents[1] / "unit" / "ivms101" / "data"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [TRAVELGATE, "ivms", *args], input=stdin, capture_output=True, timeout=60, check=False
    )


def as_json(done: subprocess.CompletedProcess[bytes]) -> Any:
    return json.loads(done.stdout)


def test_valid_payload_exits_0_with_the_json_object() -> None:
    done = run("validate", str(TESTDATA / "identity_payload.json"), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert as_json(done) == {
        "valid": True,
        "encoding": "ivms101",
        "edition": "2020",
        "violations": [],
    }


def test_violations_exit_1_and_are_listed() -> None:
    done = run(
        "validate",
        str(TESTDATA / "identity_payload.json"),
        "--profile",
        "strict",
        "--format",
        "json",
    )
    assert done.returncode == 1
    out = as_json(done)
    assert out["valid"] is False
    assert {v["id"] for v in out["violations"]} == {"CHARSET"}
    assert all(set(v) == {"id", "severity", "path", "message"} for v in out["violations"])
    assert out["violations"][0]["path"] == (
        "originator.originatorPersons[0].naturalPerson.dateAndPlaceOfBirth.placeOfBirth"
    )


def test_protojson_is_detected() -> None:
    done = run("validate", str(TESTDATA / "identity_payload.pb.json"), "--format", "json")
    assert done.returncode == 1
    out = as_json(done)
    assert out["encoding"] == "protojson"
    ids = {(v["id"], v["severity"]) for v in out["violations"]}
    assert ("FORMAT.COUNTRY", "error") in ids
    assert ("FORMAT.LEI_CHECKSUM", "warning") in ids


def test_warnings_alone_exit_0() -> None:
    done = run("validate", str(EXAMPLES / "example1_2023.json"), "--format", "json")
    assert done.returncode == 0, done.stderr
    out = as_json(done)
    assert out["valid"] is True
    assert out["edition"] == "2023"
    assert {v["severity"] for v in out["violations"]} == {"warning"}


def test_stdin_and_text_format() -> None:
    data = (EXAMPLES / "example1_2020.json").read_bytes()
    done = run("validate", "-", "--profile", "strict", stdin=data)
    assert done.returncode == 1
    lines = done.stdout.decode().strip().splitlines()
    assert "FORMAT.LEI_CHECKSUM" in lines[0]
    assert lines[-1].startswith("invalid: 1 error(s), 0 warning(s)")


@pytest.mark.parametrize("data", [b"{not json", b"[1, 2]", b""])
def test_unparseable_input_exits_2_and_still_prints_the_object(data: bytes) -> None:
    done = run("validate", "-", "--format", "json", stdin=data)
    assert done.returncode == 2
    out = as_json(done)
    assert out["valid"] is False
    assert [v["id"] for v in out["violations"]] == ["PARSE"]
    assert out["encoding"] in ("ivms101", "protojson")


def test_oversized_and_deep_input_exit_2() -> None:
    big = json.dumps({"originator": {"pad": "x" * (1024 * 1024)}}).encode()
    done = run("validate", "-", "--format", "json", stdin=big)
    assert done.returncode == 2
    assert "exceeds" in as_json(done)["violations"][0]["message"]
    deep = b"[" * 50_000 + b"]" * 50_000
    done = run("validate", "-", "--format", "json", stdin=deep)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr.decode()


def test_usage_errors_exit_2() -> None:
    assert run("validate", "/nonexistent/file.json").returncode == 2
    assert run("validate", str(TESTDATA / "address.json"), "--profile", "lax").returncode == 2
    assert run("validate").returncode == 2
    assert run().returncode == 2
    assert run("convert", str(TESTDATA / "identity_payload.json")).returncode == 2


def test_rekey_option() -> None:
    plain = run("validate", str(TESTDATA / "identity_payload_alt.json"))
    assert plain.returncode == 1
    done = run(
        "validate", str(TESTDATA / "identity_payload_alt.json"), "--rekey", "--format", "json"
    )
    assert done.returncode == 0, done.stdout
    assert {v["severity"] for v in as_json(done)["violations"]} == {"warning"}


def test_convert_to_protojson_and_back() -> None:
    source = TESTDATA / "identity_payload.json"
    done = run("convert", str(source), "--to", "protojson")
    assert done.returncode == 0, done.stderr
    pj = as_json(done)
    assert "originatingVasp" in pj
    assert (
        pj["originator"]["originatorPersons"][0]["naturalPerson"]["name"]["nameIdentifier"][0][
            "nameIdentifierType"
        ]
        == "NATURAL_PERSON_NAME_TYPE_CODE_LEGL"
    )
    back = run("convert", "-", "--to", "ivms101", stdin=done.stdout)
    assert back.returncode == 0, back.stderr
    assert as_json(back) == json.loads(source.read_text())


def test_convert_to_2023() -> None:
    done = run("convert", str(EXAMPLES / "example2_2020.json"), "--to", "ivms101-2023")
    assert done.returncode == 0, done.stderr
    assert as_json(done)["payloadMetadata"]["payloadVersion"] == "101.2023"


def test_convert_refuses_invalid_input_unless_forced() -> None:
    source = str(TESTDATA / "identity_payload.pb.json")
    done = run("convert", source, "--to", "ivms101")
    assert done.returncode == 1
    assert done.stdout == b""
    assert "FORMAT.COUNTRY" in done.stderr.decode()
    forced = run("convert", source, "--to", "ivms101", "--force")
    assert forced.returncode == 0
    address = as_json(forced)["beneficiary"]["beneficiaryPersons"][0]["naturalPerson"][
        "geographicAddress"
    ][0]
    assert address["country"] == "United Kingdom"
    assert run("convert", "-", "--to", "protojson", stdin=b"nope").returncode == 2
