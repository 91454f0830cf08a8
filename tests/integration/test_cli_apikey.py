"""`travelgate apikey create|list|revoke` as real subprocesses against a running node."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from support.api import withdrawal
from support.nodes import ALICE, BOB, TestPki, two_node_specs, write_config, write_peers
from support.processes import NodeProcess, run_cli
from travelgate.config import load_config


@pytest.fixture
def config(test_pki: TestPki, tmp_path: Path) -> Path:
    alice, _bob = two_node_specs()
    test_pki.write(BOB)
    write_peers(test_pki.root, [ALICE, BOB])
    return write_config(test_pki, alice, database=tmp_path / "alice.db")


@pytest.fixture
def api_base(config: Path) -> Iterator[str]:
    node = NodeProcess("serve", "--config", str(config))
    try:
        node.wait_started()
        started = [e for e in node.events() if e.get("event") == "node started"][-1]
        yield f"http://127.0.0.1:{started['api_port']}"
    finally:
        node.terminate()


def _create(config: Path, *options: str) -> str:
    created = run_cli("apikey", "create", "--config", str(config), *options)
    assert created.returncode == 0, created.stderr
    key = created.stdout.decode().strip()
    assert key.startswith("tgk_")
    assert "\n" not in key
    return key


def _listed(config: Path) -> list[dict[str, object]]:
    listed = run_cli("apikey", "list", "--config", str(config), "--format", "json")
    assert listed.returncode == 0, listed.stderr
    rows: list[dict[str, object]] = json.loads(listed.stdout)
    return rows


async def _status(base: str, key: str, method: str, path: str) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4())}
    body = withdrawal() if method == "POST" else None
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, base + path, json=body, headers=headers) as response,
    ):
        payload = await response.json()
        return response.status, payload["error"]["code"] if "error" in payload else ""


async def test_keys_are_created_listed_scoped_and_revoked(config: Path, api_base: str) -> None:
    payments = _create(config, "--name", "payments service")
    reader = _create(config, "--name", "deposit reader", "--scope", "deposits")
    operator = _create(config, "--name", "ops", "--scope", "admin", "--scope", "reviews")

    rows = {row["name"]: row for row in _listed(config)}
    assert rows["payments service"]["scopes"] == ["withdrawals", "deposits", "customers", "reviews"]
    assert rows["deposit reader"]["scopes"] == ["deposits"]
    assert rows["ops"]["scopes"] == ["reviews", "admin"]
    assert str(rows["payments service"]["prefix"]) == "_".join(payments.split("_")[:2])
    assert rows["payments service"]["last_used_at"] is None
    text = run_cli("apikey", "list", "--config", str(config))
    assert text.returncode == 0
    table = text.stdout.decode()
    assert "payments service" in table
    assert "never" in table
    for key in (payments, reader, operator):  # the keys themselves are never shown again
        assert key not in table
        secret = key.split("_", 2)[2]
        assert secret not in table
        assert secret not in json.dumps(_listed(config))

    assert await _status(api_base, payments, "POST", "/v1/withdrawals") == (201, "")
    assert await _status(api_base, payments, "GET", "/v1/outbox") == (403, "forbidden_scope")
    assert await _status(api_base, reader, "GET", "/v1/withdrawals") == (403, "forbidden_scope")
    assert await _status(api_base, reader, "GET", "/v1/deposits") == (200, "")
    assert await _status(api_base, operator, "GET", "/v1/outbox") == (200, "")
    assert await _status(api_base, operator, "GET", "/v1/customers") == (403, "forbidden_scope")
    rows = {row["name"]: row for row in _listed(config)}
    assert rows["payments service"]["last_used_at"] is not None

    prefix = str(rows["payments service"]["prefix"])
    revoked = run_cli("apikey", "revoke", prefix, "--config", str(config))
    assert revoked.returncode == 0, revoked.stderr
    assert prefix in revoked.stdout.decode()
    assert await _status(api_base, payments, "GET", "/v1/withdrawals") == (401, "unauthorized")
    assert await _status(api_base, reader, "GET", "/v1/deposits") == (200, "")
    rows = {row["name"]: row for row in _listed(config)}
    assert rows["payments service"]["revoked_at"] is not None
    again = run_cli("apikey", "revoke", prefix, "--config", str(config))
    assert again.returncode == 0  # revoking twice changes nothing and is no error
    trail = sqlite3.connect(load_config(config).node.database).execute(
        "SELECT action, detail FROM audit WHERE subject = ? ORDER BY id",
        (f"apikey:{prefix.removeprefix('tgk_')}",),
    )
    assert [action for action, _detail in trail] == ["apikey.created", "apikey.revoked"]


def test_bad_scopes_and_unknown_prefixes_are_one_clear_line(config: Path) -> None:
    wrong = run_cli("apikey", "create", "--config", str(config), "--scope", "everything")
    assert wrong.returncode == 2
    message = wrong.stderr.decode()
    assert "unknown scope 'everything'" in message
    assert "withdrawals" in message
    assert "Traceback" not in message
    missing = run_cli("apikey", "revoke", "tgk_000000000000", "--config", str(config))
    assert missing.returncode == 1
    assert missing.stderr.decode().strip().count("\n") == 0
    assert "no API key has the prefix" in missing.stderr.decode()
    assert run_cli("apikey", "list", "--config", str(config)).returncode == 0
