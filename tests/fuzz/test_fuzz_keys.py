"""Fuzz key and certificate loading (PEM and DER, any label) and public key signatures.

Outside bytes reach these parsers as a peer's KeyExchange `SigningKey.data`, the `cert` of
a peers.toml entry and the key files of the CLI. Every refusal is a KeyLoadError (or
INVALID_KEY for a public key signature, ConfigError for the PKI files).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import example, given
from hypothesis import strategies as st

from support.paths import VECTORS
from travelgate import envelope as env
from travelgate import pki
from travelgate.envelope._keys import PKS_ALGORITHMS, PemBlock
from travelgate.errors import ConfigError, InvalidKeyError

from ._harness import FUZZ, mutated, only, seed_ids, seeds, time_bound

_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_EC = ec.generate_private_key(ec.SECP256R1())


def _generated() -> list[bytes]:
    public = _RSA.public_key()
    return [
        env.spki_der(public),
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        _RSA.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        _EC.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
    ]


_VECTOR_FILES = sorted(VECTORS.glob("trisa/pkg/trisa/**/*.pem"))
CORPUS = (
    [path.read_bytes() for path in _VECTOR_FILES]
    + [path.read_bytes() for path in seeds("keys")]
    + _generated()
)


def _der_bodies(files: list[bytes]) -> list[bytes]:
    """DER bodies of the readable PEM seeds: certificates and keys without armour."""
    bodies: list[bytes] = []
    for data in files:
        try:
            bodies.extend(block.der for block in env.pem_blocks(data))
        except env.KeyLoadError:
            continue
    return bodies


CORPUS += _der_bodies(CORPUS)[:20]

KEY_BYTES = mutated(CORPUS) | st.binary(max_size=300)


def _every_loader(data: bytes) -> None:
    with only(env.KeyLoadError):
        env.pem_blocks(data)
    with only(env.KeyLoadError):
        env.load_private_key(data)
    with only(env.KeyLoadError):
        for certificate in env.load_certificates(data):
            certificate.public_key()
    with only(env.KeyLoadError):
        env.public_key_signature(env.load_public_key(data))
    with only(env.KeyLoadError):
        key = env.parse_exchanged_key(data)
        env.public_key_signature(key)
        env.require_sealing_key(key)
    with only(InvalidKeyError):
        env.parse_public_key_signature(data.decode("utf-8", "surrogateescape"))


@FUZZ
@given(KEY_BYTES)
@example(b"-----BEGIN A-----\n" * 3000)
@example(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----")
def test_key_loaders_refuse_only_with_key_load_error(data: bytes) -> None:
    _every_loader(data)


@pytest.mark.parametrize("path", seeds("keys"), ids=seed_ids(seeds("keys")))
def test_key_corpus(path: Path) -> None:
    _every_loader(path.read_bytes())


@FUZZ
@given(KEY_BYTES, st.sampled_from(["ca.pem", "ca.key"]))
def test_pki_files_refuse_only_with_config_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, name: str
) -> None:
    path = tmp_path_factory.mktemp("pki") / name
    path.write_bytes(data)
    with only(ConfigError):
        pki.read_certificates(path)
    with only(ConfigError):
        pki.read_private_key(path)


SIGNATURE_TEXT = st.text(max_size=80) | st.builds(
    lambda alg, digest, pad: f"{alg}:{base64.b64encode(digest).decode()[: None if pad else -1]}",
    st.sampled_from(["SHA256", "sha512", "MD5", "SHA1", " SHA256 "]),
    st.binary(min_size=0, max_size=70),
    st.booleans(),
)


@FUZZ
@given(SIGNATURE_TEXT)
@example("SHA256:\ud800")
@example("SHA256:\u00e9AAAA")
def test_public_key_signatures_refuse_only_with_invalid_key(text: str) -> None:
    with only(InvalidKeyError):
        algorithm, digest = env.parse_public_key_signature(text)
        assert len(digest) == PKS_ALGORITHMS[algorithm]().digest_size


@FUZZ
@given(st.sampled_from(sorted(PKS_ALGORITHMS)))
def test_public_key_signatures_round_trip(algorithm: str) -> None:
    with time_bound():
        text = env.public_key_signature(_RSA, algorithm)
        expected = PKS_ALGORITHMS[algorithm](env.spki_der(_RSA.public_key())).digest()
        assert env.parse_public_key_signature(text) == (algorithm, expected)
        assert env.KeyRing.of([_RSA]).find(text) is _RSA


@FUZZ
@given(st.binary(max_size=600), st.sampled_from(["CERTIFICATE", "PUBLIC KEY", "RSA PRIVATE KEY"]))
def test_pem_armour_round_trips(der: bytes, label: str) -> None:
    body = base64.encodebytes(der).decode()
    text = f"-----BEGIN {label}-----\n{body}-----END {label}-----\n".encode()
    with time_bound():
        assert env.pem_blocks(text) == [PemBlock(label, der)]


def test_many_unterminated_pem_blocks_are_read_in_linear_time() -> None:
    # 5,000 BEGIN lines without an END took 12 s with a lazy BEGIN...END pattern.
    with time_bound(2.0):
        assert env.pem_blocks(b"-----BEGIN A-----\n" * 5_000) == []


def test_non_ascii_public_key_signature_is_invalid_key() -> None:
    # base64 of a str with non-ASCII text raised ValueError inside KeyRing.find, which the
    # TRISA server answered with an internal error instead of INVALID_KEY.
    with pytest.raises(InvalidKeyError):
        env.KeyRing.of([_RSA]).find("SHA256:" + "\u00e9" * 43)


def test_spki_der_loads_back_to_the_same_key() -> None:
    der = env.spki_der(_RSA.public_key())
    assert env.spki_der(env.load_public_key(der)) == der
    assert (
        hashlib.sha256(der).digest()
        == env.parse_public_key_signature(env.public_key_signature(_RSA))[1]
    )


def test_certificate_with_a_damaged_key_is_a_key_load_error() -> None:
    # The certificate parsed and its key failed later with ValueError, inside KeyExchange.
    der = (Path(__file__).parent / "corpus" / "keys" / "certificate-damaged-key.der").read_bytes()
    for loader in (env.load_public_key, env.parse_exchanged_key, env.load_certificates):
        with pytest.raises(env.KeyLoadError):
            loader(der)
