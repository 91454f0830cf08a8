"""A back-office HTTP server for webhook tests: records deliveries, can refuse the first tries."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web


class BackOffice:
    """An HTTP server that records webhooks and fails each event's first `failures` tries.

    With `redirect=True` the failed tries answer 307 to another path of the same server, which
    records anything POSTed to it in `redirected` (a delivery must never follow it).
    """

    def __init__(self, failures: int = 0, *, redirect: bool = False) -> None:
        self.failures = failures
        self.redirect = redirect
        self.redirected: list[bytes] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.attempts: dict[str, int] = {}
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        event_id = request.headers.get("Travelgate-Event-Id", "")
        self.attempts[event_id] = self.attempts.get(event_id, 0) + 1
        if self.attempts[event_id] <= self.failures:
            if self.redirect:
                return web.Response(status=307, headers={"Location": "/elsewhere"})
            return web.Response(status=503)
        self.received.append((dict(request.headers), body))
        return web.Response(status=204)

    async def handle_redirected(self, request: web.Request) -> web.Response:
        self.redirected.append(await request.read())
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        app.router.add_post("/elsewhere", self.handle_redirected)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _headers, body in self.received]

    async def wait_for(self, kind: str, seconds: float = 20) -> dict[str, Any]:
        async with asyncio.timeout(seconds):
            while True:
                for event in self.events():
                    if event["type"] == kind:
                        return event
                await asyncio.sleep(0.05)
