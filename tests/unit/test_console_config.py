"""`[console]`: on once a person exists unless told, sessions' timeouts, Secure cookies."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from travelgate.config import Config, load_config
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
"""


def _config(tmp_path: Path, extra: str = "", env: dict[str, str] | None = None) -> Config:
    path = tmp_path / "alice.toml"
    path.write_text(BASE + extra)
    return load_config(path, env=env or {})


def test_defaults(tmp_path: Path) -> None:
    console = _config(tmp_path).console
    assert console.enabled is None  # "auto": on once a person exists
    assert console.idle_timeout == timedelta(minutes=30)
    assert console.session_lifetime == timedelta(hours=12)
    assert console.secure_cookies is True


@pytest.mark.parametrize(
    ("written", "expected"), [("true", True), ("false", False), ('"auto"', None)]
)
def test_enabled_in_the_file(tmp_path: Path, written: str, expected: bool | None) -> None:
    config = _config(tmp_path, f"\n[console]\nenabled = {written}\n")
    assert config.console.enabled is expected


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("1", True), ("auto", None)])
def test_enabled_from_the_environment(tmp_path: Path, value: str, expected: bool | None) -> None:
    config = _config(tmp_path, env={"TRAVELGATE_CONSOLE_ENABLED": value})
    assert config.console.enabled is expected


def test_bad_values_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r'\[console\] enabled: expected true, false or "auto"'):
        _config(tmp_path, '\n[console]\nenabled = "sometimes"\n')
    with pytest.raises(ConfigError, match=r"\[console\] idle_timeout"):
        _config(tmp_path, '\n[console]\nidle_timeout = "soon"\n')
    with pytest.raises(ConfigError, match=r"unknown key \[console\] theme"):
        _config(tmp_path, '\n[console]\ntheme = "dark"\n')
