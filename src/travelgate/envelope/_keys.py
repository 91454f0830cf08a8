"""Keys and certificates: armour-agnostic loading, public key signatures, key rings.

PEM labels in the wild do not describe the DER inside (TRISA key formats, as in the
reference test vectors): `RSA PRIVATE KEY` may hold PKCS#8 and `RSA PUBLIC KEY` may hold
SPKI. So PEM blocks are split by hand and their bodies loaded as DER, which tries every
encoding.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import cast

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import (
    dsa,
    ec,
    ed448,
    ed25519,
    rsa,
    x448,
    x25519,
)
from cryptography.hazmat.primitives.asymmetric.types import (
    PrivateKeyTypes,
    PublicKeyTypes,
)

from travelgate.errors import (
    InvalidKeyError,
    KeyLoadError,
)

MIN_RSA_BITS = 2048
PKS_ALGORITHMS = {"SHA256": hashlib.sha256, "SHA512": hashlib.sha512, "MD5": hashlib.md5}

_PRIVATE_TYPES = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
    dsa.DSAPrivateKey,
    x25519.X25519PrivateKey,
    x448.X448PrivateKey,
)

# One linear scan for boundary lines; a lazy BEGIN...END pattern rescans the rest of the input
# from every unmatched BEGIN, which made a few thousand of them cost minutes.
_PEM_BOUNDARY = re.compile(rb"-----(BEGIN|END) ([A-Z0-9 ]{1,64})-----")


@dataclass(frozen=True)
class PemBlock:
    label: str
    der: bytes


def pem_blocks(data: bytes) -> list[PemBlock]:
    """Split PEM text into (label, DER body) blocks; headers such as Proc-Type are refused."""
    blocks = []
    label: bytes | None = None
    start = 0
    for match in _PEM_BOUNDARY.finditer(data):
        if match.group(1) == b"BEGIN":
            # A BEGIN before the END of the open block starts over, as it would in a
            # file where the open block was cut off.
            label, start = match.group(2), match.end()
            continue
        if match.group(2) != label:
            continue
        name = match.group(2).decode("ascii")
        body = data[start : match.start()]
        label = None
        if b":" in body:
            raise KeyLoadError(f"PEM block {name} is encrypted or has headers")
        try:
            der = base64.b64decode(b"".join(body.split()), validate=True)
        except binascii.Error:
            raise KeyLoadError(f"PEM block {name} is not valid base64") from None
        blocks.append(PemBlock(name, der))
    return blocks


def _private_from_der(der: bytes) -> PrivateKeyTypes:
    try:
        return serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # The parser's own text is an ASN.1 dump that helps nobody reading a CLI error.
        raise KeyLoadError(
            "not a readable private key (malformed, encrypted or of an unsupported type)"
        ) from None


def _public_from_der(der: bytes) -> PublicKeyTypes:
    try:
        return serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyLoadError(
            "not a readable public key (malformed or of an unsupported type)"
        ) from None


def _certificate_from_der(der: bytes) -> x509.Certificate:
    try:
        certificate = x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion):
        raise KeyLoadError("not a readable X.509 certificate (malformed DER)") from None
    # The key inside is parsed lazily; a damaged one would fail later, far from the input.
    try:
        certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise KeyLoadError("the certificate holds no readable public key") from None
    return certificate


def load_private_key(data: bytes) -> PrivateKeyTypes:
    """Load the first private key of a PEM file (any label) or of raw DER."""
    blocks = pem_blocks(data)
    if not blocks:
        return _private_from_der(data)
    for block in blocks:
        if block.label.endswith("PRIVATE KEY"):
            return _private_from_der(block.der)
    raise KeyLoadError("no PRIVATE KEY block found")


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle (leaf first) or a single DER certificate."""
    blocks = pem_blocks(data)
    if not blocks:
        try:
            return [_certificate_from_der(data)]
        except KeyLoadError:
            raise KeyLoadError("neither PEM (no -----BEGIN line) nor a DER certificate") from None
    return [_certificate_from_der(b.der) for b in blocks if b.label == "CERTIFICATE"]


def load_public_key(data: bytes) -> PublicKeyTypes:
    """The public key of a file holding a certificate, a public key or a private key.

    A certificate wins (it is the identity the file is about), then a public key, then the
    public half of a private key; DER input is tried as SPKI/PKCS#1, then as a certificate.
    """
    blocks = pem_blocks(data)
    if not blocks:
        try:
            return _public_from_der(data)
        except KeyLoadError:
            pass
        try:
            return _certificate_from_der(data).public_key()
        except KeyLoadError:
            raise KeyLoadError(
                "neither PEM (no -----BEGIN line) nor a DER certificate or key"
            ) from None
    for block in blocks:
        if block.label == "CERTIFICATE":
            return _certificate_from_der(block.der).public_key()
    for block in blocks:
        if block.label.endswith("PUBLIC KEY"):
            return _public_from_der(block.der)
    for block in blocks:
        if block.label.endswith("PRIVATE KEY"):
            return _private_from_der(block.der).public_key()
    raise KeyLoadError("no certificate or key found")


def parse_exchanged_key(data: bytes) -> PublicKeyTypes:
    """Parse `SigningKey.data` from a KeyExchange (TRISA KeyExchange), in the reference's order.

    DER SPKI first; then PEM (CERTIFICATE, PUBLIC KEY, RSA PUBLIC KEY), refusing a mix of
    certificates and keys or several keys; then a DER certificate.
    """
    if not data:
        raise KeyLoadError("key data is empty")
    try:
        return serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        pass
    blocks = pem_blocks(data)
    if blocks:
        certs = [b for b in blocks if b.label == "CERTIFICATE"]
        keys = [b for b in blocks if b.label in ("PUBLIC KEY", "RSA PUBLIC KEY")]
        if len(certs) + len(keys) != len(blocks):
            raise KeyLoadError("PEM holds blocks other than certificates and public keys")
        if certs and keys:
            raise KeyLoadError("PEM mixes certificates and keys")
        if len(keys) > 1:
            raise KeyLoadError("PEM holds several keys")
        if certs:
            return _certificate_from_der(certs[0].der).public_key()
        return _public_from_der(keys[0].der)
    return _certificate_from_der(data).public_key()


def require_sealing_key(key: PublicKeyTypes) -> rsa.RSAPublicKey:
    """Only RSA keys of at least 2048 bits can seal (TRISA RSA-OAEP sealing)."""
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyLoadError("only RSA keys can seal envelopes")
    if key.key_size < MIN_RSA_BITS:
        raise KeyLoadError(
            f"RSA key of {key.key_size} bits is below the {MIN_RSA_BITS}-bit minimum"
        )
    return key


def spki_der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_signature(key: PublicKeyTypes | PrivateKeyTypes, algorithm: str = "SHA256") -> str:
    """`ALG:` + unpadded standard base64 of the hash of the key's DER SPKI (TRISA PKS)."""
    public = cast(PublicKeyTypes, key.public_key() if isinstance(key, _PRIVATE_TYPES) else key)
    digest = PKS_ALGORITHMS[algorithm.upper()](spki_der(public)).digest()
    return f"{algorithm.upper()}:{base64.b64encode(digest).decode('ascii').rstrip('=')}"


def parse_public_key_signature(pks: str) -> tuple[str, bytes]:
    """Split a PKS into (algorithm, digest) the way the reference does, or raise INVALID_KEY."""
    parts = pks.split(":")
    if len(parts) != 2 or not pks.isascii():
        raise InvalidKeyError("public key signature is not ALG:base64", retry=True)
    algorithm = parts[0].strip().upper()
    if algorithm not in PKS_ALGORITHMS:
        raise InvalidKeyError("public key signature uses an unknown hash", retry=True)
    text = parts[1].strip()
    try:
        digest = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise InvalidKeyError("public key signature is not valid base64", retry=True) from None
    if len(digest) != PKS_ALGORITHMS[algorithm]().digest_size:
        raise InvalidKeyError("public key signature has the wrong digest length", retry=True)
    return algorithm, digest


@dataclass
class KeyRing:
    """Our private sealing keys, found by the PKS a sender sealed to (TRISA PKS, KeyExchange).

    Keeps every key the node has advertised so envelopes sealed before a rotation open.
    """

    _by_digest: dict[tuple[str, bytes], rsa.RSAPrivateKey] = field(default_factory=dict)
    _keys: list[rsa.RSAPrivateKey] = field(default_factory=list)

    @classmethod
    def of(cls, keys: Iterable[PrivateKeyTypes]) -> KeyRing:
        ring = cls()
        for key in keys:
            ring.add(key)
        return ring

    def add(self, key: PrivateKeyTypes) -> None:
        if not isinstance(key, rsa.RSAPrivateKey):
            raise KeyLoadError("sealing keys must be RSA private keys")
        spki = spki_der(key.public_key())
        if ("SHA256", hashlib.sha256(spki).digest()) in self._by_digest:
            return
        for name, hasher in PKS_ALGORITHMS.items():
            self._by_digest[(name, hasher(spki).digest())] = key
        self._keys.append(key)

    def __iter__(self) -> Iterator[rsa.RSAPrivateKey]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def find(self, pks: str) -> rsa.RSAPrivateKey:
        """The private key whose public half the PKS names; INVALID_KEY (retry) otherwise."""
        algorithm, digest = parse_public_key_signature(pks)
        key = self._by_digest.get((algorithm, digest))
        if key is None:
            raise InvalidKeyError("unknown public key signature", retry=True)
        return key
