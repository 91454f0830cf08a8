"""The hardening keys: per-peer TRISA limits, failed-envelope storage, peer pins."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from travelgate import envelope as env
from travelgate import pki
from travelgate.config import load_config
from travelgate.errors import ConfigError
from travelgate.node import admission_settings
from travelgate.trisa import Directory, Peer, format_pin, parse_pin, spki_digest

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


def test_defaults(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, ""), env={})
    assert (config.trisa.per_peer_streams, config.trisa.per_peer_rps) == (8, 50)
    assert config.trisa.stream_idle_timeout == 60
    assert config.trisa.stream_max_age == 3600
    assert config.trisa.reserved_rpcs == 32
    assert config.storage.failed_per_peer == 10_000
    assert config.storage.failed_retention == timedelta(days=30)
    settings = admission_settings(config)
    # grpc's own cap sits above what admission lets in, reserve included.
    assert settings.grpc_limit > config.trisa.max_concurrent_rpcs + config.trisa.reserved_rpcs


def test_file_and_environment_values(tmp_path: Path) -> None:
    text = """
[trisa]
per_peer_streams = 4
per_peer_rps = 10
stream_idle_timeout = "30s"
stream_max_age = "15m"
reserved_rpcs = 8

[storage]
failed_per_peer = 500
failed_retention = "7d"
"""
    config = load_config(_write(tmp_path, text), env={"TRAVELGATE_TRISA_PER_PEER_RPS": "20"})
    assert (config.trisa.per_peer_streams, config.trisa.per_peer_rps) == (4, 20)
    assert (config.trisa.stream_idle_timeout, config.trisa.stream_max_age) == (30, 900)
    assert config.trisa.reserved_rpcs == 8
    assert config.storage.failed_per_peer == 500
    assert config.storage.failed_retention == timedelta(days=7)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[trisa]\nper_peer_streams = 0\n", r"\[trisa\] per_peer_streams: must be a positive"),
        ("[trisa]\nper_peer_rps = -1\n", r"\[trisa\] per_peer_rps: must be a positive"),
        ("[trisa]\nstream_idle_timeout = 0\n", r"\[trisa\] stream_idle_timeout"),
        ('[trisa]\nstream_max_age = "soon"\n', r"\[trisa\] stream_max_age: expected a duration"),
        ("[storage]\nfailed_per_peer = 0\n", r"\[storage\] failed_per_peer"),
        ('[storage]\nfailed_retention = "x"\n', r"\[storage\] failed_retention"),
    ],
)
def test_mistakes_name_their_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, text), env={})


def _write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(BASE + extra)
    return path


@pytest.fixture(scope="module")
def bob() -> pki.Identity:
    authority = pki.make_authority("pins test CA", key_size=2048)
    return pki.issue_identity(authority, "bob.example", key_size=2048)


def _peers(tmp_path: Path, entry: str) -> Path:
    path = tmp_path / "peers.toml"
    path.write_text(f'[[peer]]\nname = "bob.example"\nendpoint = "127.0.0.1:8101"\n{entry}\n')
    return path


def _loaded(tmp_path: Path, entry: str) -> Peer:
    peer = Directory.load(_peers(tmp_path, entry)).get("bob.example")
    assert peer is not None
    return peer


def test_pin_formats(bob: pki.Identity) -> None:
    digest = spki_digest(bob.certificate.public_key())
    assert digest == hashlib.sha256(env.spki_der(bob.certificate.public_key())).digest()
    pin = format_pin(digest)
    assert pin.startswith("spki:")
    assert len(pin) == 5 + 44
    assert parse_pin(pin) == digest
    assert parse_pin(pin.rstrip("=")) == digest  # padding is optional
    for bad in ("sha256:" + pin[5:], "spki:!!!", "spki:" + base64.b64encode(b"short").decode()):
        with pytest.raises(ValueError, match="pin"):
            parse_pin(bad)


def test_peers_file_pins(tmp_path: Path, bob: pki.Identity) -> None:
    (tmp_path / "bob.pem").write_bytes(bob.cert_pem)
    digest = spki_digest(bob.certificate.public_key())
    other = b"\x01" * 32
    assert _loaded(tmp_path, 'cert = "bob.pem"').pins == {digest}
    by_pin = _loaded(tmp_path, f'pin = "{format_pin(digest)}"')
    assert by_pin.pins == {digest}
    assert by_pin.pinned_key is None  # a pin alone gives no key to seal to
    rotation = f'pin = ["{format_pin(digest)}", "{format_pin(other)}"]'
    assert _loaded(tmp_path, rotation).pins == {digest, other}
    assert _loaded(tmp_path, f'cert = "bob.pem"\npin = "{format_pin(digest)}"').pins == {digest}
    assert _loaded(tmp_path, "").pins == frozenset()


def test_peers_file_limits(tmp_path: Path) -> None:
    peer = _loaded(tmp_path, "per_peer_streams = 32\nper_peer_rps = 500")
    assert (peer.per_peer_streams, peer.per_peer_rps) == (32, 500)
    default = _loaded(tmp_path, "")
    assert (default.per_peer_streams, default.per_peer_rps) == (None, None)
    for bad in ("per_peer_rps = 0", "per_peer_streams = true", 'per_peer_rps = "5"'):
        with pytest.raises(ConfigError, match=r"\(bob.example\): per_peer_\w+ must be a positive"):
            _loaded(tmp_path, bad)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('pin = "sha256:abc"', r"\(bob.example\): pin: a pin is written spki:"),
        ('pin = "spki:AAAA"', r"pin: the pin is 3 bytes"),
        ("pin = 5", r"pin must be"),
        ("pin = []", r"pin must be"),
        ('cert = "bob.pem"\npin = "spki:' + "A" * 43 + '="', r"cert and pin name different keys"),
    ],
)
def test_peers_file_pin_mistakes(
    tmp_path: Path, bob: pki.Identity, entry: str, message: str
) -> None:
    (tmp_path / "bob.pem").write_bytes(bob.cert_pem)
    with pytest.raises(ConfigError, match=message):
        Directory.load(_peers(tmp_path, entry))
