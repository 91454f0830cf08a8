"""The `[screening]` section of the node configuration: defaults, values, env, and errors."""

from __future__ import annotations

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


def _load(tmp_path: Path, extra: str, env: dict[str, str] | None = None) -> Config:
    path = tmp_path / "alice.toml"
    path.write_text(BASE + extra)
    return load_config(path, env=env or {})


def test_screening_defaults_reject_on_a_hit_and_fail_closed(tmp_path: Path) -> None:
    config = _load(tmp_path, "")
    screening = config.screening
    assert screening.lists == ()
    assert screening.on_hit == "reject"
    assert screening.provider_url == ""
    assert screening.provider_timeout == 5.0
    assert dict(screening.risk_actions) == {"high": "review", "severe": "reject"}
    assert screening.fail_open is False


def test_every_screening_key_is_read(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        """
[screening]
lists = ["lists/sdn.xml", "/abs/internal.csv"]
on_hit = "review"
provider_url = "https://risk.example/v1/screen"
provider_secret_file = "provider.secret"
provider_timeout = "2s"
risk_actions = { medium = "review", high = "reject", severe = "reject", low = "allow" }
fail_open = true
""",
    )
    screening = config.screening
    assert screening.lists == (tmp_path / "lists" / "sdn.xml", Path("/abs/internal.csv"))
    assert screening.on_hit == "review"
    assert screening.provider_url == "https://risk.example/v1/screen"
    assert screening.provider_secret_file == tmp_path / "provider.secret"
    assert screening.provider_timeout == 2.0
    assert screening.risk_actions["medium"] == "review"
    assert screening.fail_open is True


def test_the_environment_overrides_screening_keys(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "",
        env={
            "TRAVELGATE_SCREENING_LISTS": "a.csv,b.xml",
            "TRAVELGATE_SCREENING_RISK_ACTIONS": "severe=reject, high=review",
            "TRAVELGATE_SCREENING_ON_HIT": "review",
        },
    )
    screening = config.screening
    assert [path.name for path in screening.lists] == ["a.csv", "b.xml"]
    assert dict(screening.risk_actions) == {"severe": "reject", "high": "review"}
    assert screening.on_hit == "review"


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        (
            '[screening]\non_hit = "ignore"\n',
            r"\[screening\] on_hit: expected one of reject, review",
        ),
        ('[screening]\nrisk_actions = { extreme = "reject" }\n', "unknown risk level 'extreme'"),
        ('[screening]\nrisk_actions = { high = "block" }\n', "risk high: expected one of"),
        ('[screening]\nprovider_url = "ftp://x"\n', "http:// or https://"),
        ('[screening]\nprovider_url = "https://x"\n', "provider_url needs provider_secret_file"),
        (
            '[screening]\nlists = "nope" \nfail_open = "maybe"\n',
            "fail_open: expected true or false",
        ),
        ("[screening]\nlists = 3\n", "lists: expected a list of file names"),
        ('[screening]\nprovider_timeout = "0s"\n', "provider_timeout: must be a positive"),
        ('[screening]\ncolour = "red"\n', r"unknown key \[screening\] colour"),
    ],
)
def test_screening_mistakes_name_the_key(tmp_path: Path, extra: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        _load(tmp_path, extra)
