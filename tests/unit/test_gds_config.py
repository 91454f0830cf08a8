"""`[directory] gds`, `gds_ttl` and their TRAVELGATE_DIRECTORY_* overrides."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from travelgate.config import load_config
from travelgate.errors import ConfigError

BASE = """
[node]
name = "alice.example"
legal_name = "Alice VASP Ltd"
country = "GB"

[tls]
cert = "cert.pem"
key = "key.pem"
trust = "ca.pem"

[directory]
file = "peers.toml"
"""


def test_no_directory_service_by_default(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path), env={})
    assert config.directory.gds == ""
    assert config.directory.gds_ttl == timedelta(hours=1)
    assert config.directory.gds_timeout == 5.0
    assert config.directory.gds_not_found_ttl == timedelta(minutes=5)
    assert config.directory.gds_trust is None  # [tls] trust is used


def test_file_values_and_environment_overrides(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'gds = "api.testnet.directory:443"\ngds_ttl = "10m"\ngds_trust = "public.pem"\n',
    )
    config = load_config(path, env={})
    assert config.directory.gds == "api.testnet.directory:443"
    assert config.directory.gds_trust == tmp_path / "public.pem"
    assert config.directory.gds_ttl == timedelta(minutes=10)
    env = {
        "TRAVELGATE_DIRECTORY_GDS": "127.0.0.1:4433",
        "TRAVELGATE_DIRECTORY_GDS_TTL": "30s",
    }
    config = load_config(path, env=env)
    assert config.directory.gds == "127.0.0.1:4433"
    assert config.directory.gds_ttl == timedelta(seconds=30)
    assert config.directory.file == tmp_path / "peers.toml"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('gds = "api.trisa.directory"\n', "[directory] gds: expected host:port"),
        ('gds = "gds:99999"\n', "port must be"),
        ('gds_ttl = "forever"\n', "[directory] gds_ttl: expected a duration"),
        ("gds_ttl = 0\n", "[directory] gds_ttl: must be a positive duration"),
        ('gds_timeout = "-1s"\n', "[directory] gds_timeout"),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, extra), env={})
    assert message in caught.value.message


def test_environment_mistakes_name_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TRAVELGATE_DIRECTORY_GDS_TTL"):
        load_config(_write(tmp_path), env={"TRAVELGATE_DIRECTORY_GDS_TTL": "soon"})


def _write(tmp_path: Path, directory: str = "") -> Path:
    path = tmp_path / "node.toml"
    path.write_text(BASE + directory)
    return path
