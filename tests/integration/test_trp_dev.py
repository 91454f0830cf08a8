"""The dev PKI speaks TRP: `certs init` enables `[trp]` and certifies 127.0.0.1, also for a
PKI made before (its keys are kept, the certificates re-issued)."""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path

from cryptography import x509

from support.processes import run_cli
from travelgate import pki


def _loopback_named(folder: Path) -> bool:
    certificate = pki.load_identity(folder).certificate
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)


def test_certs_init_enables_trp_and_certifies_loopback(tmp_path: Path) -> None:
    result = run_cli("certs", "init", str(tmp_path))
    assert result.returncode == 0, result.stderr
    config = tomllib.loads((tmp_path / "bob.toml").read_text())
    assert config["trp"] == {
        "enabled": True,
        "listen": "127.0.0.1:8201",
        "public_url": "https://127.0.0.1:8201",
    }
    assert _loopback_named(tmp_path / "alice")
    assert pki.load_identity(tmp_path / "alice").dns_names == ["alice.example"]


def test_an_older_dev_certificate_is_reissued_for_its_kept_key(tmp_path: Path) -> None:
    assert run_cli("certs", "init", str(tmp_path)).returncode == 0
    authority = pki.load_authority(tmp_path)
    before = pki.load_identity(tmp_path / "alice")
    # What `certs init` wrote before TRP: the same key, no 127.0.0.1.
    older = pki.issue_identity(authority, "alice.example", key=before.key)
    pki.write_identity(tmp_path / "alice", older, force=True)
    assert not _loopback_named(tmp_path / "alice")
    result = run_cli("certs", "init", str(tmp_path))
    assert result.returncode == 0, result.stderr
    after = pki.load_identity(tmp_path / "alice")
    assert _loopback_named(tmp_path / "alice")
    assert after.key.private_numbers() == before.key.private_numbers()
