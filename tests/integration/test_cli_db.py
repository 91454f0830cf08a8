"""`travelgate db migrate|status` as real subprocesses, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from support.postgres import PostgresServer
from support.processes import TRAVELGATE
from support.stores import StoreFactory
from travelgate.store._schema import MIGRATIONS

CONFIG = """
[node]
name = "alice.example"
legal_name = "Alice VASP Ltd"
country = "GB"
database = "{database}"

[tls]
cert = "cert.pem"
key = "key.pem"
trust = "ca.pem"

[storage]
key_file = "alice.key"
audit_key_file = "alice.audit.key"
"""
LATEST = len(MIGRATIONS)


def _db(config: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRAVELGATE, "db", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


def _config(folder: Path, database: str) -> Path:
    path = folder / "alice.toml"
    path.write_text(CONFIG.format(database=database))
    return path


def test_status_then_migrate_then_status(stores: StoreFactory, tmp_path: Path) -> None:
    config = _config(tmp_path, stores.location())
    everything = ", ".join(str(n) for n in range(1, LATEST + 1))

    before = _db(config, "status")
    assert before.returncode == 1, before.stderr
    assert before.stdout.splitlines() == [
        f"backend: {stores.backend}",
        f"database: {stores.location()}",
        "current version: 0",
        f"latest version: {LATEST}",
        f"pending migrations: {everything}",
    ]
    assert not (tmp_path / "alice.key").exists()  # status reads the version, nothing else

    migrated = _db(config, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.splitlines() == [
        f"{stores.backend} database {stores.location()}: applied migrations {everything}",
        f"schema version {LATEST}",
    ]

    after = _db(config, "status")
    assert after.returncode == 0, after.stderr
    assert after.stdout.splitlines()[2:] == [
        f"current version: {LATEST}",
        f"latest version: {LATEST}",
        "pending migrations: none",
    ]
    again = _db(config, "migrate")
    assert (again.returncode, again.stdout.splitlines()[0]) == (
        0,
        f"{stores.backend} database {stores.location()}: nothing to apply",
    )


def test_the_database_url_may_come_from_the_environment(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    config = _config(tmp_path, "unused.db")
    url = postgres_server.database()
    done = _db(config, "migrate", TRAVELGATE_NODE_DATABASE=url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"postgres database {url}: applied")
    assert not (tmp_path / "unused.db").exists()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgres://app:hunter2@db.example/travelgate", "must start with postgresql://"),
        ("postgresql://db.example/travelgate", "names no user"),
        ("postgresql://app:hunter2@/travelgate", "names no host"),
        ("postgresql://app:hunter2@db.example:99999/travelgate", "not a valid URL"),
        ("postgresql://app:hunter2@db.example/", "names no database"),
        ("postgresql://app:hunter2@db.example/tg?sslmode=sometimes", "sslmode must be one of"),
        ("postgresql://app:hunter2@db.example/tg?host=elsewhere", "unknown option 'host'"),
    ],
)
def test_a_bad_url_is_a_clear_config_error_without_the_password(
    tmp_path: Path, url: str, problem: str
) -> None:
    done = _db(_config(tmp_path, url), "status")
    assert done.returncode == 1
    assert problem in done.stderr
    assert "[node] database" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_an_unreachable_server_is_a_clear_error_without_the_password(tmp_path: Path) -> None:
    config = _config(tmp_path, "postgresql://app:hunter2@127.0.0.1:1/travelgate")
    for command in ("status", "migrate"):
        done = _db(config, command)
        assert done.returncode == 1
        assert "cannot connect to database postgresql://app:***@127.0.0.1:1/travelgate" in (
            done.stderr
        )
        assert "hunter2" not in done.stderr + done.stdout
        assert "Traceback" not in done.stderr
