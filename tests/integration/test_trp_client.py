"""The TRP client against a real aiohttp HTTPS server on port 0, mutual TLS both ways.

The server stands in for a counterparty's TRP node: it checks what arrives with our own
parsers (headers, inquiry, resolution, confirmation) and answers as each test scripts it.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography import x509

from support.nodes import TestPki
from travelgate import pki
from travelgate.errors import ConfigError, TrpError, TrpRemoteError
from travelgate.trp import (
    Acknowledgement,
    Approval,
    Cancellation,
    Confirmation,
    Discovery,
    ExtensionsInfo,
    IdentityInfo,
    Rejection,
    TrpClient,
    VersionInfo,
    client_ssl_context,
    emit,
    emit_discovery,
    make_travel_address,
    parse_confirmation,
    parse_inquiry,
    parse_request_headers,
    parse_resolution,
    response_headers,
    server_ssl_context,
)

SERVER = "trp-beneficiary.example"
CLIENT = "trp-originator.example"
RID = "129f6013-9125-4beb-9e86-bb20c440e164"
INQUIRY_BODY = json.loads(
    (Path(__file__).parents[1] / "vectors" / "trp" / "examples.json").read_text()
)["exchanges"][0]["body"]

Answer = Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    method: str
    path_qs: str
    headers: dict[str, str]
    body: bytes
    client_common_name: str


@dataclass
class PeerServer:
    """A scripted TRP counterparty; `answer` decides the response to each POST."""

    url: str
    seen: list[Seen] = field(default_factory=list)
    answer: Answer | None = None


def _client_common_name(request: web.Request) -> str:
    assert request.transport is not None
    ssl_object: Any = request.transport.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True)
    return pki.common_name_of(x509.load_der_x509_certificate(der)) or ""


async def _acknowledge(request: web.Request, body: bytes) -> web.StreamResponse:
    try:
        headers = parse_request_headers(request.headers)
        parse_inquiry(body)
    except TrpError as exc:
        return web.Response(status=exc.status, text=exc.message)
    return web.Response(
        body=emit(Acknowledgement()), headers=response_headers(headers.request_identifier)
    )


async def _start(test_pki: TestPki, name: str, **options: Any) -> tuple[web.AppRunner, PeerServer]:
    cert, key = test_pki.write(name, **options)
    context = server_ssl_context(cert, key, test_pki.trust)
    server = PeerServer(url="")

    async def post(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        server.seen.append(
            Seen("POST", request.path_qs, dict(request.headers), body, _client_common_name(request))
        )
        return await (server.answer or _acknowledge)(request, body)

    async def discovery(request: web.Request) -> web.StreamResponse:
        server.seen.append(
            Seen("GET", request.path_qs, dict(request.headers), b"", _client_common_name(request))
        )
        parse_request_headers(request.headers, require_identifier=False)
        answers: dict[str, Discovery] = {
            "/version": VersionInfo("3.1.0"),
            "/extensions": ExtensionsInfo(supported=("extended-ivms101",)),
            "/identity": IdentityInfo(name="Bob VASP", lei="549300BOBVASP0000000"),
        }
        return web.Response(body=emit_discovery(answers[request.path]))

    app = web.Application()
    app.router.add_get("/version", discovery)
    app.router.add_get("/extensions", discovery)
    app.router.add_get("/identity", discovery)
    app.router.add_post("/{tail:.*}", post)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    server.url = f"https://127.0.0.1:{port}"
    return runner, server


@pytest.fixture
async def peer(test_pki: TestPki) -> AsyncIterator[PeerServer]:
    runner, server = await _start(test_pki, SERVER, ip_addresses=("127.0.0.1",))
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
async def client(test_pki: TestPki) -> AsyncIterator[TrpClient]:
    cert, key = test_pki.write(CLIENT)
    async with TrpClient(client_ssl_context(cert, key, test_pki.trust), timeout=10) as trp:
        yield trp


async def test_inquiry_is_acknowledged_over_mutual_tls(peer: PeerServer, client: TrpClient) -> None:
    inquiry = parse_inquiry(INQUIRY_BODY)
    answer = await client.send_inquiry(
        peer.url + "/transfers/a/token1", inquiry, request_identifier=RID, extensions=["x-y"]
    )
    assert answer.response == Acknowledgement("3.1.0")
    assert answer.reply.peer_common_name == SERVER
    assert answer.reply.request_identifier == RID
    assert answer.reply.api_version == "3.1.0"
    [seen] = peer.seen
    assert seen.path_qs == "/transfers/a/token1?t=i"
    assert seen.client_common_name == CLIENT
    assert seen.headers["api-version"] == "3.1.0"
    assert seen.headers["request-identifier"] == RID
    assert seen.headers["api-extensions"] == "x-y"
    assert seen.headers["Content-Type"] == "application/json; charset=utf-8"
    assert parse_inquiry(seen.body) == inquiry
    assert b'"amount":0.00206412' in seen.body


async def test_a_travel_address_routes_the_inquiry(peer: PeerServer, client: TrpClient) -> None:
    address = make_travel_address(peer.url + "/transfers/a/Zq3h9v")
    assert address.startswith("ta")
    await client.send_inquiry(address, parse_inquiry(INQUIRY_BODY), request_identifier=RID)
    assert peer.seen[0].path_qs == "/transfers/a/Zq3h9v?t=i"


@pytest.mark.parametrize(
    "decision",
    [
        Approval("bc1qbeneficiary", "https://127.0.0.1/transfers/x/confirm"),
        Rejection("beneficiary name does not match the account holder"),
    ],
)
async def test_immediate_decisions_come_back_parsed(
    peer: PeerServer, client: TrpClient, decision: Approval | Rejection
) -> None:
    async def decide(request: web.Request, body: bytes) -> web.StreamResponse:
        return web.Response(body=emit(decision), headers=response_headers(RID))

    peer.answer = decide
    answer = await client.send_inquiry(
        peer.url, parse_inquiry(INQUIRY_BODY), request_identifier=RID
    )
    assert answer.response == decision


async def test_resolution_and_confirmation_callbacks(peer: PeerServer, client: TrpClient) -> None:
    received: list[object] = []

    async def callback(request: web.Request, body: bytes) -> web.StreamResponse:
        parse_request_headers(request.headers)
        parse = parse_resolution if request.path.endswith("/resolve") else parse_confirmation
        received.append(parse(body))
        return web.Response(status=204, headers=response_headers(RID, with_json=False))

    peer.answer = callback
    approval = Approval("bc1qbeneficiary", "https://127.0.0.1/transfers/x/confirm")
    reply = await client.send_resolution(
        peer.url + "/transfers/1/resolve", approval, request_identifier=RID
    )
    assert reply.status == 204
    assert reply.peer_common_name == SERVER
    await client.send_confirmation(
        peer.url + "/transfers/1/confirm", Confirmation("ab" * 32), request_identifier=RID
    )
    await client.send_confirmation(
        peer.url + "/transfers/1/confirm", Cancellation("broadcast failed"), request_identifier=RID
    )
    assert received == [approval, Confirmation("ab" * 32), Cancellation("broadcast failed")]
    assert all(seen.headers["request-identifier"] == RID for seen in peer.seen)


async def test_a_refused_version_is_a_final_400(test_pki: TestPki, peer: PeerServer) -> None:
    cert, key = test_pki.write(CLIENT)
    context = client_ssl_context(cert, key, test_pki.trust)
    async with TrpClient(context, api_version="3.2.1") as newer:
        with pytest.raises(TrpRemoteError) as caught:
            await newer.send_inquiry(peer.url, parse_inquiry(INQUIRY_BODY), request_identifier=RID)
    assert caught.value.peer_status == 400
    assert caught.value.retryable is False
    assert "must specify api version header 3.1.0" in caught.value.message


@pytest.mark.parametrize(
    ("status", "body", "retryable", "reason"),
    [
        (503, "down for maintenance", True, "down for maintenance"),
        (500, '{"code": 500, "message": "database gone"}', True, "database gone"),
        (404, "Not Found", False, "Not Found"),
        (422, "", False, "no reason given"),
        (307, "", False, "307"),
    ],
)
async def test_error_statuses(
    peer: PeerServer, client: TrpClient, status: int, body: str, retryable: bool, reason: str
) -> None:
    async def fail(request: web.Request, _body: bytes) -> web.StreamResponse:
        headers = {"location": "https://elsewhere.example/"} if status == 307 else {}
        return web.Response(status=status, text=body, headers=headers)

    peer.answer = fail
    with pytest.raises(TrpRemoteError) as caught:
        await client.send_inquiry(peer.url, parse_inquiry(INQUIRY_BODY), request_identifier=RID)
    assert caught.value.peer_status == status
    assert caught.value.retryable is retryable
    assert reason in caught.value.message
    assert len(peer.seen) == 1  # a redirect is not followed


async def test_a_body_that_is_no_trp_answer(peer: PeerServer, client: TrpClient) -> None:
    async def garbage(request: web.Request, body: bytes) -> web.StreamResponse:
        return web.Response(text='{"approved": {"address": ""}}')

    peer.answer = garbage
    with pytest.raises(TrpRemoteError, match="not a TRP answer") as caught:
        await client.send_inquiry(peer.url, parse_inquiry(INQUIRY_BODY), request_identifier=RID)
    assert caught.value.retryable is False


async def test_server_certificate_must_chain_to_our_trust(
    test_pki: TestPki, client: TrpClient
) -> None:
    other_ca = pki.make_authority("some other CA", key_size=2048)
    runner, rogue = await _start(
        test_pki, "rogue.example", ca=other_ca, ip_addresses=("127.0.0.1",)
    )
    try:
        with pytest.raises(TrpRemoteError, match="certificate refused") as caught:
            await client.send_inquiry(
                rogue.url, parse_inquiry(INQUIRY_BODY), request_identifier=RID
            )
    finally:
        await runner.cleanup()
    assert caught.value.retryable is False
    assert rogue.seen == []


async def test_server_certificate_must_name_the_url_host(
    test_pki: TestPki, client: TrpClient
) -> None:
    runner, elsewhere = await _start(test_pki, "elsewhere.example")  # no 127.0.0.1 SAN
    try:
        with pytest.raises(TrpRemoteError, match="certificate refused") as caught:
            await client.send_inquiry(
                elsewhere.url, parse_inquiry(INQUIRY_BODY), request_identifier=RID
            )
    finally:
        await runner.cleanup()
    assert "match" in caught.value.message.lower()
    assert elsewhere.seen == []


async def test_the_server_refuses_a_client_without_certificate(
    test_pki: TestPki, peer: PeerServer
) -> None:
    anonymous = ssl.create_default_context(cafile=str(test_pki.trust))
    async with TrpClient(anonymous, timeout=10) as client:
        with pytest.raises(TrpRemoteError):
            await client.send_inquiry(peer.url, parse_inquiry(INQUIRY_BODY), request_identifier=RID)
    assert peer.seen == []


async def test_an_unreachable_peer_is_retryable(client: TrpClient) -> None:
    with pytest.raises(TrpRemoteError) as caught:
        await client.send_inquiry(
            "https://127.0.0.1:1/x", parse_inquiry(INQUIRY_BODY), request_identifier=RID
        )
    assert caught.value.peer_status is None
    assert caught.value.retryable is True


async def test_plain_http_is_refused_before_any_connection(client: TrpClient) -> None:
    with pytest.raises(TrpError, match="https only"):
        await client.send_resolution(
            "http://127.0.0.1:1/cb", Rejection("no"), request_identifier=RID
        )


async def test_discoverability(peer: PeerServer, client: TrpClient) -> None:
    assert await client.get_version(peer.url + "/x?t=i") == VersionInfo("3.1.0")
    assert await client.get_extensions(peer.url) == ExtensionsInfo(supported=("extended-ivms101",))
    identity = await client.get_identity(peer.url)
    assert identity.name == "Bob VASP"
    assert [seen.path_qs for seen in peer.seen] == ["/version", "/extensions", "/identity"]
    assert all(seen.headers["request-identifier"] for seen in peer.seen)


def test_contexts_refuse_bad_files_and_lax_settings(test_pki: TestPki, tmp_path: Path) -> None:
    cert, key = test_pki.write(CLIENT)
    with pytest.raises(ConfigError, match="trust bundle not found"):
        client_ssl_context(cert, key, tmp_path / "missing.pem")
    with pytest.raises(ConfigError, match="not found"):
        server_ssl_context(tmp_path / "nope.pem", key, test_pki.trust)
    lax = ssl.create_default_context(cafile=str(test_pki.trust))
    lax.check_hostname = False
    with pytest.raises(ValueError, match="verify"):
        TrpClient(lax)
