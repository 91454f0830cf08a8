"""Our own TRISA identity: mTLS certificate and key, trust pool, sealing keys.

Loaded and checked once at start-up so that every mistake (unreadable file, certificate
and key that do not match, expired certificate, a CN that is not our node name, a leaf
that does not chain to the trust pool) stops the node with a message an operator can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from travelgate import envelope as env
from travelgate import pki
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate.config import Config
from travelgate.errors import ConfigError

EXPIRY_WARNING = timedelta(days=30)


@dataclass(frozen=True)
class Credentials:
    """What the server, the client and the envelope code need of our identity."""

    name: str
    certificate: x509.Certificate
    chain_pem: bytes
    key_pem: bytes
    trust_pem: bytes
    trust: tuple[x509.Certificate, ...]
    sealing_certificate: x509.Certificate
    sealing_key: rsa.RSAPrivateKey
    keyring: env.KeyRing
    signing_key: api_pb2.SigningKey
    warnings: tuple[str, ...]


def common_name(cert: x509.Certificate) -> str:
    return pki.common_name_of(cert) or ""


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"{what} {path} is not readable: {exc.strerror}") from None


def _certificates(path: Path, what: str) -> list[x509.Certificate]:
    try:
        certificates = env.load_certificates(_read(path, what))
    except env.KeyLoadError as exc:
        raise ConfigError(f"{what} {path}: {exc.message}") from None
    if not certificates:
        raise ConfigError(f"{what} {path} holds no certificate")
    return certificates


def _private_key(path: Path, what: str) -> rsa.RSAPrivateKey:
    try:
        key = env.load_private_key(_read(path, what))
    except env.KeyLoadError as exc:
        raise ConfigError(f"{what} {path}: {exc.message}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"{what} {path} is not an RSA key (TRISA seals with RSA)")
    if key.key_size < env.MIN_RSA_BITS:
        raise ConfigError(f"{what} {path} is {key.key_size} bits; at least 2048 are required")
    return key


def _check_validity(cert: x509.Certificate, what: str, now: datetime) -> str | None:
    """Refuse an unusable certificate; return the 30-day expiry warning, if any."""
    problem = pki.validity_problem(cert, now=now)
    if problem:
        raise ConfigError(f"{what}: {problem}")
    return pki.certificate_expiry_warning(cert, now=now, within=EXPIRY_WARNING)


def _chains_to(
    leaf: x509.Certificate, intermediates: list[x509.Certificate], trust: list[x509.Certificate]
) -> bool:
    """Walk issuer links from the leaf to a trusted certificate, checking each signature."""
    candidates = intermediates + trust
    current = leaf
    for _ in range(8):
        if current in trust:
            return True
        parent = next((c for c in candidates if c != current and pki.issued_by(current, c)), None)
        if parent is None:
            return False
        current = parent
    return False


def load_credentials(config: Config, *, now: datetime | None = None) -> Credentials:
    now = now or datetime.now(UTC)
    name = config.node.name
    chain = _certificates(config.tls.cert, "[tls] cert")
    leaf = chain[0]
    key = _private_key(config.tls.key, "[tls] key")
    if env.spki_der(key.public_key()) != env.spki_der(leaf.public_key()):
        raise ConfigError(
            f"[tls] key {config.tls.key} does not match the certificate {config.tls.cert}"
        )
    warnings = [w for w in [_check_validity(leaf, "[tls] certificate", now)] if w]
    if common_name(leaf) != name:
        raise ConfigError(
            f"[node] name {name!r} does not match the certificate's common name "
            f"{common_name(leaf)!r}"
        )
    if name not in pki.dns_names_of(leaf):
        raise ConfigError(f"the certificate's DNS names do not include the node name {name!r}")
    trust = _certificates(config.tls.trust, "[tls] trust")
    if not _chains_to(leaf, chain[1:], trust):
        raise ConfigError(
            f"[tls] cert {config.tls.cert} does not chain to a CA in [tls] trust {config.tls.trust}"
        )
    sealing_cert = _certificates(config.sealing.cert, "[sealing] cert")[0]
    sealing_key = _private_key(config.sealing.key, "[sealing] key")
    if env.spki_der(sealing_key.public_key()) != env.spki_der(sealing_cert.public_key()):
        raise ConfigError("[sealing] key does not match the [sealing] certificate")
    if config.sealing.cert != config.tls.cert:
        sealing_warning = _check_validity(sealing_cert, "[sealing] certificate", now)
        if sealing_warning:
            warnings.append(sealing_warning)
    keyring = env.KeyRing.of([sealing_key, key])
    # grpcio wants correctly labelled PEM; re-encode whatever armour the files used.
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    chain_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)
    trust_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in trust)
    return Credentials(
        name=name,
        certificate=leaf,
        chain_pem=chain_pem,
        key_pem=key_pem,
        trust_pem=trust_pem,
        trust=tuple(trust),
        sealing_certificate=sealing_cert,
        sealing_key=sealing_key,
        keyring=keyring,
        signing_key=env.signing_key_for(sealing_cert, sealing_key.public_key()),
        warnings=tuple(warnings),
    )
