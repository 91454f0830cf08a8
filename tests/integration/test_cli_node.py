"""`travelgate serve`, `robot`, `transfer send` and `keys exchange` as real subprocesses."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.nodes import (
    ALICE,
    BOB,
    BOB_ADDRESS,
    TestPki,
    two_node_specs,
    write_config,
    write_peers,
)
from support.payloads import transfer_payload
from support.processes import NodeProcess, run_cli
from travelgate import envelope as env


@pytest.fixture
def configs(test_pki: TestPki, tmp_path: Path) -> dict[str, Path]:
    alice, bob = two_node_specs(bob_robot=None)
    write_peers(test_pki.root, [ALICE, BOB])
    return {
        ALICE: write_config(test_pki, alice, database=tmp_path / "alice.db"),
        BOB: write_config(test_pki, bob, database=tmp_path / "bob.db"),
    }


@pytest.fixture
def robot_bob(configs: dict[str, Path], test_pki: TestPki) -> Iterator[NodeProcess]:
    node = NodeProcess("robot", "--policy", "sync-accept", "--config", str(configs[BOB]))
    try:
        port = node.wait_started()
        write_peers(test_pki.root, [ALICE, BOB], {BOB: port})
        yield node
    finally:
        node.stop_quietly()


def _payload_file(tmp_path: Path, **options: str) -> Path:
    path = tmp_path / "payload.json"
    path.write_text(env.message_to_json(transfer_payload(**options)))  # type: ignore[arg-type]
    return path


def _send(
    configs: dict[str, Path], payload: str, *extra: str
) -> subprocess.CompletedProcess[bytes]:
    return run_cli(
        "transfer",
        "send",
        "--config",
        str(configs[ALICE]),
        "--to",
        BOB,
        "--payload",
        payload,
        *extra,
    )


def test_transfer_send_prints_the_reply_like_envelope_open(
    configs: dict[str, Path], robot_bob: NodeProcess, tmp_path: Path
) -> None:
    envelope_id = env.new_envelope_id()
    done = _send(configs, str(_payload_file(tmp_path)), "--id", envelope_id)
    assert done.returncode == 0, done.stderr.decode()
    out = json.loads(done.stdout)
    assert set(out) == {"id", "timestamp", "transferState", "payload"}
    assert out["id"] == envelope_id
    assert out["transferState"] == "ACCEPTED"
    assert out["payload"]["received_at"]
    # Logs went to stderr, one JSON line per envelope, without personal data.
    lines = [json.loads(line) for line in done.stderr.decode().splitlines() if line.startswith("{")]
    envelope_lines = [line for line in lines if line.get("event") == "envelope"]
    assert envelope_lines[0]["peer"] == BOB
    assert "Jones" not in done.stderr.decode()


def test_transfer_send_rejection_is_a_reply(
    configs: dict[str, Path], robot_bob: NodeProcess, tmp_path: Path
) -> None:
    done = _send(configs, str(_payload_file(tmp_path, beneficiary_address="bc1qnobody")))
    assert done.returncode == 0, done.stderr.decode()
    out = json.loads(done.stdout)
    assert out["transferState"] == "REJECTED"
    assert out["error"]["code"] == "UNKNOWN_WALLET_ADDRESS"


def test_transfer_send_without_a_peer_exits_1(configs: dict[str, Path], tmp_path: Path) -> None:
    done = _send(configs, str(_payload_file(tmp_path)))
    assert done.returncode == 1
    assert done.stdout == b""
    assert "no reply" in done.stderr.decode().strip().splitlines()[-1]


def test_transfer_send_usage_errors(configs: dict[str, Path], tmp_path: Path) -> None:
    payload = str(_payload_file(tmp_path))
    unknown = run_cli(
        "transfer",
        "send",
        "--config",
        str(configs[ALICE]),
        "--to",
        "x.example",
        "--payload",
        payload,
    )
    assert unknown.returncode == 2
    assert "not in the directory" in unknown.stderr.decode()
    bad_id = run_cli(
        "transfer",
        "send",
        "--config",
        str(configs[ALICE]),
        "--to",
        BOB,
        "--payload",
        payload,
        "--id",
        "7",
    )
    assert bad_id.returncode == 2
    bad_config = run_cli(
        "transfer",
        "send",
        "--config",
        str(tmp_path / "none.toml"),
        "--to",
        BOB,
        "--payload",
        payload,
    )
    assert bad_config.returncode == 1
    assert "config file not found" in bad_config.stderr.decode()


def test_serve_and_transfer_send_share_one_database(
    configs: dict[str, Path], robot_bob: NodeProcess, tmp_path: Path
) -> None:
    alice = NodeProcess("serve", "--config", str(configs[ALICE]))
    try:
        alice.wait_started()
        done = run_cli(
            "transfer",
            "send",
            "--config",
            str(configs[ALICE]),
            "--to",
            BOB,
            "--payload",
            str(_payload_file(tmp_path)),
        )
        assert done.returncode == 0, done.stderr.decode()
        started = time.monotonic()
        assert alice.terminate() == 0
        assert time.monotonic() - started < 15
    finally:
        alice.stop_quietly()


def test_keys_exchange_prints_the_peer_key(
    configs: dict[str, Path], robot_bob: NodeProcess, test_pki: TestPki
) -> None:
    done = run_cli("keys", "exchange", "--config", str(configs[ALICE]), "--to", BOB)
    assert done.returncode == 0, done.stderr.decode()
    out = json.loads(done.stdout)
    bob_key = test_pki.identity(BOB).certificate.public_key()
    assert out["public_key_signature"] == env.public_key_signature(bob_key)
    assert out["peer"] == BOB


def test_serve_refuses_a_broken_config_with_a_clear_message(
    configs: dict[str, Path], tmp_path: Path
) -> None:
    text = configs[ALICE].read_text().replace('country = "GB"', 'country = "Britain"', 1)
    broken = tmp_path / "broken.toml"
    broken.write_text(text)
    done = run_cli("serve", "--config", str(broken))
    assert done.returncode == 1
    assert "[node] country" in done.stderr.decode()
    assert b"Traceback" not in done.stderr


def test_robot_refuses_an_unknown_policy(configs: dict[str, Path]) -> None:
    done = run_cli("robot", "--policy", "maybe", "--config", str(configs[BOB]))
    assert done.returncode == 2


def test_sigterm_drains_and_exits_zero(configs: dict[str, Path]) -> None:
    node = NodeProcess("serve", "--config", str(configs[BOB]))
    try:
        node.wait_started()
        assert node.terminate() == 0
        assert any(e.get("event") == "node stopped" for e in node.events())
    finally:
        node.stop_quietly()


def test_address_is_a_customer_of_bob() -> None:
    assert BOB_ADDRESS.startswith("bc1q")
