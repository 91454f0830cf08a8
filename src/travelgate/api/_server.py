"""The API's listening socket: a header deadline and protocol errors in the API's own shape.

aiohttp answers a request it cannot parse (a header over the size limit, a broken request
line) with plain text that may quote the offending bytes, and it waits for headers as long
as a client cares to trickle them. Both matter on a port that carries API keys: this room
answers such requests with the JSON error shape, never echoing what was sent (it could be
an `Authorization` header), and closes a connection whose request head is not complete
within `header_timeout` seconds of its first byte.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong

from travelgate.api._errors import error_response

log = structlog.get_logger("travelgate.api")

_END_OF_HEAD = b"\r\n\r\n"
# aiohttp's own defaults for one header line and one header field.
MAX_LINE = 8190
MAX_FIELD = 8190


class _GuardedHandler(web.RequestHandler):
    """aiohttp's protocol handler with a deadline on each request head."""

    def __init__(self, manager: web.Server, *, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout = header_timeout
        self._deadline: asyncio.TimerHandle | None = None
        self._head_tail = b""
        self._reading_head = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # A connection that says nothing at all is held to the same deadline.
        self._arm()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            if self._deadline is None:
                self._arm()
            # Only the last three bytes can join the next chunk into an end of head.
            window = self._head_tail + data
            if _END_OF_HEAD in window:
                self._reading_head = False
                self._disarm()
            self._head_tail = window[-3:]
        super().data_received(data)

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        result = await super().finish_response(request, resp, start_time)
        # Keep-alive: the next request's head is timed from its first byte; an idle
        # connection is aiohttp's keep-alive timeout's business.
        self._reading_head = True
        self._head_tail = b""
        return result

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("the response was already started")
        status, code, text = _describe(status, exc)
        log.warning("unparseable request", status=status, code=code, peer=_peer(request))
        response = error_response(status, code, text)
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        # aiohttp would log the parser's message, which quotes the request's bytes.
        pass

    def _arm(self) -> None:
        self._disarm()
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(self._header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport is not None:
            log.warning("request head too slow: connection closed", seconds=self._header_timeout)
            self.transport.close()


def _describe(status: int, exc: BaseException | None) -> tuple[int, str, str]:
    if isinstance(exc, LineTooLong):
        if "status line" in str(exc).lower() or "request line" in str(exc).lower():
            return 414, "uri_too_long", "the request line is too long"
        return (
            431,
            "headers_too_large",
            f"a request header is over the {MAX_FIELD}-byte limit",
        )
    if isinstance(exc, BadHttpMessage) and "too many headers" in str(exc).lower():
        return 431, "headers_too_large", "the request has too many headers"
    if status >= 500:
        return 500, "internal_error", "internal error"
    return 400, "bad_request", "the request is not valid HTTP/1.1"


def _peer(request: web.BaseRequest) -> str | None:
    return request.remote


class ApiListener:
    """Serves an aiohttp application on one TCP socket with the guarded handler."""

    def __init__(
        self, app: web.Application, *, header_timeout: float, shutdown_timeout: float = 60.0
    ) -> None:
        # `shutdown_timeout`: how long `stop` lets requests in flight finish.
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=shutdown_timeout
        )
        self._header_timeout = header_timeout
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int, *, reuse_port: bool = False) -> int:
        """Listen and return the bound port; OSError when the address cannot be used.

        `reuse_port`: share the port with the other workers of `serve --workers N`.
        """
        await self._runner.setup()
        manager = self._runner.server
        assert manager is not None
        loop = asyncio.get_running_loop()

        def protocol() -> _GuardedHandler:
            return _GuardedHandler(
                manager,
                loop=loop,
                header_timeout=self._header_timeout,
                access_log=None,
                max_line_size=MAX_LINE,
                max_field_size=MAX_FIELD,
            )

        try:
            self._server = await loop.create_server(
                protocol, host, port, reuse_address=True, reuse_port=reuse_port or None
            )
        except OSError:
            await self._runner.cleanup()
            raise
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        await self._runner.cleanup()
