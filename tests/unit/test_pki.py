"""Unit tests of travelgate.pki: certificate properties, validity helpers and key files."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from travelgate import pki
from travelgate.errors import ConfigError

_E = TypeVar("_E", bound=x509.ExtensionType)

# 2048-bit keys keep the fixtures fast; the key size itself is a parameter under test once.
FAST = 2048


@pytest.fixture(scope="module")
def spare_key() -> rsa.RSAPrivateKey:
    """One key reused by tests that only care about the certificate around it."""
    return rsa.generate_private_key(public_exponent=65537, key_size=FAST)


@pytest.fixture(scope="module")
def ca() -> pki.Authority:
    return pki.make_authority("travelgate test CA", key_size=FAST)


@pytest.fixture(scope="module")
def other_ca(spare_key: rsa.RSAPrivateKey) -> pki.Authority:
    return pki.make_authority("another CA", key=spare_key)


@pytest.fixture(scope="module")
def alice(ca: pki.Authority) -> pki.Identity:
    return pki.issue_identity(ca, "alice.example", key_size=FAST)


def _extension(cert: x509.Certificate, kind: type[_E]) -> x509.Extension[_E]:
    return cert.extensions.get_extension_for_class(kind)


def _pem_blocks(data: bytes) -> int:
    return data.count(b"-----BEGIN CERTIFICATE-----")


# -- authority -----------------------------------------------------------------------------


def test_authority_is_a_self_signed_ca(ca: pki.Authority) -> None:
    cert = ca.certificate
    assert ca.common_name == "travelgate test CA"
    assert cert.issuer == cert.subject
    cert.verify_directly_issued_by(cert)
    constraints = _extension(cert, x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    usage = _extension(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign
    assert usage.value.crl_sign
    assert not usage.value.digital_signature
    ski = _extension(cert, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(ca.key.public_key())
    assert ca.chain == ()
    assert ca.ca_pem == ca.cert_pem == ca.chain_pem
    assert pki.key_matches_certificate(ca.key, cert)


def test_authority_default_validity_is_ten_years(ca: pki.Authority) -> None:
    cert = ca.certificate
    span = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert span == timedelta(days=pki.DEFAULT_AUTHORITY_DAYS)
    # Backdated a little for peers whose clocks lag, but made just now.
    assert timedelta(0) < datetime.now(UTC) - cert.not_valid_before_utc < timedelta(minutes=10)


def test_authority_key_size_is_honoured() -> None:
    authority = pki.make_authority("small", key_size=FAST)
    assert authority.key.key_size == FAST


def test_default_key_size_is_rsa_4096() -> None:
    assert pki.DEFAULT_KEY_SIZE == 4096


# -- identity --------------------------------------------------------------------------------


def test_identity_subject_and_san_are_the_node_name(alice: pki.Identity) -> None:
    cert = alice.certificate
    assert pki.common_name_of(cert) == "alice.example"
    assert alice.common_name == "alice.example"
    assert alice.dns_names == ["alice.example"]
    assert pki.dns_names_of(cert) == ["alice.example"]


def test_identity_usages_fit_a_grpc_client_and_server(alice: pki.Identity) -> None:
    cert = alice.certificate
    constraints = _extension(cert, x509.BasicConstraints)
    assert constraints.critical
    assert not constraints.value.ca
    usage = _extension(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert usage.value.key_encipherment
    assert not usage.value.key_cert_sign
    eku = _extension(cert, x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]


def test_identity_chains_to_its_ca(alice: pki.Identity, ca: pki.Authority) -> None:
    alice.certificate.verify_directly_issued_by(ca.certificate)
    assert pki.issued_by(alice.certificate, ca.certificate)
    aki = _extension(alice.certificate, x509.AuthorityKeyIdentifier).value
    ski = _extension(ca.certificate, x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert alice.chain == (ca.certificate,)


def test_identity_does_not_chain_to_another_ca(
    alice: pki.Identity, other_ca: pki.Authority
) -> None:
    assert not pki.issued_by(alice.certificate, other_ca.certificate)


def test_identity_key_matches_its_certificate(
    alice: pki.Identity, spare_key: rsa.RSAPrivateKey
) -> None:
    assert alice.key.key_size == FAST
    assert pki.key_matches_certificate(alice.key, alice.certificate)
    assert not pki.key_matches_certificate(spare_key, alice.certificate)
    # And the key really is the one that opens what is sealed to the certificate.
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    public = alice.certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    assert alice.key.decrypt(public.encrypt(b"sealed", oaep), oaep) == b"sealed"


def test_identity_pem_helpers(alice: pki.Identity, ca: pki.Authority) -> None:
    assert _pem_blocks(alice.cert_pem) == 1
    assert x509.load_pem_x509_certificate(alice.cert_pem) == alice.certificate
    assert _pem_blocks(alice.chain_pem) == 2
    assert x509.load_pem_x509_certificates(alice.chain_pem) == [alice.certificate, ca.certificate]
    assert alice.ca_pem == ca.cert_pem
    assert alice.key_pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert b"ENCRYPTED" not in alice.key_pem


def test_identity_default_validity_is_one_year(alice: pki.Identity) -> None:
    cert = alice.certificate
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=365)


def test_identity_extra_sans_and_ip_addresses(
    ca: pki.Authority, spare_key: rsa.RSAPrivateKey
) -> None:
    identity = pki.issue_identity(
        ca,
        "alice.example",
        key=spare_key,
        dns_names=["alice.example", "trisa.alice.example"],
        ip_addresses=["127.0.0.1"],
    )
    san = _extension(identity.certificate, x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["alice.example", "trisa.alice.example"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert identity.key is spare_key


def test_identity_cn_missing_from_sans(ca: pki.Authority, spare_key: rsa.RSAPrivateKey) -> None:
    identity = pki.issue_identity(ca, "mallory.example", key=spare_key, dns_names=["bob.example"])
    assert identity.common_name == "mallory.example"
    assert identity.dns_names == ["bob.example"]


def test_identity_without_sans(ca: pki.Authority, spare_key: rsa.RSAPrivateKey) -> None:
    identity = pki.issue_identity(ca, "alice.example", key=spare_key, dns_names=[])
    with pytest.raises(x509.ExtensionNotFound):
        _extension(identity.certificate, x509.SubjectAlternativeName)
    assert identity.dns_names == []


def test_identity_with_a_subject_without_cn(
    ca: pki.Authority, spare_key: rsa.RSAPrivateKey
) -> None:
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "No Name Ltd")])
    identity = pki.issue_identity(ca, "alice.example", key=spare_key, subject=subject)
    assert identity.common_name is None
    assert identity.dns_names == ["alice.example"]


def test_server_only_identity(ca: pki.Authority, spare_key: rsa.RSAPrivateKey) -> None:
    identity = pki.issue_identity(ca, "alice.example", key=spare_key, client_and_server=False)
    eku = _extension(identity.certificate, x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_identity_explicit_validity(ca: pki.Authority, spare_key: rsa.RSAPrivateKey) -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    end = datetime(2021, 1, 1, tzinfo=UTC)
    identity = pki.issue_identity(ca, "old.example", key=spare_key, not_before=start, not_after=end)
    assert identity.certificate.not_valid_before_utc == start
    assert identity.certificate.not_valid_after_utc == end
    counted = pki.issue_identity(ca, "old.example", key=spare_key, not_before=start, valid_days=10)
    assert counted.certificate.not_valid_after_utc == start + timedelta(days=10)


def test_identity_with_only_not_after_counts_back(
    ca: pki.Authority, spare_key: rsa.RSAPrivateKey
) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    expired = pki.issue_identity(ca, "old.example", key=spare_key, not_after=yesterday)
    cert = expired.certificate
    assert cert.not_valid_after_utc == yesterday.replace(microsecond=0)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=365)
    assert pki.is_expired(cert, now=datetime.now(UTC))


def test_identity_validity_must_make_sense(ca: pki.Authority, spare_key: rsa.RSAPrivateKey) -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="before it starts"):
        pki.issue_identity(ca, "x.example", key=spare_key, not_before=start, not_after=start)
    with pytest.raises(ValueError, match="timezone-aware"):
        pki.issue_identity(ca, "x.example", key=spare_key, not_before=datetime(2020, 1, 1))


def test_intermediate_authority_chain(ca: pki.Authority, spare_key: rsa.RSAPrivateKey) -> None:
    intermediate = pki.make_authority("issuing CA", key=spare_key, issuer=ca)
    intermediate.certificate.verify_directly_issued_by(ca.certificate)
    constraints = _extension(intermediate.certificate, x509.BasicConstraints).value
    assert constraints.ca
    assert constraints.path_length == 0
    assert intermediate.ca_pem == ca.cert_pem
    leaf = pki.issue_identity(intermediate, "carol.example", key=spare_key)
    assert leaf.chain == (intermediate.certificate, ca.certificate)
    assert x509.load_pem_x509_certificates(leaf.chain_pem) == [
        leaf.certificate,
        intermediate.certificate,
        ca.certificate,
    ]
    assert leaf.ca_pem == ca.cert_pem


def test_identity_needs_a_chain(alice: pki.Identity) -> None:
    with pytest.raises(ValueError, match="issuing CA"):
        pki.Identity(key=alice.key, certificate=alice.certificate, chain=())


# -- validity helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dated(ca: pki.Authority, spare_key: rsa.RSAPrivateKey) -> pki.Identity:
    """alice.example valid from 2026-01-01 to 2026-12-07T10:00:00Z."""
    return pki.issue_identity(
        ca,
        "alice.example",
        key=spare_key,
        not_before=datetime(2026, 1, 1, tzinfo=UTC),
        not_after=datetime(2026, 12, 7, 10, 0, 0, tzinfo=UTC),
    )


END = datetime(2026, 12, 7, 10, 0, 0, tzinfo=UTC)


def test_expiry_warning_message(dated: pki.Identity) -> None:
    warning = pki.certificate_expiry_warning(dated.certificate, now=END - timedelta(days=12))
    assert warning == "certificate for alice.example expires in 12 days (2026-12-07T10:00:00Z)"


@pytest.mark.parametrize(
    ("before_end", "expected"),
    [
        (timedelta(days=31), None),
        (timedelta(days=30, seconds=1), None),
        (timedelta(days=30), "expires in 30 days"),
        (timedelta(days=29, hours=23), "expires in 29 days"),
        (timedelta(days=1), "expires in 1 day"),
        (timedelta(hours=5, minutes=30), "expires in 5 hours"),
        (timedelta(hours=1), "expires in 1 hour"),
        (timedelta(minutes=10), "expires in less than an hour"),
        (timedelta(0), "expires in less than an hour"),
        (-timedelta(days=3), "expired 3 days ago"),
    ],
)
def test_expiry_warning_thresholds(
    dated: pki.Identity, before_end: timedelta, expected: str | None
) -> None:
    warning = pki.certificate_expiry_warning(dated.certificate, now=END - before_end)
    if expected is None:
        assert warning is None
    else:
        assert warning == f"certificate for alice.example {expected} (2026-12-07T10:00:00Z)"


def test_expiry_warning_window_is_configurable(dated: pki.Identity) -> None:
    now = END - timedelta(days=45)
    assert pki.certificate_expiry_warning(dated.certificate, now=now) is None
    assert pki.certificate_expiry_warning(
        dated.certificate, now=now, within=timedelta(days=60)
    ) == ("certificate for alice.example expires in 45 days (2026-12-07T10:00:00Z)")


def test_expiry_warning_accepts_other_time_zones(dated: pki.Identity) -> None:
    # 12:00 at UTC+2 is 10:00Z: exactly 12 days before the end, shown in UTC.
    now = datetime(2026, 11, 25, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    warning = pki.certificate_expiry_warning(dated.certificate, now=now)
    assert warning == "certificate for alice.example expires in 12 days (2026-12-07T10:00:00Z)"


def test_expiry_warning_refuses_naive_now(dated: pki.Identity) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        pki.certificate_expiry_warning(dated.certificate, now=datetime(2026, 12, 1))


def test_expired_and_not_yet_valid(dated: pki.Identity) -> None:
    cert = dated.certificate
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert pki.is_not_yet_valid(cert, now=start - timedelta(seconds=1))
    assert not pki.is_not_yet_valid(cert, now=start)
    assert not pki.is_expired(cert, now=END)
    assert pki.is_expired(cert, now=END + timedelta(seconds=1))
    assert pki.validity_problem(cert, now=start + timedelta(days=100)) is None
    assert pki.validity_problem(cert, now=END + timedelta(days=1)) == (
        "certificate for alice.example expired at 2026-12-07T10:00:00Z"
    )
    assert pki.validity_problem(cert, now=start - timedelta(days=1)) == (
        "certificate for alice.example is not valid before 2026-01-01T00:00:00Z"
    )


def test_fresh_identity_is_valid_now(alice: pki.Identity) -> None:
    now = datetime.now(UTC)
    assert pki.validity_problem(alice.certificate, now=now) is None
    assert pki.certificate_expiry_warning(alice.certificate, now=now) is None


# -- node names --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alice.example", "bob.example", "a", "node-1.dev.example"])
def test_valid_node_names(name: str) -> None:
    assert pki.dns_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("Alice.example", "lowercase"),
        ("alice_1.example", "not a DNS name"),
        ("-alice.example", "not a DNS name"),
        ("alice-.example", "not a DNS name"),
        ("alice..example", "not a DNS name"),
        ("alice.example.", "not a DNS name"),
        ("*.example", "not a DNS name"),
        ("a" * 64 + ".example", "not a DNS name"),
        (".".join(["a" * 60] * 5), "longer than 253"),
        ("127.0.0.1", "IP address"),
        ("alice example", "not a DNS name"),
    ],
)
def test_invalid_node_names(name: str, reason: str) -> None:
    problem = pki.dns_name_problem(name)
    assert problem is not None
    assert reason in problem


# -- files -------------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_identity(tmp_path: Path, alice: pki.Identity) -> None:
    folder = tmp_path / "nodes" / "alice"
    pki.write_identity(folder, alice)
    assert (folder / "cert.pem").read_bytes() == alice.chain_pem
    assert (folder / "key.pem").read_bytes() == alice.key_pem
    assert _mode(folder / "key.pem") == 0o600
    loaded = pki.load_identity(folder)
    assert loaded.certificate == alice.certificate
    assert loaded.chain == alice.chain
    assert loaded.key_pem == alice.key_pem
    assert sorted(p.name for p in folder.iterdir()) == ["cert.pem", "key.pem"]


def test_write_identity_key_mode_ignores_a_loose_umask(tmp_path: Path, alice: pki.Identity) -> None:
    previous = os.umask(0)
    try:
        pki.write_identity(tmp_path, alice)
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "key.pem") == 0o600


def test_write_identity_never_overwrites_another_key(
    tmp_path: Path, alice: pki.Identity, ca: pki.Authority, spare_key: rsa.RSAPrivateKey
) -> None:
    pki.write_identity(tmp_path, alice)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    other = pki.issue_identity(ca, "alice.example", key=spare_key)
    with pytest.raises(ConfigError, match="refusing to overwrite the existing private key"):
        pki.write_identity(tmp_path, other)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before

    pki.write_identity(tmp_path, other, force=True)
    assert (tmp_path / "key.pem").read_bytes() == other.key_pem
    assert (tmp_path / "cert.pem").read_bytes() == other.chain_pem
    assert _mode(tmp_path / "key.pem") == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cert.pem", "key.pem"]


def test_write_identity_reissues_for_the_same_key(
    tmp_path: Path, alice: pki.Identity, ca: pki.Authority
) -> None:
    pki.write_identity(tmp_path, alice)
    key_bytes = (tmp_path / "key.pem").read_bytes()
    renewed = pki.issue_identity(ca, "alice.example", key=alice.key, valid_days=30)
    pki.write_identity(tmp_path, renewed)
    assert (tmp_path / "key.pem").read_bytes() == key_bytes
    assert (tmp_path / "cert.pem").read_bytes() == renewed.chain_pem


def test_write_and_load_authority(tmp_path: Path, ca: pki.Authority) -> None:
    pki.write_authority(tmp_path, ca)
    assert (tmp_path / "ca.pem").read_bytes() == ca.cert_pem
    assert _mode(tmp_path / "ca.key") == 0o600
    loaded = pki.load_authority(tmp_path)
    assert loaded.certificate == ca.certificate
    assert loaded.key_pem == ca.key_pem


def test_load_detects_a_key_of_another_certificate(
    tmp_path: Path, alice: pki.Identity, spare_key: rsa.RSAPrivateKey, ca: pki.Authority
) -> None:
    pki.write_identity(tmp_path, alice)
    other = pki.issue_identity(ca, "alice.example", key=spare_key)
    (tmp_path / "key.pem").write_bytes(other.key_pem)
    with pytest.raises(ConfigError, match="does not belong to"):
        pki.load_identity(tmp_path)


def test_load_errors_name_the_file(tmp_path: Path, alice: pki.Identity) -> None:
    with pytest.raises(ConfigError, match=r"cert\.pem not found"):
        pki.load_identity(tmp_path)
    (tmp_path / "cert.pem").write_bytes(b"not a certificate")
    with pytest.raises(ConfigError, match="no readable PEM certificate"):
        pki.load_identity(tmp_path)
    (tmp_path / "cert.pem").write_bytes(alice.cert_pem)
    with pytest.raises(ConfigError, match="no CA certificate after the leaf"):
        pki.load_identity(tmp_path)
    (tmp_path / "cert.pem").write_bytes(alice.chain_pem)
    (tmp_path / "key.pem").write_bytes(
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(ConfigError, match="no readable unencrypted PEM private key"):
        pki.load_identity(tmp_path)


def test_write_file_refuses_to_replace_unless_asked(tmp_path: Path) -> None:
    target = tmp_path / "peers.toml"
    pki.write_file(target, b"one")
    with pytest.raises(FileExistsError):
        pki.write_file(target, b"two")
    assert target.read_bytes() == b"one"
    pki.write_file(target, b"three", replace=True)
    assert target.read_bytes() == b"three"
    assert [p.name for p in tmp_path.iterdir()] == ["peers.toml"]
