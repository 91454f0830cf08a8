"""The TRP server: aiohttp over mutual TLS, a thin adapter in front of a `TrpHandler`.

Routes (TRP v3): `POST /transfers/{token}` (the URL a minted Travel Address names),
`POST /resolutions/{token}` (our inquiry callback: approvals and rejections),
`POST /confirmations/{token}` (our approval callback: txid or cancel) and the
discoverability `GET /identity`, `/version`, `/uptime`, `/extensions`. The client
certificate must chain to the trust bundle (the TLS layer refuses any other, and a client
without one); its common name is the counterparty handed to the handler. Every refusal is
the `TrpError` status with a plain-text reason; no traceback ever reaches a peer.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from aiohttp import web
from cryptography import x509

from travelgate import pki
from travelgate.errors import TrpError, TrpForbiddenError
from travelgate.trp._discovery import (
    ExtensionsInfo,
    IdentityInfo,
    VersionInfo,
    emit_discovery,
    emit_uptime,
)
from travelgate.trp._headers import (
    ACCEPTED_API_VERSIONS,
    API_VERSION,
    API_VERSION_HEADER,
    REQUEST_IDENTIFIER_HEADER,
    RequestHeaders,
    parse_request_headers,
    response_headers,
)
from travelgate.trp._json import MAX_BODY_BYTES, check_content_type
from travelgate.trp._messages import (
    SUPPORTED_EXTENSIONS,
    ConfirmationMessage,
    Resolution,
    parse_confirmation,
    parse_resolution,
)

log = structlog.get_logger("travelgate.trp")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class TrpHandler(Protocol):
    """What the TRP routes do; implemented by the service layer."""

    async def inquiry(
        self, token: str, headers: RequestHeaders, body: bytes, peer: str
    ) -> bytes: ...

    async def resolution(
        self, token: str, headers: RequestHeaders, resolution: Resolution, peer: str
    ) -> None: ...

    async def confirmation(
        self, token: str, headers: RequestHeaders, message: ConfirmationMessage, peer: str
    ) -> None: ...

    def identity(self) -> IdentityInfo: ...


@dataclass
class RunningTrpServer:
    runner: web.AppRunner
    port: int


def build_trp_app(handler: TrpHandler) -> web.Application:
    started = time.monotonic()
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_trp_errors])

    async def transfers(request: web.Request) -> web.Response:
        headers, body = await _post_parts(request)
        answer = await handler.inquiry(request.match_info["token"], headers, body, _peer(request))
        return web.Response(
            status=200, body=answer, headers=response_headers(headers.request_identifier)
        )

    async def resolutions(request: web.Request) -> web.Response:
        headers, body = await _post_parts(request)
        resolution = parse_resolution(body)
        await handler.resolution(request.match_info["token"], headers, resolution, _peer(request))
        return _no_content(headers)

    async def confirmations(request: web.Request) -> web.Response:
        headers, body = await _post_parts(request)
        message = parse_confirmation(body)
        await handler.confirmation(request.match_info["token"], headers, message, _peer(request))
        return _no_content(headers)

    async def identity(request: web.Request) -> web.Response:
        return _discovery(request, handler.identity())

    async def version(request: web.Request) -> web.Response:
        return _discovery(request, VersionInfo(API_VERSION))

    async def extensions(request: web.Request) -> web.Response:
        return _discovery(request, ExtensionsInfo(required=(), supported=SUPPORTED_EXTENSIONS))

    async def uptime(request: web.Request) -> web.Response:
        headers = _get_headers(request)
        return web.Response(
            body=emit_uptime(time.monotonic() - started),
            headers={
                **response_headers(headers.request_identifier, with_json=False),
                "content-type": "text/plain; charset=utf-8",
            },
        )

    app.router.add_post("/transfers/{token}", transfers)
    app.router.add_post("/resolutions/{token}", resolutions)
    app.router.add_post("/confirmations/{token}", confirmations)
    app.router.add_get("/identity", identity)
    app.router.add_get("/version", version)
    app.router.add_get("/uptime", uptime)
    app.router.add_get("/extensions", extensions)
    return app


async def start_trp_server(
    handler: TrpHandler,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext,
    *,
    reuse_port: bool = False,
) -> RunningTrpServer:
    """Serve TRP; `reuse_port` shares the port with the other workers of `serve --workers N`."""
    runner = web.AppRunner(build_trp_app(handler), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context, reuse_port=reuse_port or None)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    server: Any = site._server
    bound = server.sockets[0].getsockname()[1] if server is not None else port
    return RunningTrpServer(runner, int(bound))


async def stop_trp_server(server: RunningTrpServer) -> None:
    await server.runner.cleanup()


@web.middleware
async def _trp_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except TrpError as exc:
        return _error(request, exc.status, exc.message)
    except web.HTTPException as exc:
        if exc.status == 413:
            return _error(request, 413, f"request body must not be larger than {MAX_BODY_BYTES}")
        raise
    except Exception:
        log.exception("TRP request failed", path=request.path)
        return _error(request, 500, "internal error")


def _error(request: web.Request, status: int, message: str) -> web.Response:
    identifier = request.headers.get(REQUEST_IDENTIFIER_HEADER, "").strip()[:256]
    if not identifier.isprintable():
        identifier = ""
    headers = response_headers(identifier, with_json=False)
    headers["content-type"] = "text/plain; charset=utf-8"
    return web.Response(status=status, text=message + "\n", headers=headers)


async def _post_parts(request: web.Request) -> tuple[RequestHeaders, bytes]:
    headers = parse_request_headers(request.headers, accepted_versions=ACCEPTED_API_VERSIONS)
    check_content_type(request.headers.get("content-type"))
    return headers, await request.read()


def _get_headers(request: web.Request) -> RequestHeaders:
    """GETs: a wrong `api-version` is refused, an absent one is not (a person's curl)."""
    if API_VERSION_HEADER not in request.headers:
        identifier = request.headers.get(REQUEST_IDENTIFIER_HEADER, "").strip()[:256]
        return RequestHeaders(API_VERSION, identifier if identifier.isprintable() else "")
    return parse_request_headers(request.headers, require_identifier=False)


def _discovery(
    request: web.Request, info: IdentityInfo | VersionInfo | ExtensionsInfo
) -> web.Response:
    headers = _get_headers(request)
    return web.Response(
        body=emit_discovery(info), headers=response_headers(headers.request_identifier)
    )


def _no_content(headers: RequestHeaders) -> web.Response:
    return web.Response(
        status=204, headers=response_headers(headers.request_identifier, with_json=False)
    )


def _peer(request: web.Request) -> str:
    """The client certificate's common name (the TLS layer verified its chain)."""
    transport = request.transport
    ssl_object: Any = transport.get_extra_info("ssl_object") if transport else None
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        raise TrpForbiddenError("a client certificate is required")
    name = pki.common_name_of(x509.load_der_x509_certificate(der))
    if not name:
        raise TrpForbiddenError("the client certificate names no common name")
    return name
