"""A back-office HTTP server for webhook tests: records deliveries, can refuse the first tries."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web


class BackOffice:
    """An HTTP server that records webhooks and fails each event's first `failures` tries."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.attempts: dict[str, int] = {}
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        event_id = request.headers.get("Travelgate-Event-Id", "")
        self.attempts[event_id] = self.attempts.get(event_id, 0) + 1
        if self.attempts[event_id] <= self.failures:
            return web.Response(status=503)
        self.received.append((dict(request.headers), body))
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
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
