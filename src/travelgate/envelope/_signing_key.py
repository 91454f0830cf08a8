"""`SigningKey` messages for KeyExchange: built from our certificate, read from a peer's."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import SignatureAlgorithmOID

from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate.envelope._formats import format_timestamp_seconds
from travelgate.envelope._keys import parse_exchanged_key, require_sealing_key, spki_der

# Go's x509.SignatureAlgorithm names, which peers print in SigningKey (TRISA algorithm names).
_GO_SIGNATURE_NAMES = {
    SignatureAlgorithmOID.RSA_WITH_MD5: "MD5-RSA",
    SignatureAlgorithmOID.RSA_WITH_SHA1: "SHA1-RSA",
    SignatureAlgorithmOID.RSA_WITH_SHA256: "SHA256-RSA",
    SignatureAlgorithmOID.RSA_WITH_SHA384: "SHA384-RSA",
    SignatureAlgorithmOID.RSA_WITH_SHA512: "SHA512-RSA",
    SignatureAlgorithmOID.ECDSA_WITH_SHA1: "ECDSA-SHA1",
    SignatureAlgorithmOID.ECDSA_WITH_SHA256: "ECDSA-SHA256",
    SignatureAlgorithmOID.ECDSA_WITH_SHA384: "ECDSA-SHA384",
    SignatureAlgorithmOID.ECDSA_WITH_SHA512: "ECDSA-SHA512",
    SignatureAlgorithmOID.ED25519: "Ed25519",
}


def go_signature_algorithm(cert: x509.Certificate) -> str:
    oid = cert.signature_algorithm_oid
    if oid == SignatureAlgorithmOID.RSASSA_PSS:
        hash_algorithm = cert.signature_hash_algorithm
        name = hash_algorithm.name.upper().replace("-", "") if hash_algorithm else "UNKNOWN"
        return f"{name}-RSAPSS"
    return _GO_SIGNATURE_NAMES.get(oid, "UnknownSignatureAlgorithm")


def public_key_algorithm(key: PublicKeyTypes) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ECDSA"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    return "UnknownPublicKeyAlgorithm"


def signing_key_for(
    cert: x509.Certificate, sealing_key: PublicKeyTypes | None = None
) -> api_pb2.SigningKey:
    """Describe our sealing key (default: the certificate's key) as KeyExchange sends it."""
    key = cert.public_key() if sealing_key is None else sealing_key
    return api_pb2.SigningKey(
        version=cert.version.value + 1,
        signature=cert.signature,
        signature_algorithm=go_signature_algorithm(cert),
        public_key_algorithm=public_key_algorithm(key),
        not_before=format_timestamp_seconds(cert.not_valid_before_utc),
        not_after=format_timestamp_seconds(cert.not_valid_after_utc),
        revoked=False,
        data=spki_der(key),
    )


def sealing_key_from(signing_key: api_pb2.SigningKey) -> rsa.RSAPublicKey:
    """The RSA sealing key a peer advertised; KeyLoadError when unusable (TRISA KeyExchange)."""
    return require_sealing_key(parse_exchanged_key(signing_key.data))
