"""Development PKI: certificate authorities and TRISA node identities made in process.

`travelgate certs init` builds the demo PKI with this module, and the test suites use it
to mint real mTLS certificates per session (including deliberately odd ones: expired,
not yet valid, a common name missing from the SANs, server-only usage, weak keys).
Everything here is pure and synchronous; the only I/O is in `write_*`, `read_*` and
`load_*`.

A TRISA peer is identified by the common name of its leaf certificate, which must also be
one of its DNS SANs (TRISA peer identity), and the same certificate serves both as gRPC server
and client identity, so leaves carry both serverAuth and clientAuth.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from travelgate.errors import ConfigError
from travelgate.timestamps import format_timestamp_seconds

__all__ = [
    "CA_CERT_FILE",
    "CA_KEY_FILE",
    "CERT_FILE",
    "DEFAULT_AUTHORITY_DAYS",
    "DEFAULT_IDENTITY_DAYS",
    "DEFAULT_KEY_SIZE",
    "KEY_FILE",
    "Authority",
    "Identity",
    "certificate_expiry_warning",
    "common_name_of",
    "dns_name_problem",
    "dns_names_of",
    "format_utc",
    "is_expired",
    "is_not_yet_valid",
    "issue_identity",
    "issued_by",
    "key_matches_certificate",
    "load_authority",
    "load_identity",
    "make_authority",
    "read_certificates",
    "read_private_key",
    "validity_problem",
    "write_authority",
    "write_file",
    "write_identity",
]

DEFAULT_KEY_SIZE = 4096
DEFAULT_AUTHORITY_DAYS = 3650
DEFAULT_IDENTITY_DAYS = 365

CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca.key"
CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"

# A certificate made "now" would be rejected by a peer whose clock is a little behind.
_BACKDATE = timedelta(minutes=5)
_PUBLIC_EXPONENT = 65537


@dataclass(frozen=True)
class Authority:
    """A certificate authority: its key, its certificate and the certificates above it.

    `chain` holds the issuers of `certificate`, nearest first; it is empty for a root.
    """

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def common_name(self) -> str | None:
        return common_name_of(self.certificate)

    @property
    def cert_pem(self) -> bytes:
        """This authority's certificate alone."""
        return _pem(self.certificate)

    @property
    def chain_pem(self) -> bytes:
        """This authority's certificate followed by its issuers."""
        return b"".join(_pem(cert) for cert in (self.certificate, *self.chain))

    @property
    def ca_pem(self) -> bytes:
        """The root at the top of the chain: what peers put in their trust bundle."""
        return _pem(self.chain[-1] if self.chain else self.certificate)

    @property
    def key_pem(self) -> bytes:
        return _key_pem(self.key)


@dataclass(frozen=True)
class Identity:
    """A node's leaf certificate, its private key and the issuing chain (nearest first)."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    def __post_init__(self) -> None:
        if not self.chain:
            raise ValueError("an Identity needs at least its issuing CA certificate")

    @property
    def common_name(self) -> str | None:
        return common_name_of(self.certificate)

    @property
    def dns_names(self) -> list[str]:
        return dns_names_of(self.certificate)

    @property
    def cert_pem(self) -> bytes:
        """The leaf certificate alone."""
        return _pem(self.certificate)

    @property
    def chain_pem(self) -> bytes:
        """Leaf then issuers: what a TLS server or client presents."""
        return b"".join(_pem(cert) for cert in (self.certificate, *self.chain))

    @property
    def ca_pem(self) -> bytes:
        """The root CA of the chain: the trust bundle for peers of the same PKI."""
        return _pem(self.chain[-1])

    @property
    def key_pem(self) -> bytes:
        """PKCS#8 `PRIVATE KEY`, unencrypted: the form grpcio reads without surprises."""
        return _key_pem(self.key)


# -- making certificates -------------------------------------------------------------------


def make_authority(
    common_name: str,
    *,
    key_size: int = DEFAULT_KEY_SIZE,
    valid_days: int = DEFAULT_AUTHORITY_DAYS,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key: rsa.RSAPrivateKey | None = None,
    issuer: Authority | None = None,
) -> Authority:
    """A self-signed root CA, or an intermediate CA when `issuer` is given.

    `key` reuses an existing key instead of generating one (generation dominates the cost
    of a test fixture).
    """
    key = key if key is not None else _new_key(key_size)
    start, end = _validity(not_before, not_after, valid_days)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    public_key = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            # A root may sign intermediates; an intermediate signs only leaves.
            x509.BasicConstraints(ca=True, path_length=None if issuer is None else 0),
            critical=True,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is None:
        certificate = builder.issuer_name(subject).sign(key, hashes.SHA256())
        return Authority(key=key, certificate=certificate)
    builder = builder.issuer_name(issuer.certificate.subject).add_extension(
        _authority_key_identifier(issuer), critical=False
    )
    certificate = builder.sign(issuer.key, hashes.SHA256())
    return Authority(key=key, certificate=certificate, chain=(issuer.certificate, *issuer.chain))


def issue_identity(
    ca: Authority,
    common_name: str,
    *,
    key_size: int = DEFAULT_KEY_SIZE,
    valid_days: int = DEFAULT_IDENTITY_DAYS,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    dns_names: Sequence[str] | None = None,
    ip_addresses: Sequence[str] = (),
    client_and_server: bool = True,
    key: rsa.RSAPrivateKey | None = None,
    subject: x509.Name | None = None,
) -> Identity:
    """A TRISA node's leaf certificate signed by `ca`.

    By default CN = DNS SAN = `common_name`, usable as gRPC server and client identity.
    Tests bend it: `dns_names` replaces the SAN list (an empty list omits the extension, a
    list without the CN breaks the peer-identity rule), `client_and_server=False` leaves
    only serverAuth, `subject` replaces the whole subject (e.g. one without a CN), and
    `not_before`/`not_after` make expired or future certificates (`valid_days` fills in
    whichever of the two is missing).
    """
    key = key if key is not None else _new_key(key_size)
    start, end = _validity(not_before, not_after, valid_days)
    if subject is None:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    names = [common_name] if dns_names is None else list(dns_names)
    usages = [ExtendedKeyUsageOID.SERVER_AUTH]
    if client_and_server:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    public_key = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                # RSA key transport (TLS 1.2 RSA suites) and envelope sealing use it.
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_authority_key_identifier(ca), critical=False)
    )
    general_names: list[x509.GeneralName] = [x509.DNSName(name) for name in names]
    general_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    if general_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(general_names), critical=False)
    certificate = builder.sign(ca.key, hashes.SHA256())
    return Identity(key=key, certificate=certificate, chain=(ca.certificate, *ca.chain))


def _new_key(key_size: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=_PUBLIC_EXPONENT, key_size=key_size)


def _validity(
    not_before: datetime | None, not_after: datetime | None, valid_days: int
) -> tuple[datetime, datetime]:
    """The validity window; `valid_days` fills in whichever end was not given.

    With neither end given the window starts now (backdated a little); with only
    `not_after` it ends there, so `not_after=yesterday` alone makes an expired certificate.
    """
    span = timedelta(days=valid_days)
    if not_before is not None:
        start = _aware(not_before, "not_before")
        end = _aware(not_after, "not_after") if not_after is not None else start + span
    elif not_after is not None:
        end = _aware(not_after, "not_after")
        start = end - span
    else:
        start = datetime.now(UTC) - _BACKDATE
        end = start + span
    if end <= start:
        raise ValueError(f"certificate would end ({end}) before it starts ({start})")
    return start, end


def _aware(moment: datetime, what: str) -> datetime:
    # A naive datetime would be read as local time by some and UTC by others.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment.astimezone(UTC)


def _authority_key_identifier(ca: Authority) -> x509.AuthorityKeyIdentifier:
    try:
        ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value)


# -- reading certificates --------------------------------------------------------------------


def common_name_of(cert: x509.Certificate) -> str | None:
    """The subject's first common name, or None when it has none."""
    values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("ascii", "replace")


def dns_names_of(cert: x509.Certificate) -> list[str]:
    """The DNS names of the subjectAltName extension (empty when there is none)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return san.value.get_values_for_type(x509.DNSName)


def key_matches_certificate(key: rsa.RSAPrivateKey, cert: x509.Certificate) -> bool:
    """Whether `key` is the private half of the certificate's public key."""
    public = cert.public_key()
    return isinstance(public, rsa.RSAPublicKey) and (
        public.public_numbers() == key.public_key().public_numbers()
    )


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer` directly signed `cert` (issuer name and signature both match)."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


# RFC 3339 UTC to the second with a `Z`, as logs and messages show times.
format_utc = format_timestamp_seconds


def is_expired(cert: x509.Certificate, *, now: datetime) -> bool:
    """True once `now` is past notAfter (notAfter itself is still valid, RFC 5280)."""
    return _aware(now, "now") > cert.not_valid_after_utc


def is_not_yet_valid(cert: x509.Certificate, *, now: datetime) -> bool:
    return _aware(now, "now") < cert.not_valid_before_utc


def validity_problem(cert: x509.Certificate, *, now: datetime) -> str | None:
    """A sentence saying why `cert` cannot be used at `now`, or None when it can."""
    name = _display_name(cert)
    if is_expired(cert, now=now):
        return f"certificate for {name} expired at {format_utc(cert.not_valid_after_utc)}"
    if is_not_yet_valid(cert, now=now):
        return f"certificate for {name} is not valid before {format_utc(cert.not_valid_before_utc)}"
    return None


def certificate_expiry_warning(
    cert: x509.Certificate, *, now: datetime, within: timedelta = timedelta(days=30)
) -> str | None:
    """A warning when `cert` expires within `within` of `now` (or already has), else None.

    e.g. "certificate for alice.example expires in 12 days (2026-12-07T10:00:00Z)".
    """
    now = _aware(now, "now")
    end = cert.not_valid_after_utc
    left = end - now
    if left > within:
        return None
    name = _display_name(cert)
    when = format_utc(end)
    if left < timedelta(0):
        return f"certificate for {name} expired {_span(-left)} ago ({when})"
    return f"certificate for {name} expires in {_span(left)} ({when})"


def _span(delta: timedelta) -> str:
    if delta.days >= 1:
        return _plural(delta.days, "day")
    hours = delta.seconds // 3600
    if hours >= 1:
        return _plural(hours, "hour")
    return "less than an hour"


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _display_name(cert: x509.Certificate) -> str:
    return common_name_of(cert) or cert.subject.rfc4514_string() or "(empty subject)"


# -- names ------------------------------------------------------------------------------------

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def dns_name_problem(name: str) -> str | None:
    """Why `name` is not usable as a node name (a lowercase DNS host name), or None.

    Lowercase only because the peer id is compared byte for byte with the certificate CN;
    an all-numeric last label is refused so that an IP address is never taken for a name.
    """
    if not name:
        return "a node name cannot be empty"
    if len(name) > 253:
        return f"node name {name!r} is longer than 253 characters"
    labels = name.lower().split(".")
    for label in labels:
        if not _LABEL.fullmatch(label):
            return (
                f"node name {name!r} is not a DNS name: each dot-separated label must be "
                "1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'"
            )
    if name != name.lower():
        return f"node name {name!r} must be lowercase"
    if labels[-1].isdigit():
        return f"node name {name!r} looks like an IP address; use a DNS name"
    return None


# -- files --------------------------------------------------------------------------------------


def write_authority(directory: Path | str, authority: Authority, *, force: bool = False) -> None:
    """Write `ca.pem` (certificate and chain) and `ca.key` (0600) into `directory`.

    An existing `ca.key` holding another key is never replaced unless `force` (ConfigError,
    nothing written): a new CA key would orphan every certificate the old one issued.
    """
    folder = Path(directory)
    _write_pair(folder / CA_CERT_FILE, authority.chain_pem, folder / CA_KEY_FILE, authority, force)


def write_identity(directory: Path | str, identity: Identity, *, force: bool = False) -> None:
    """Write `cert.pem` (leaf + chain) and `key.pem` (PKCS#8, 0600) into `directory`.

    The directory is created if needed. An existing `key.pem` is left byte for byte as it
    is when it holds the identity's own key (only `cert.pem` is written: this is how a
    certificate is re-issued for a kept key), and is never replaced by another key unless
    `force` (ConfigError, nothing written).
    """
    folder = Path(directory)
    _write_pair(folder / CERT_FILE, identity.chain_pem, folder / KEY_FILE, identity, force)


def load_authority(directory: Path | str) -> Authority:
    """Read back what `write_authority` wrote; ConfigError names the file at fault."""
    folder = Path(directory)
    certs = read_certificates(folder / CA_CERT_FILE)
    key = read_private_key(folder / CA_KEY_FILE)
    if not key_matches_certificate(key, certs[0]):
        raise ConfigError(f"{folder / CA_KEY_FILE} does not belong to {folder / CA_CERT_FILE}")
    return Authority(key=key, certificate=certs[0], chain=tuple(certs[1:]))


def load_identity(directory: Path | str) -> Identity:
    """Read back what `write_identity` wrote; ConfigError names the file at fault."""
    folder = Path(directory)
    certs = read_certificates(folder / CERT_FILE)
    if len(certs) < 2:
        raise ConfigError(f"{folder / CERT_FILE} holds no CA certificate after the leaf")
    key = read_private_key(folder / KEY_FILE)
    if not key_matches_certificate(key, certs[0]):
        raise ConfigError(f"{folder / KEY_FILE} does not belong to {folder / CERT_FILE}")
    return Identity(key=key, certificate=certs[0], chain=tuple(certs[1:]))


def read_certificates(path: Path | str) -> list[x509.Certificate]:
    """All PEM certificates of a file, leaf first; ConfigError when there are none."""
    data = _read_bytes(Path(path))
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        raise ConfigError(f"{path} holds no readable PEM certificate") from None


def read_private_key(path: Path | str) -> rsa.RSAPrivateKey:
    """An unencrypted PEM RSA private key (PKCS#8 or PKCS#1); ConfigError otherwise."""
    data = _read_bytes(Path(path))
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigError(f"{path} holds no readable unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"{path} holds a {type(key).__name__}, not an RSA private key")
    return key


def write_file(path: Path | str, data: bytes, *, mode: int = 0o644, replace: bool = False) -> None:
    """Write `path` atomically with permissions `mode`: readers see no half-written file.

    Without `replace`, an existing `path` raises FileExistsError and is left alone, even
    when another process creates it at the same moment. Other OSErrors pass through.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            # The umask may have removed bits of `mode`; it never adds any.
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(tmp, target)
        else:
            # link() refuses an existing name, so nothing is ever overwritten here.
            os.link(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _write_pair(
    cert_path: Path, cert_pem: bytes, key_path: Path, owner: Authority | Identity, force: bool
) -> None:
    keep_key = False
    if key_path.exists() and not force:
        existing = read_private_key(key_path)
        if existing.public_key().public_numbers() != owner.key.public_key().public_numbers():
            raise ConfigError(f"refusing to overwrite the existing private key {key_path}")
        keep_key = True
    try:
        cert_path.parent.mkdir(parents=True, exist_ok=True)
        # Key first: a crash in between leaves a key without a certificate, which
        # `certs init` completes, rather than a certificate nobody holds the key of.
        if not keep_key:
            write_file(key_path, owner.key_pem, mode=0o600, replace=force)
        write_file(cert_path, cert_pem, mode=0o644, replace=True)
    except FileExistsError:
        raise ConfigError(f"refusing to overwrite the existing private key {key_path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {exc.filename or cert_path}: {exc.strerror}") from None


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path} not found") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
