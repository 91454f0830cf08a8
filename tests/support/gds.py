"""Our own TRISA Global Directory Service for tests: `TRISADirectory` on loopback over mTLS.

It serves Lookup (by common name or id) and Search (by name or country) from records
built out of real test identities, exactly as the public directory ships them: the leaf
in `Certificate.data` (PEM text by default, DER on request) and a gzip-compressed PEM
chain in `Certificate.chain`. Tests can make it slow (`delay`), count its calls, and stop
it to play a directory that is down.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from travelgate import pki
from travelgate._pb.trisa.gds.api.v1beta1 import api_pb2 as gds_pb2
from travelgate._pb.trisa.gds.api.v1beta1 import api_pb2_grpc as gds_grpc
from travelgate._pb.trisa.gds.models.v1beta1 import ca_pb2
from travelgate.trisa import gzip_chain

GDS_NAME = "gds.example"
REGISTERED_DIRECTORY = "testnet.directory"
NOT_FOUND = 404  # the directory's own int32 code, not a TRISA one


def certificate_message(
    identity_chain: tuple[x509.Certificate, ...], *, der: bool = False, revoked: bool = False
) -> ca_pb2.Certificate:
    leaf = identity_chain[0]

    def name(of: x509.Name) -> ca_pb2.Name:
        common = of.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        return ca_pb2.Name(common_name=str(common[0].value) if common else "")

    encoding = serialization.Encoding.DER if der else serialization.Encoding.PEM
    bundle = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in identity_chain)
    return ca_pb2.Certificate(
        version=leaf.version.value + 1,
        serial_number=leaf.serial_number.to_bytes(20, "big"),
        signature=leaf.signature,
        signature_algorithm="SHA256-RSA",
        public_key_algorithm="RSA",
        subject=name(leaf.subject),
        issuer=name(leaf.issuer),
        not_before=pki.format_utc(leaf.not_valid_before_utc),
        not_after=pki.format_utc(leaf.not_valid_after_utc),
        revoked=revoked,
        data=leaf.public_bytes(encoding),
        chain=gzip_chain(bundle),
    )


@dataclass
class DirectoryEntry:
    identity: pki.Identity
    endpoint: str
    name: str
    country: str = "GB"
    signing: pki.Identity | None = None
    der: bool = False
    revoked: bool = False
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    verified_on: str = field(default_factory=lambda: pki.format_utc(datetime.now(UTC)))

    @property
    def common_name(self) -> str:
        return pki.common_name_of(self.identity.certificate) or ""

    def reply(self) -> gds_pb2.LookupReply:
        reply = gds_pb2.LookupReply(
            id=self.id,
            registered_directory=REGISTERED_DIRECTORY,
            common_name=self.common_name,
            endpoint=self.endpoint,
            identity_certificate=certificate_message(
                (self.identity.certificate, *self.identity.chain),
                der=self.der,
                revoked=self.revoked,
            ),
            name=self.name,
            country=self.country,
            verified_on=self.verified_on,
        )
        if self.signing is not None:
            reply.signing_certificate.CopyFrom(
                certificate_message((self.signing.certificate, *self.signing.chain))
            )
        return reply


class TestDirectory(gds_grpc.TRISADirectoryServicer):
    """The servicer: records by common name, a call log, an optional delay."""

    __test__ = False

    def __init__(self) -> None:
        self.entries: dict[str, DirectoryEntry] = {}
        self.calls: list[str] = []
        self.delay = 0.0

    def add(self, entry: DirectoryEntry) -> DirectoryEntry:
        self.entries[entry.common_name] = entry
        return entry

    def lookups_of(self, name: str) -> int:
        return self.calls.count(name)

    async def Lookup(
        self,
        request: gds_pb2.LookupRequest,
        context: grpc.aio.ServicerContext[gds_pb2.LookupRequest, Any],
    ) -> gds_pb2.LookupReply:
        self.calls.append(request.id or request.common_name)
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.id:  # the id wins when both are set
            found = next((e for e in self.entries.values() if e.id == request.id), None)
        else:
            found = self.entries.get(request.common_name)
        if found is None:
            return gds_pb2.LookupReply(
                error=gds_pb2.Error(code=NOT_FOUND, message="could not find VASP")
            )
        return found.reply()

    async def Search(
        self,
        request: gds_pb2.SearchRequest,
        context: grpc.aio.ServicerContext[gds_pb2.SearchRequest, Any],
    ) -> gds_pb2.SearchReply:
        names = {n.lower() for n in request.name}
        countries = set(request.country)
        results = [
            gds_pb2.SearchReply.Result(
                id=e.id,
                registered_directory=REGISTERED_DIRECTORY,
                common_name=e.common_name,
                endpoint=e.endpoint,
            )
            for e in self.entries.values()
            if (names and e.name.lower() in names) or (countries and e.country in countries)
        ]
        return gds_pb2.SearchReply(results=results)


class DirectoryServer:
    """A running TestDirectory on 127.0.0.1, certified for that address by the test CA."""

    def __init__(self, identity: pki.Identity, trust_pem: bytes) -> None:
        self.identity = identity
        self.trust_pem = trust_pem
        self.directory = TestDirectory()
        self.server: grpc.aio.Server | None = None
        self.port = 0

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> DirectoryServer:
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        gds_grpc.add_TRISADirectoryServicer_to_server(self.directory, server)
        credentials = grpc.ssl_server_credentials(
            [(self.identity.key_pem, self.identity.chain_pem)],
            root_certificates=self.trust_pem,
            require_client_auth=True,
        )
        self.port = server.add_secure_port("127.0.0.1:0", credentials)
        await server.start()
        self.server = server
        return self

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(0)
            self.server = None


def directory_identity(issue: Any) -> pki.Identity:
    """The directory's own certificate: its name, and 127.0.0.1 where tests reach it.

    `issue` is `TestPki.identity` (keeps this module free of the node fixtures)."""
    identity: pki.Identity = issue(GDS_NAME, ip_addresses=("127.0.0.1",))
    return identity
