"""`[node] database` as a file or a PostgreSQL URL, and the `[database]` settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from travelgate.config import Config, load_config
from travelgate.errors import ConfigError
from travelgate.store._url import redacted
from travelgate.store.postgres._connection import translate

CONFIG = """
[node]
name = "alice.example"
legal_name = "Alice VASP Ltd"
country = "GB"
{database}

[tls]
cert = "cert.pem"
key = "key.pem"
trust = "ca.pem"
{extra}
"""


def test_a_file_path_is_sqlite_and_the_defaults_hold(tmp_path: Path) -> None:
    config = load_config_of(tmp_path, 'database = "data/alice.db"')
    assert config.node.database == tmp_path / "data" / "alice.db"
    assert (config.database.pool_size, config.database.statement_timeout) == (
        10,
        timedelta(seconds=30),
    )


def test_a_postgresql_url_is_kept_as_given(tmp_path: Path) -> None:
    url = "postgresql://app:s3cret@db.example:5433/travelgate?sslmode=verify-full"
    config = load_config_of(tmp_path, f'database = "{url}"')
    assert config.node.database == url


def test_the_url_may_come_from_the_environment(tmp_path: Path) -> None:
    url = "postgresql://app@db.example/travelgate"
    config = load_config_of(tmp_path, 'database = "alice.db"', TRAVELGATE_NODE_DATABASE=url)
    assert config.node.database == url


def test_database_settings_are_read_and_checked(tmp_path: Path) -> None:
    config = load_config_of(tmp_path, extra="[database]\npool_size = 4\nstatement_timeout = 1.5")
    assert (config.database.pool_size, config.database.statement_timeout) == (
        4,
        timedelta(seconds=1.5),
    )
    with pytest.raises(ConfigError, match=r"\[database\] pool_size: must be a positive"):
        load_config_of(tmp_path, extra="[database]\npool_size = 0")
    with pytest.raises(ConfigError, match=r"\[database\] statement_timeout"):
        load_config_of(tmp_path, extra='[database]\nstatement_timeout = "soon"')
    with pytest.raises(ConfigError, match=r"unknown key \[database\] size"):
        load_config_of(tmp_path, extra="[database]\nsize = 3")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://app:s3cret@db/tg", "must start with postgresql://"),
        ("postgresql://:s3cret@db/tg", "names no user"),
        ("postgresql://app:s3cret@:5432/tg", "names no host"),
        ("postgresql://app:s3cret@db:0/tg", "port must be from 1 to 65535"),
        ("postgresql://app:s3cret@db:http/tg", "not a valid URL"),
        ("postgresql://app:s3cret@db/tg/extra", "names no database"),
        ("postgresql://app:s3cret@db/tg#here", "no #fragment"),
        ("postgresql://app:s3cret@db/tg?sslmode", "the query is not name=value pairs"),
        ("postgresql://app:s3cret@db/tg?sslmode=on", "sslmode must be one of"),
        ("postgresql://app:s3cret@db/tg?connect_timeout=3", "unknown option 'connect_timeout'"),
    ],
)
def test_a_bad_url_names_the_key_and_never_the_password(
    tmp_path: Path, url: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_of(tmp_path, f'database = "{url}"')
    assert problem in str(caught.value)
    assert "[node] database" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_a_password_is_never_shown() -> None:
    assert redacted("postgresql://app:p%40ss@db/tg") == "postgresql://app:***@db/tg"
    assert redacted("postgresql://app@db/tg") == "postgresql://app@db/tg"


def test_placeholders_become_psycopg_ones_outside_quoted_text() -> None:
    assert translate("SELECT * FROM t WHERE a = ? AND b LIKE 'x?%' AND c = ?") == (
        "SELECT * FROM t WHERE a = %s AND b LIKE 'x?%%' AND c = %s"
    )
    assert translate("UPDATE t SET a = :a, b = :b_2 WHERE id = :id") == (
        "UPDATE t SET a = %(a)s, b = %(b_2)s WHERE id = %(id)s"
    )
    assert translate("SELECT x::text, '%' FROM t") == "SELECT x::text, '%%' FROM t"


def load_config_of(tmp_path: Path, database: str = "", extra: str = "", **env: str) -> Config:
    path = tmp_path / "node.toml"
    path.write_text(CONFIG.format(database=database, extra=extra))
    return load_config(path, env=env)
