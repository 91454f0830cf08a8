"""The `travelgate envelope` and `keys pks` contract, through the installed command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support.paths import ENVELOPE_VECTORS, SIGNATURE_VECTORS
from travelgate import envelope as env

TRAVELGATE = str(Path(sys.executable).parent / "travelgate")
SEALING_KEY = str(ENVELOPE_VECTORS / "sealing_key.pem")
ALICE = str(ENVELOPE_VECTORS / "alice.vaspbot.net.pem")


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [TRAVELGATE, *args], input=stdin, capture_output=True, timeout=60, check=False
    )


def last_stderr_line(done: subprocess.CompletedProcess[bytes]) -> str:
    return done.stderr.decode().strip().splitlines()[-1]


def test_open_the_sealed_vector() -> None:
    done = run(
        "envelope", "open", str(ENVELOPE_VECTORS / "sealed_envelope.json"), "--key", SEALING_KEY
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out) == {"id", "timestamp", "transferState", "payload"}
    assert out["id"] == "1e7bb3cc-53ff-41b8-870f-4c22110e6f04"
    assert out["timestamp"] == "2022-03-29T09:16:29.755212-05:00"
    assert out["transferState"] == "UNSPECIFIED"
    expected = env.payload_from_json((ENVELOPE_VECTORS / "pending_payload.json").read_bytes())
    assert env.payload_from_json(json.dumps(out["payload"])) == expected


def test_open_the_error_vector_is_a_success() -> None:
    done = run(
        "envelope", "open", str(ENVELOPE_VECTORS / "error_envelope.json"), "--key", SEALING_KEY
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out) == {"id", "timestamp", "transferState", "error"}
    assert out["error"]["code"] == "COMPLIANCE_CHECK_FAIL"
    assert out["error"]["message"] == "specified account has been frozen temporarily"
    assert out["error"]["retry"] is False


def test_seal_then_open_through_stdin(tmp_path: Path) -> None:
    envelope_id = "0f8e4a6c-3b1d-4c2e-9a7f-5d6e8b9c0a1b"
    sealed = run(
        "envelope",
        "seal",
        str(ENVELOPE_VECTORS / "payload.json"),
        "--recipient",
        ALICE,
        "--id",
        envelope_id,
        "--transfer-state",
        "accepted",
    )
    assert sealed.returncode == 0, sealed.stderr
    document = json.loads(sealed.stdout)
    assert document["id"] == envelope_id
    assert document["sealed"] is True
    assert document["error"] is None
    assert document["public_key_signature"] == "SHA256:J2XfAxVS66xcv+DF3eZpttK1etCSJ2EQiQJiNmIjnvE"
    assert document["transfer_state"] == "ACCEPTED"
    opened = run("envelope", "open", "-", "--key", ALICE, stdin=sealed.stdout)
    assert opened.returncode == 0, opened.stderr
    out = json.loads(opened.stdout)
    assert out["transferState"] == "ACCEPTED"
    expected = env.payload_from_json((ENVELOPE_VECTORS / "payload.json").read_bytes())
    assert env.payload_from_json(json.dumps(out["payload"])) == expected


def _sealed_document() -> dict[str, object]:
    done = run("envelope", "seal", str(ENVELOPE_VECTORS / "payload.json"), "--recipient", ALICE)
    assert done.returncode == 0, done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"hmac": "AAAA" * 10 + "AAA="}, "INVALID_SIGNATURE"),
        ({"encryption_algorithm": "AES128-GCM"}, "UNHANDLED_ALGORITHM"),
        ({"public_key_signature": "SHA256:nope"}, "INVALID_KEY"),
        ({"timestamp": ""}, "BAD_REQUEST"),
        ({"id": "not-a-uuid"}, "BAD_REQUEST"),
        ({"hmac_secret": ""}, "BAD_REQUEST"),
    ],
)
def test_tampered_envelopes_exit_1_with_the_code_name(
    tmp_path: Path, change: dict[str, str], code: str
) -> None:
    document = {**_sealed_document(), **change}
    path = tmp_path / "envelope.json"
    path.write_text(json.dumps(document))
    done = run("envelope", "open", str(path), "--key", ALICE)
    assert done.returncode == 1
    assert done.stdout == b""
    assert last_stderr_line(done).startswith(code + ": ")
    assert b"Traceback" not in done.stderr


def test_wrong_key_and_garbage(tmp_path: Path) -> None:
    done = run("envelope", "open", str(ENVELOPE_VECTORS / "sealed_envelope.json"), "--key", ALICE)
    assert (done.returncode, last_stderr_line(done)) == (
        1,
        "INVALID_KEY: unknown public key signature",
    )
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00not json")
    done = run("envelope", "open", str(garbage), "--key", ALICE)
    assert done.returncode == 1
    assert last_stderr_line(done).startswith("BAD_REQUEST: ")


def test_unsealed_vector_opens_to_an_empty_payload_which_misses_fields() -> None:
    done = run("envelope", "open", str(ENVELOPE_VECTORS / "unsealed_envelope.json"), "--key", ALICE)
    assert done.returncode == 1
    assert last_stderr_line(done).startswith("MISSING_FIELDS: ")


@pytest.mark.parametrize(
    "args",
    [
        ("envelope",),
        ("envelope", "open"),
        ("envelope", "open", "x.json"),
        ("envelope", "seal", str(ENVELOPE_VECTORS / "payload.json")),
        ("envelope", "seal", str(ENVELOPE_VECTORS / "payload.json"), "--recipient", "missing.pem"),
        (
            "envelope",
            "seal",
            str(ENVELOPE_VECTORS / "payload.json"),
            "--recipient",
            ALICE,
            "--id",
            "x",
        ),
        (
            "envelope",
            "seal",
            str(ENVELOPE_VECTORS / "payload.json"),
            "--recipient",
            ALICE,
            "--transfer-state",
            "DONE",
        ),
        ("envelope", "seal", str(SIGNATURE_VECTORS / "rsapub.pem"), "--recipient", ALICE),
        (
            "envelope",
            "seal",
            str(ENVELOPE_VECTORS / "payload.json"),
            "--recipient",
            str(SIGNATURE_VECTORS / "ecdsa.pem"),
        ),
        ("keys", "pks", "missing.pem"),
        ("nonsense",),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    done = run(*args)
    assert done.returncode == 2, done.stderr
    assert b"Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [(), ("envelope",), ("envelope", "seal"), ("envelope", "open"), ("keys",), ("keys", "pks")],
)
def test_help_on_every_command(args: tuple[str, ...]) -> None:
    done = run(*args, "--help")
    assert done.returncode == 0
    assert b"usage: travelgate" in done.stdout


@pytest.mark.parametrize(
    ("path", "algorithm", "expected"),
    [
        (
            SIGNATURE_VECTORS / "rsapub.pem",
            "SHA256",
            "SHA256:BbUdmS0/gwFi7loGUcJeEUD4REaT5XgtCoRX+BDnkNg",
        ),
        (SIGNATURE_VECTORS / "ecdsa.pem", "MD5", "MD5:ypCkp1+OdN4sVYyvVeu3uQ"),
        (
            ENVELOPE_VECTORS / "sealing_key.pem",
            "SHA256",
            "SHA256:QhEspinUU51gK0dQGqLa56BA6xyRy5/7sN5/6GlaLZw",
        ),
        (
            ENVELOPE_VECTORS / "alice.vaspbot.net.pem",
            "SHA256",
            "SHA256:J2XfAxVS66xcv+DF3eZpttK1etCSJ2EQiQJiNmIjnvE",
        ),
    ],
)
def test_keys_pks(path: Path, algorithm: str, expected: str) -> None:
    done = run("keys", "pks", str(path), "--algorithm", algorithm)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == expected + "\n"
    piped = run("keys", "pks", "-", "--algorithm", algorithm, stdin=path.read_bytes())
    assert piped.stdout == done.stdout
