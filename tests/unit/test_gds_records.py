"""Directory records (trisa.md 5.3, 10): what a Lookup reply says, and when it is usable.

The vendored `lookup.json` is a real reply: PEM text in `Certificate.data` (documented as
DER) and a gzip PEM bundle in `Certificate.chain`.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf import json_format

from support.gds import DirectoryEntry
from support.paths import KEY_VECTORS
from travelgate import pki
from travelgate._pb.trisa.gds.api.v1beta1 import api_pb2 as gds_pb2
from travelgate.trisa import (
    DirectoryRecordError,
    format_pin,
    record_from_reply,
    spki_digest,
)
from travelgate.trisa._gds import MAX_CHAIN_BYTES

NAME = "bob.example"


@pytest.fixture(scope="module")
def authority() -> pki.Authority:
    return pki.make_authority("gds test CA", key_size=2048)


@pytest.fixture(scope="module")
def bob(authority: pki.Authority) -> pki.Identity:
    return pki.issue_identity(authority, NAME, key_size=2048)


def _vector() -> gds_pb2.LookupReply:
    reply = gds_pb2.LookupReply()
    text = (KEY_VECTORS / "lookup.json").read_text()
    json_format.Parse(text, reply, ignore_unknown_fields=True)
    return reply


def test_the_real_reply_parses_pem_data_and_the_gzip_chain() -> None:
    record = record_from_reply(_vector())
    leaf = record.identity_certificate
    assert leaf is not None
    assert pki.common_name_of(leaf) == "api.alice.vaspbot.net"
    assert pki.common_name_of(record.identity_chain[1]) == "CipherTrace Issuing CA"
    assert record.signing_certificate is None
    source, sealing = record.sealing_certificate() or ("", None)
    assert source == "identity_certificate"
    assert sealing == leaf
    while_valid = datetime(2022, 6, 1, tzinfo=UTC)
    assert record.problem("api.alice.vaspbot.net", while_valid) is None
    assert "expired" in (record.problem("api.alice.vaspbot.net") or "")
    peer = record.peer("api.alice.vaspbot.net")
    assert peer.endpoint == "api.alice.vaspbot.net:443"
    assert peer.pins == {spki_digest(leaf.public_key())}
    assert peer.source == "directory"


def test_der_data_and_a_signing_certificate(authority: pki.Authority, bob: pki.Identity) -> None:
    sealing = pki.issue_identity(authority, "seal.bob.example", key_size=2048)
    entry = DirectoryEntry(bob, "127.0.0.1:443", "Bob", signing=sealing, der=True)
    record = record_from_reply(entry.reply())
    assert record.problem(NAME) is None
    peer = record.peer(NAME)
    # TLS pinned on the identity certificate; envelopes sealed to the signing one.
    assert peer.pins == {spki_digest(bob.certificate.public_key())}
    assert peer.pinned_key is not None
    assert spki_digest(peer.pinned_key) == spki_digest(sealing.certificate.public_key())
    shown = record.as_json(NAME)
    assert shown["pin"] == format_pin(spki_digest(bob.certificate.public_key()))
    assert shown["sealing_key"]["from"] == "signing_certificate"


def test_unusable_records_say_why(authority: pki.Authority, bob: pki.Identity) -> None:
    def problem(entry: DirectoryEntry, name: str = NAME) -> str:
        return record_from_reply(entry.reply()).problem(name) or ""

    assert "revoked" in problem(DirectoryEntry(bob, "127.0.0.1:443", "Bob", revoked=True))
    assert "endpoint" in problem(DirectoryEntry(bob, "no-port", "Bob"))
    assert "not 'carol.example'" in problem(DirectoryEntry(bob, "h:1", "Bob"), "carol.example")
    old = pki.issue_identity(
        authority,
        NAME,
        key_size=2048,
        not_after=datetime.now(UTC) - timedelta(days=1),
    )
    assert "expired" in problem(DirectoryEntry(old, "127.0.0.1:443", "Bob"))


def test_unreadable_certificates_are_record_errors(bob: pki.Identity) -> None:
    reply = DirectoryEntry(bob, "127.0.0.1:443", "Bob").reply()
    reply.identity_certificate.data = b"not a certificate"
    with pytest.raises(DirectoryRecordError, match="identity certificate is unreadable"):
        record_from_reply(reply)
    reply = DirectoryEntry(bob, "127.0.0.1:443", "Bob").reply()
    reply.identity_certificate.chain = b"not gzip"
    with pytest.raises(DirectoryRecordError, match="chain is unreadable: not gzip"):
        record_from_reply(reply)
    reply.identity_certificate.chain = gzip.compress(b"\n" * (MAX_CHAIN_BYTES + 10))
    with pytest.raises(DirectoryRecordError, match="once unzipped"):
        record_from_reply(reply)


def test_a_reply_without_certificates_is_not_usable() -> None:
    reply = gds_pb2.LookupReply(common_name=NAME, endpoint="127.0.0.1:443")
    record = record_from_reply(reply)
    assert record.problem(NAME) == "the record carries no identity certificate"
    assert record.as_json(NAME)["identity_certificate"] is None
