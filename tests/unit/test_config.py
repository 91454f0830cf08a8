"""Configuration: the issue-5 TOML contract, environment overrides, and clear errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from travelgate import pki
from travelgate.config import (
    ENV_HARNESS_PREFIXES,
    ENV_OTHER_NAMES,
    environment_names,
    load_config,
    parse_duration,
    parse_listen,
)
from travelgate.errors import ConfigError
from travelgate.trisa import load_credentials

MINIMAL = """
[node]
name = "alice.example"
legal_name = "Alice VASP Ltd"
country = "GB"
trisa_listen = "127.0.0.1:8100"
api_listen = "127.0.0.1:8000"
database = "alice.db"

[tls]
cert = "certs/alice/cert.pem"
key = "certs/alice/key.pem"
trust = "certs/ca.pem"

[storage]
key_file = "storage.key"

[directory]
file = "peers.toml"

[[customers]]
id = "cust-1"
addresses = ["bc1q-alice"]
person = { naturalPerson = { name = { nameIdentifier = [
  { primaryIdentifier = "Smith", secondaryIdentifier = "Alice", nameIdentifierType = "LEGL" } ] } } }
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alice.toml"
    path.write_text(text)
    return path


def test_the_issue_contract_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL), env={})
    assert config.node.name == "alice.example"
    assert config.node.legal_name == "Alice VASP Ltd"
    assert config.node.country == "GB"
    assert config.node.database == tmp_path / "alice.db"
    assert config.tls.cert == tmp_path / "certs" / "alice" / "cert.pem"
    assert config.tls.trust == tmp_path / "certs" / "ca.pem"
    assert config.sealing.cert == config.tls.cert  # [sealing] defaults to the [tls] pair
    assert config.sealing.key == config.tls.key
    assert config.storage.key_file == tmp_path / "storage.key"
    assert config.storage.retention >= timedelta(days=5 * 365)
    assert config.directory.file == tmp_path / "peers.toml"
    assert config.customers[0].id == "cust-1"
    assert config.customers[0].addresses == ("bc1q-alice",)
    person = config.customers[0].person
    assert person["naturalPerson"]["name"]["nameIdentifier"][0]["primaryIdentifier"] == "Smith"
    assert config.trisa.ivms_profile == "standard"
    assert config.trisa.crypto_threads >= 1
    assert config.trisa.confirm_address is False


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    env = {
        "TRAVELGATE_NODE_NAME": "other.example",
        "TRAVELGATE_TLS_CERT": "/etc/tls/cert.pem",
        "TRAVELGATE_TRISA_MAX_CONCURRENT_RPCS": "7",
        "TRAVELGATE_TRISA_CONFIRM_ADDRESS": "true",
        "TRAVELGATE_STORAGE_RETENTION": "10y",
    }
    config = load_config(_write(tmp_path, MINIMAL), env=env)
    assert config.node.name == "other.example"
    assert config.tls.cert == Path("/etc/tls/cert.pem")
    assert config.trisa.max_concurrent_rpcs == 7
    assert config.trisa.confirm_address is True
    assert config.storage.retention == timedelta(days=3660)  # ten years of 366 days


def test_environment_alone_is_a_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {
        "TRAVELGATE_NODE_NAME": "alice.example",
        "TRAVELGATE_NODE_LEGAL_NAME": "Alice",
        "TRAVELGATE_NODE_COUNTRY": "GB",
        "TRAVELGATE_TLS_CERT": "cert.pem",
        "TRAVELGATE_TLS_KEY": "key.pem",
        "TRAVELGATE_TLS_TRUST": "ca.pem",
    }
    config = load_config(None, env=env)
    assert config.tls.cert == tmp_path / "cert.pem"
    assert config.source is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[node]", "[node]\nnmae = 1"), "unknown key [node] nmae"),
        (("[directory]", "[directry]"), "unknown section [directry]"),
        (('name = "alice.example"\n', ""), "[node] name is required"),
        (('country = "GB"', 'country = "Great Britain"'), "ISO 3166-1 alpha-2"),
        (('trisa_listen = "127.0.0.1:8100"', 'trisa_listen = "8100"'), "expected host:port"),
        (('api_listen = "127.0.0.1:8000"', 'api_listen = "127.0.0.1:99999"'), "port must be"),
        (('database = "alice.db"', "database = 5"), "expected a string, got an integer"),
        (("[storage]", '[storage]\nretention = "forever"'), "expected a duration"),
        (('id = "cust-1"', "id = 1"), "id is required"),
        (('addresses = ["bc1q-alice"]', 'addresses = "bc1q-alice"'), "addresses must be a list"),
        (("[directory]", '[sealing]\ncert = "x.pem"\n[directory]'), "[sealing] needs both"),
        (("[node]", '[webhooks]\nurl = "https://ops.example/hook"\n[node]'), "needs secret_file"),
        (("[node]", '[webhooks]\nurl = "ftp://ops"\n[node]'), "http:// or https://"),
        (("[node]", '[trisa]\nivms_profile = "loose"\n[node]'), "expected one of strict"),
        (("[node]", "[trisa]\nmax_concurrent_rpcs = 0\n[node]"), "positive integer"),
        (("[[customers]]", "customers = 5\n[[x]]"), "unknown section [x]"),
    ],
)
def test_every_mistake_names_its_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = MINIMAL.replace(*change, 1)
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text), env={})
    assert message in caught.value.message


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", env={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(_write(tmp_path, "[node\nname="), env={})
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path, env={})


def test_duplicate_customer_ids_are_refused(tmp_path: Path) -> None:
    twice = MINIMAL + MINIMAL[MINIMAL.index("[[customers]]") :]
    with pytest.raises(ConfigError, match="appears twice"):
        load_config(_write(tmp_path, twice), env={})


def test_env_value_errors_name_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TRAVELGATE_TRISA_GRACE_SECONDS"):
        load_config(_write(tmp_path, MINIMAL), env={"TRAVELGATE_TRISA_GRACE_SECONDS": "soon"})


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("TRAVELGATE_NODE_NAMEE", "did you mean TRAVELGATE_NODE_NAME?"),
        ("TRAVELGATE_TLS_CERTIFICATE", "did you mean TRAVELGATE_TLS_CERT?"),
        ("TRAVELGATE_POLICY_PROFILES", ""),  # [policy] is read from the file only
        ("TRAVELGATE_WHATEVER", ""),
    ],
)
def test_unknown_travelgate_variables_are_refused(tmp_path: Path, name: str, hint: str) -> None:
    with pytest.raises(ConfigError, match=f"unknown variable {name}") as caught:
        load_config(_write(tmp_path, MINIMAL), env={name: "x"})
    assert hint in caught.value.message


def test_the_other_travelgate_variables_are_documented_and_accepted(tmp_path: Path) -> None:
    env = {
        "TRAVELGATE_CONFIG": "elsewhere.toml",
        "TRAVELGATE_API_KEY": "tgk_x",
        "TRAVELGATE_TEST_SLOW": "1",
        "TRAVELGATE_FUZZ_EXAMPLES": "10",
        "PATH": "/usr/bin",
    }
    load_config(_write(tmp_path, MINIMAL), env=env)
    names = environment_names()
    assert "TRAVELGATE_TRISA_MAX_CONCURRENT_RPCS" in names
    assert set(ENV_OTHER_NAMES) <= set(names)
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for documented in [*ENV_OTHER_NAMES, *ENV_HARNESS_PREFIXES]:
        assert documented in readme, documented


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("90m", 5400), ("24h", 86400), ("7d", 604800), ("2", 2), ("1.5h", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


def test_listen_addresses() -> None:
    assert parse_listen("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_listen("[::1]:8100") == ("::1", 8100)
    for bad in ("localhost", ":80", "host:http", "[zz]:1"):
        with pytest.raises(ValueError, match=r"."):
            parse_listen(bad)


# -- credentials: checked at start-up ---------------------------------------------------


@pytest.fixture(scope="module")
def authority() -> pki.Authority:
    return pki.make_authority("config test CA", key_size=2048)


def _node(tmp_path: Path, authority: pki.Authority, identity: pki.Identity, **extra: str) -> Path:
    pki.write_identity(tmp_path / "certs" / "alice", identity, force=True)
    (tmp_path / "certs" / "ca.pem").write_bytes(extra.pop("trust", authority.cert_pem))  # type: ignore[arg-type]
    return _write(tmp_path, MINIMAL)


def test_valid_credentials_load(tmp_path: Path, authority: pki.Authority) -> None:
    identity = pki.issue_identity(authority, "alice.example", key_size=2048)
    config = load_config(_node(tmp_path, authority, identity), env={})
    credentials = load_credentials(config)
    assert credentials.name == "alice.example"
    assert credentials.warnings == ()
    assert len(credentials.keyring) == 1
    assert credentials.key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")


def test_credential_mistakes_are_config_errors(tmp_path: Path, authority: pki.Authority) -> None:
    good = pki.issue_identity(authority, "alice.example", key_size=2048)
    other = pki.issue_identity(authority, "alice.example", key_size=2048)
    config = load_config(_node(tmp_path, authority, good), env={})
    (tmp_path / "certs" / "alice" / "key.pem").write_bytes(other.key_pem)
    with pytest.raises(ConfigError, match="does not match the certificate"):
        load_credentials(config)

    expired = pki.issue_identity(
        authority, "alice.example", key_size=2048, not_after=datetime.now(UTC) - timedelta(days=1)
    )
    config = load_config(_node(tmp_path, authority, expired), env={})
    with pytest.raises(ConfigError, match="expired"):
        load_credentials(config)

    wrong_name = pki.issue_identity(authority, "bob.example", key_size=2048)
    config = load_config(_node(tmp_path, authority, wrong_name), env={})
    with pytest.raises(ConfigError, match="does not match the certificate's common name"):
        load_credentials(config)

    stranger_ca = pki.make_authority("stranger", key_size=2048)
    config = load_config(_node(tmp_path, stranger_ca, good), env={})
    with pytest.raises(ConfigError, match="does not chain"):
        load_credentials(config)

    (tmp_path / "certs" / "alice" / "key.pem").unlink()
    with pytest.raises(ConfigError, match=r"\[tls\] key not found"):
        load_credentials(config)


def test_certificate_about_to_expire_is_a_warning(tmp_path: Path, authority: pki.Authority) -> None:
    soon = pki.issue_identity(
        authority, "alice.example", key_size=2048, not_after=datetime.now(UTC) + timedelta(days=10)
    )
    config = load_config(_node(tmp_path, authority, soon), env={})
    credentials = load_credentials(config)
    assert len(credentials.warnings) == 1
    assert "expires in" in credentials.warnings[0]
