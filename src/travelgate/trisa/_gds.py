"""The TRISA Global Directory Service (GDS) as a source of counterparties.

A name that peers.toml does not list is asked of the directory with
`trisa.gds.api.v1beta1.TRISADirectory/Lookup` by common name. A usable answer becomes a
`Peer` exactly like a listed one: its endpoint, a TLS pin on the SPKI of its identity
certificate, and a sealing key from its signing certificate (else its identity
certificate). Answers are cached for `[directory] gds_ttl`; "not found" for a shorter time
so that a hostile caller cannot make us hammer the directory with made-up names; a
directory that is down or slow (every call has a deadline) is remembered for a few seconds
and reported as such, never as "not found". One lookup per name is in flight at a time and
the cache is bounded.

The directory is reached over mTLS with our own TRISA certificate and, unless
`[directory] gds_trust` names another bundle, our trust pool.
"""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
import structlog
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from google.protobuf import json_format

from travelgate import envelope as env
from travelgate import metrics, pki
from travelgate._pb.trisa.gds.api.v1beta1 import api_pb2 as gds_pb2
from travelgate._pb.trisa.gds.api.v1beta1 import api_pb2_grpc as gds_grpc
from travelgate._pb.trisa.gds.models.v1beta1 import ca_pb2
from travelgate.config import Config, parse_listen
from travelgate.errors import (
    ConfigError,
    DirectoryRecordError,
    DirectoryUnavailableError,
)
from travelgate.trisa._credentials import Credentials
from travelgate.trisa._directory import DIRECTORY, Peer, Resolution, format_pin, spki_digest

log = structlog.get_logger("travelgate.trisa")

DEFAULT_TIMEOUT = 5.0
# "Not found" is remembered at most this long (and never longer than gds_ttl).
NOT_FOUND_TTL = 300.0
# A directory that did not answer is not asked again for the same name this soon.
UNAVAILABLE_TTL = 5.0
MAX_CACHED_NAMES = 10_000
# A certificate chain is a few KiB of PEM; more than this once unzipped is not a chain.
MAX_CHAIN_BYTES = 1024 * 1024
_MESSAGE_LIMIT = 4 * 1024 * 1024


@dataclass(frozen=True)
class DirectoryRecord:
    """One VASP as the directory describes it, certificates parsed."""

    reply: gds_pb2.LookupReply
    identity_chain: tuple[x509.Certificate, ...]
    signing_chain: tuple[x509.Certificate, ...]

    @property
    def common_name(self) -> str:
        return self.reply.common_name

    @property
    def identity_certificate(self) -> x509.Certificate | None:
        return self.identity_chain[0] if self.identity_chain else None

    @property
    def signing_certificate(self) -> x509.Certificate | None:
        return self.signing_chain[0] if self.signing_chain else None

    def sealing_certificate(self) -> tuple[str, x509.Certificate] | None:
        """Which certificate we seal to: the signing one when given, else the identity."""
        if self.signing_certificate is not None:
            return "signing_certificate", self.signing_certificate
        if self.identity_certificate is not None:
            return "identity_certificate", self.identity_certificate
        return None

    def problem(self, name: str, now: datetime | None = None) -> str | None:
        """Why this record cannot stand for the counterparty `name`, or None."""
        now = now or datetime.now(UTC)
        if self.reply.common_name.lower() != name.lower():
            return f"the directory answered for {self.reply.common_name!r}, not {name!r}"
        try:
            parse_listen(self.reply.endpoint)
        except ValueError as exc:
            return f"its endpoint {self.reply.endpoint!r} is unusable: {exc}"
        identity = self.identity_certificate
        if identity is None:
            return "the record carries no identity certificate"
        if self.reply.identity_certificate.revoked:
            return "its identity certificate is revoked"
        validity = pki.validity_problem(identity, now=now)
        if validity is not None:
            return f"its identity certificate: {validity}"
        if pki.common_name_of(identity) != self.reply.common_name:
            return "its identity certificate is issued to another name"
        sealing = self.sealing_certificate()
        assert sealing is not None
        try:
            env.require_sealing_key(sealing[1].public_key())
        except env.KeyLoadError as exc:
            return f"its {sealing[0].replace('_', ' ')}: {exc.message}"
        return None

    def peer(self, name: str) -> Peer:
        """The record as a peer of ours (call only when `problem` is None)."""
        identity = self.identity_certificate
        sealing = self.sealing_certificate()
        assert identity is not None
        assert sealing is not None
        sealing_key = sealing[1].public_key()
        assert isinstance(sealing_key, rsa.RSAPublicKey)
        return Peer(
            name=name,
            endpoint=self.reply.endpoint,
            pinned_key=sealing_key,
            pins=frozenset({spki_digest(identity.public_key())}),
            source=DIRECTORY,
        )

    def as_json(self, name: str) -> dict[str, Any]:
        """Stable keys for `travelgate directory lookup` (only ever added to)."""
        reply = self.reply
        sealing = self.sealing_certificate()
        problem = self.problem(name)
        raw = gds_pb2.LookupReply()
        raw.CopyFrom(reply)
        for certificate in (raw.identity_certificate, raw.signing_certificate):
            # Shown parsed (and fingerprinted) above; raw bytes are noise in a terminal.
            for noise in ("data", "chain", "signature"):
                certificate.ClearField(noise)
        return {
            "name": reply.name,
            "common_name": reply.common_name,
            "id": reply.id,
            "registered_directory": reply.registered_directory,
            "endpoint": reply.endpoint,
            "country": reply.country,
            "verified_on": reply.verified_on,
            "pin": _pin(self.identity_certificate),
            "identity_certificate": _certificate_json(
                self.identity_chain, reply.identity_certificate
            ),
            "signing_certificate": _certificate_json(self.signing_chain, reply.signing_certificate),
            "sealing_key": None
            if sealing is None
            else {
                "from": sealing[0],
                "public_key_signature": env.public_key_signature(sealing[1].public_key()),
            },
            "usable": problem is None,
            "problem": problem,
            "raw": json_format.MessageToDict(raw, preserving_proto_field_name=True),
        }


def _pin(certificate: x509.Certificate | None) -> str | None:
    return None if certificate is None else format_pin(spki_digest(certificate.public_key()))


def _certificate_json(
    chain: tuple[x509.Certificate, ...], described: ca_pb2.Certificate
) -> dict[str, Any] | None:
    if not chain:
        return None
    leaf = chain[0]
    return {
        "subject": leaf.subject.rfc4514_string(),
        "issuer": leaf.issuer.rfc4514_string(),
        "serial_number": format(leaf.serial_number, "x"),
        "not_before": pki.format_utc(leaf.not_valid_before_utc),
        "not_after": pki.format_utc(leaf.not_valid_after_utc),
        "revoked": described.revoked,
        "sha256": leaf.fingerprint(hashes.SHA256()).hex(),
        "pin": _pin(leaf),
        "public_key_signature": env.public_key_signature(leaf.public_key()),
        "chain": [c.subject.rfc4514_string() for c in chain[1:]],
    }


def record_from_reply(reply: gds_pb2.LookupReply) -> DirectoryRecord:
    """Parse the certificates of a reply; DirectoryRecordError if one is unreadable."""
    return DirectoryRecord(
        reply,
        _chain(reply.identity_certificate, "identity certificate")
        if reply.HasField("identity_certificate")
        else (),
        _chain(reply.signing_certificate, "signing certificate")
        if reply.HasField("signing_certificate")
        else (),
    )


def _chain(certificate: ca_pb2.Certificate, what: str) -> tuple[x509.Certificate, ...]:
    """Leaf from `data` (PEM or DER, both seen in practice), then the gzip PEM `chain`."""
    if not certificate.data:
        return ()
    try:
        leaf = env.load_certificates(certificate.data)
    except env.KeyLoadError as exc:
        raise DirectoryRecordError(f"its {what} is unreadable: {exc.message}") from None
    if not leaf:
        raise DirectoryRecordError(f"its {what} holds no certificate")
    rest: list[x509.Certificate] = []
    if certificate.chain:
        try:
            bundle = env.load_certificates(_gunzip(certificate.chain))
        except (env.KeyLoadError, DirectoryRecordError) as exc:
            raise DirectoryRecordError(f"its {what} chain is unreadable: {exc.message}") from None
        # The bundle starts with the leaf again; keep only what is above it.
        rest = [c for c in bundle if c != leaf[0]]
    return (leaf[0], *rest)


def _gunzip(data: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_CHAIN_BYTES + 1)
    except zlib.error as exc:
        raise DirectoryRecordError(f"not gzip data ({exc})") from None
    if len(out) > MAX_CHAIN_BYTES:
        raise DirectoryRecordError(f"larger than {MAX_CHAIN_BYTES} bytes once unzipped")
    return out


def gzip_chain(pem: bytes) -> bytes:
    """A PEM bundle as the directory ships `Certificate.chain` (for tools and tests)."""
    return gzip.compress(pem, mtime=0)


class GdsClient:
    """Lookup calls to one directory over mTLS, each with a deadline."""

    def __init__(
        self,
        target: str,
        credentials: Credentials,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        trust_pem: bytes | None = None,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self._tls = grpc.ssl_channel_credentials(
            root_certificates=trust_pem or credentials.trust_pem,
            private_key=credentials.key_pem,
            certificate_chain=credentials.chain_pem,
        )
        self._channel: grpc.aio.Channel | None = None

    def _stub(self) -> gds_grpc.TRISADirectoryStub:
        if self._channel is None:  # created on first use, inside the running loop
            self._channel = grpc.aio.secure_channel(
                self.target,
                self._tls,
                options=[
                    ("grpc.max_receive_message_length", _MESSAGE_LIMIT),
                    ("grpc.primary_user_agent", "travelgate"),
                ],
            )
        return gds_grpc.TRISADirectoryStub(self._channel)

    async def lookup(self, common_name: str) -> gds_pb2.LookupReply | None:
        """The directory's record of `common_name`; None when it has none (or no usable
        one); DirectoryUnavailableError when it could not tell."""
        request = gds_pb2.LookupRequest(common_name=common_name)
        try:
            reply: gds_pb2.LookupReply = await self._stub().Lookup(request, timeout=self.timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise DirectoryUnavailableError(_unavailable(self.target, exc, self.timeout)) from None
        if reply.HasField("error") or not reply.common_name:
            return None
        return reply

    async def close(self) -> None:
        if self._channel is not None:
            channel, self._channel = self._channel, None
            await channel.close()


def _unavailable(target: str, exc: grpc.aio.AioRpcError, timeout: float) -> str:
    if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"the TRISA directory {target} did not answer within {timeout:g}s"
    details = (exc.details() or "").splitlines()[0:1]
    return f"the TRISA directory {target} is unavailable: {exc.code().name}" + (
        f": {details[0]}" if details else ""
    )


@dataclass
class _Entry:
    resolution: Resolution
    fresh_until: float
    peer: Peer | None = field(default=None)


def gds_client(config: Config, credentials: Credentials) -> GdsClient:
    """The client of `[directory] gds` (ConfigError when gds_trust is unreadable)."""
    settings = config.directory
    trust_pem = None
    if settings.gds_trust is not None:
        try:
            trust_pem = settings.gds_trust.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"[directory] gds_trust {settings.gds_trust} is not readable: {exc.strerror}"
            ) from None
        if b"-----BEGIN CERTIFICATE-----" not in trust_pem:
            raise ConfigError(
                f"[directory] gds_trust {settings.gds_trust} holds no PEM certificate"
            )
    return GdsClient(settings.gds, credentials, timeout=settings.gds_timeout, trust_pem=trust_pem)


class GdsDirectory:
    """Directory lookups by name with a bounded, TTL'd cache and one call per name at once."""

    def __init__(
        self,
        client: GdsClient,
        *,
        ttl: float,
        not_found_ttl: float = NOT_FOUND_TTL,
        unavailable_ttl: float = UNAVAILABLE_TTL,
        max_entries: int = MAX_CACHED_NAMES,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.not_found_ttl = min(not_found_ttl, ttl)
        self.unavailable_ttl = min(unavailable_ttl, ttl)
        self.max_entries = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._asking: dict[str, asyncio.Future[Resolution]] = {}
        self.lookups = 0  # calls made to the directory (operators' metrics, tests)

    def cached(self, name: str) -> Peer | None:
        """The last peer the directory gave for `name`, fresh or not (no network)."""
        entry = self._entries.get(name)
        return None if entry is None else entry.peer

    async def resolve(self, name: str) -> Resolution:
        entry = self._entries.get(name)
        if entry is not None and time.monotonic() < entry.fresh_until:
            self._entries.move_to_end(name)
            return entry.resolution
        if pki.dns_name_problem(name) is not None:
            # A TRISA common name is a host name; anything else is not worth a call.
            return Resolution(None, None)
        asking = self._asking.get(name)
        if asking is None:
            asking = asyncio.ensure_future(self._ask(name))
            self._asking[name] = asking
            asking.add_done_callback(lambda _done: self._asking.pop(name, None))
        return await asyncio.shield(asking)

    async def _ask(self, name: str) -> Resolution:
        self.lookups += 1
        now = time.monotonic()
        previous = self._entries.get(name)
        try:
            reply = await self.client.lookup(name)
        except DirectoryUnavailableError as exc:
            metrics.directory_lookup("unavailable")
            log.warning("trisa directory unavailable", peer=name, error=exc.message)
            # The last known record stays for the sync readers, but is not vouched for.
            resolution = Resolution(None, exc.message)
            peer = previous.peer if previous is not None else None
            return self._remember(name, _Entry(resolution, now + self.unavailable_ttl, peer))
        if reply is None:
            metrics.directory_lookup("not_found")
            return self._remember(name, _Entry(Resolution(None, None), now + self.not_found_ttl))
        try:
            record = record_from_reply(reply)
            problem = record.problem(name)
            peer = record.peer(name) if problem is None else None
        except DirectoryRecordError as exc:
            problem, peer = exc.message, None
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            # Whatever else a hostile or broken record trips in the certificate code.
            problem, peer = f"unreadable ({type(exc).__name__})", None
        if peer is None:
            metrics.directory_lookup("unusable")
            log.warning("trisa directory record unusable", peer=name, problem=problem)
            detail = f"the directory's record is unusable: {problem}"
            entry = _Entry(Resolution(None, None, detail), now + self.not_found_ttl)
            return self._remember(name, entry)
        metrics.directory_lookup("found")
        return self._remember(name, _Entry(Resolution(peer, None), now + self.ttl, peer))

    def _remember(self, name: str, entry: _Entry) -> Resolution:
        self._entries[name] = entry
        self._entries.move_to_end(name)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return entry.resolution

    async def close(self) -> None:
        await self.client.close()
