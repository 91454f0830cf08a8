"""`[alerts]` and `[policy] new_destination_hold`: defaults, values, and clear errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from travelgate.config import Config, load_config
from travelgate.errors import ConfigError
from travelgate.transfers import parse_policy

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


def _load(tmp_path: Path, extra: str) -> Config:
    path = tmp_path / "alice.toml"
    path.write_text(BASE + extra)
    return load_config(path, env={})


def test_defaults(tmp_path: Path) -> None:
    config = _load(tmp_path, "")
    assert config.alerts.url == ""
    assert config.alerts.review_age == timedelta(hours=4)
    assert config.alerts.webhook_failures == 5
    assert config.new_destination_hold is None


def test_values_and_the_policy_table_left_to_the_engine(tmp_path: Path) -> None:
    (tmp_path / "webhook.secret").write_text("s")
    config = _load(
        tmp_path,
        '[webhooks]\nsecret_file = "webhook.secret"\n'
        '[alerts]\nurl = "https://security.example/hook"\nreview_age = "30m"\n'
        'webhook_failures = 3\n[policy]\nprofiles = ["EU-TFR"]\nnew_destination_hold = "24h"\n',
    )
    assert config.alerts.url == "https://security.example/hook"
    assert config.alerts.review_age == timedelta(minutes=30)
    assert config.new_destination_hold == timedelta(hours=24)
    # The engine never sees the key (it refuses keys it does not know).
    parse_policy(config.policy)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[alerts]\nurl = "https://x.example/h"\n', "[alerts] url needs [webhooks] secret_file"),
        ('[alerts]\nurl = "ftp://x"\n', "http:// or https://"),
        ("[alerts]\nwebhook_failures = 0\n", "positive"),
        ("[alerts]\nlevel = 1\n", "unknown key [alerts] level"),
        ('[policy]\nnew_destination_hold = "soon"\n', "new_destination_hold"),
        (
            '[policy]\nnew_destination_hold = "0s"\n',
            "new_destination_hold: must be a positive duration",
        ),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, extra)
    assert message in caught.value.message
