"""`travelgate user create|list|disable|enable|reset` as real subprocesses on a node's
database: argon2id hashes, TOTP secrets that match the printed URI, every change audited."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from support.nodes import ALICE, BOB, TestPki, two_node_specs, write_config, write_peers
from support.processes import run_cli
from travelgate.config import load_config
from travelgate.service import password_matches, totp, totp_matches
from travelgate.store import database_for


@pytest.fixture
def config(test_pki: TestPki, tmp_path: Path) -> Path:
    alice, _bob = two_node_specs()
    test_pki.write(BOB)
    write_peers(test_pki.root, [ALICE, BOB])
    return write_config(test_pki, alice, database=tmp_path / "alice.db")


def _cli(config: Path, *args: str) -> tuple[int, str, str]:
    done = run_cli("user", *args, "--config", str(config))
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def _enrolment(stdout: str) -> tuple[str, bytes]:
    lines = dict(line.split(": ", 1) for line in stdout.splitlines() if ": " in line)
    query = parse_qs(urlsplit(lines["TOTP provisioning URI"]).query)
    secret = query["secret"][0]
    return lines["one-time password"], base64.b32decode(secret + "=" * (-len(secret) % 8))


async def _stored(config: Path, email: str) -> tuple[str, bytes]:
    db = database_for(load_config(config))
    await db.open()
    try:

        def read(tx: object) -> tuple[str, bytes]:
            user = tx.user_by_email(email)  # type: ignore[attr-defined]
            secrets = tx.user_secrets(user.id)  # type: ignore[attr-defined]
            return secrets.password_hash, secrets.totp_secret

        return await db.read(read)
    finally:
        await db.close()


async def test_create_prints_a_one_time_password_and_a_totp_uri(config: Path) -> None:
    code, out, err = _cli(config, "create", "--email", "Ann@Example.com", "--role", "compliance")
    assert code == 0, err
    assert out.startswith("created Ann@Example.com (compliance)\n")
    password, secret = _enrolment(out)
    assert "otpauth://totp/travelgate%20alice.example:Ann@Example.com?" in out
    password_hash, stored_secret = await _stored(config, "ann@example.com")
    assert password_hash.startswith("$argon2id$")
    assert password_matches(password_hash, password)
    assert not password_matches(password_hash, password + "x")
    assert stored_secret == secret
    assert totp_matches(stored_secret, totp(secret))

    database = load_config(config).node.database
    with sqlite3.connect(database) as connection:
        (email_column,) = connection.execute("SELECT email FROM users").fetchone()
        trail = connection.execute(
            "SELECT action, subject, detail FROM audit WHERE action LIKE 'user.%'"
        ).fetchall()
    assert b"Ann@Example.com" not in bytes(email_column)  # sealed at rest
    assert [row[0] for row in trail] == ["user.created"]
    assert trail[0][1].startswith("user:")
    assert "example.com" not in trail[0][2].lower()


async def test_list_disable_enable_and_reset(config: Path) -> None:
    for email, role in (("ann@example.com", "admin"), ("bo@example.com", "observer")):
        assert _cli(config, "create", "--email", email, "--role", role)[0] == 0
    code, out, _err = _cli(config, "list", "--format", "json")
    rows = {row["email"]: row for row in json.loads(out)}
    assert (rows["ann@example.com"]["role"], rows["bo@example.com"]["status"]) == (
        "admin",
        "active",
    )
    code, out, _err = _cli(config, "list")
    assert out.splitlines()[0].split() == ["EMAIL", "ROLE", "STATUS", "CREATED", "LAST", "SIGN-IN"]

    assert _cli(config, "disable", "BO@example.com")[1] == "disabled bo@example.com (observer)\n"
    assert "already" in _cli(config, "disable", "bo@example.com")[1]
    rows = {row["email"]: row for row in json.loads(_cli(config, "list", "--format", "json")[1])}
    assert rows["bo@example.com"]["status"] == "disabled"
    assert _cli(config, "enable", "bo@example.com")[0] == 0

    before = await _stored(config, "ann@example.com")
    code, out, err = _cli(config, "reset", "ann@example.com")
    assert code == 0, err
    password, secret = _enrolment(out)
    after = await _stored(config, "ann@example.com")
    assert after[1] == secret != before[1]
    assert password_matches(after[0], password)

    database = load_config(config).node.database
    with sqlite3.connect(database) as connection:
        actions = [
            row[0]
            for row in connection.execute(
                "SELECT action FROM audit WHERE action LIKE 'user.%' ORDER BY id"
            )
        ]
    assert actions == [
        "user.created",
        "user.created",
        "user.disabled",
        "user.enabled",
        "user.reset",
    ]
    assert run_cli("audit", "verify", "--config", str(config)).returncode == 0


async def test_mistakes_are_one_clear_line(config: Path) -> None:
    assert _cli(config, "create", "--email", "ann@example.com", "--role", "admin")[0] == 0
    code, _out, err = _cli(config, "create", "--email", "ANN@example.com", "--role", "admin")
    assert code == 1
    assert "exists already" in err
    code, _out, err = _cli(config, "create", "--email", "not-an-email", "--role", "admin")
    assert code == 2
    assert "not an email address" in err
    code, _out, err = _cli(config, "create", "--email", "x@example.com", "--role", "root")
    assert code == 2
    code, _out, err = _cli(config, "disable", "nobody@example.com")
    assert code == 1
    assert "no user has the email" in err
    assert "Traceback" not in err


def test_processes_writing_at_once_keep_one_intact_chain(config: Path) -> None:
    """Six CLI processes append to the trail at the same moment, next to a running node."""
    import subprocess

    from support.processes import TRAVELGATE, NodeProcess

    node = NodeProcess("serve", "--config", str(config))
    try:
        node.wait_started()
        writers = [
            subprocess.Popen(
                [
                    TRAVELGATE,
                    "user",
                    "create",
                    "--config",
                    str(config),
                    "--email",
                    f"p{number}@example.com",
                    "--role",
                    "observer",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for number in range(6)
        ]
        for writer in writers:
            _out, err = writer.communicate(timeout=60)
            assert writer.returncode == 0, err
    finally:
        node.terminate()
    done = run_cli("audit", "verify", "--config", str(config))
    assert done.returncode == 0, done.stderr
    count = int(done.stdout.split()[0])
    assert count >= 7  # the start-up record and the six people
