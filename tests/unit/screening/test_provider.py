"""The provider client against a real aiohttp server on loopback: verdicts, signing, failures."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from travelgate.screening import FailureKind, ProviderClient, ProviderFailure, ProviderVerdict, Risk
from travelgate.transfers import Direction

SECRET = b"provider-secret"


class Provider:
    """A chain-analytics provider stand-in: answers what the test sets, records every call."""

    def __init__(self) -> None:
        self.answer: Any = {"risk": "low", "categories": []}
        self.status = 200
        self.delay = 0.0
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.calls.append((dict(request.headers), body))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status in (301, 307):
            return web.Response(status=self.status, headers={"Location": "/elsewhere"})
        if isinstance(self.answer, bytes):
            return web.Response(status=self.status, body=self.answer)
        return web.json_response(self.answer, status=self.status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/screen", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/screen"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    server = Provider()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def _assess(provider: Provider, limit: float = 2.0) -> Any:
    async with ProviderClient(provider.url, SECRET, timeout=limit) as client:
        return await client.assess("0xabc", "ETH", "ethereum", Direction.OUTBOUND)


async def test_a_severe_answer_is_a_verdict_and_the_request_is_signed(provider: Provider) -> None:
    provider.answer = {"risk": "severe", "categories": ["sanctions", "darknet"]}
    answer = await _assess(provider)
    assert answer == ProviderVerdict(Risk.SEVERE, ("sanctions", "darknet"))
    assert answer.to_json() == {"risk": "severe", "categories": ["sanctions", "darknet"]}
    (headers, body) = provider.calls[0]
    assert json.loads(body) == {
        "address": "0xabc",
        "asset": "ETH",
        "network": "ethereum",
        "direction": "outbound",
    }
    assert headers["Content-Type"] == "application/json"
    stamp, mac = (part.split("=", 1)[1] for part in headers["Travelgate-Signature"].split(","))
    expected = hmac.new(SECRET, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(mac, expected)


async def test_a_provider_that_does_not_answer_in_time_is_a_timeout(provider: Provider) -> None:
    provider.delay = 1.0
    answer = await _assess(provider, limit=0.3)
    assert isinstance(answer, ProviderFailure)
    assert answer.kind is FailureKind.TIMEOUT
    assert "0.3s" in answer.message


@pytest.mark.parametrize(
    ("status", "answer", "kind", "message"),
    [
        (500, {"risk": "low"}, FailureKind.HTTP_STATUS, "HTTP 500"),
        (307, None, FailureKind.HTTP_STATUS, "HTTP 307"),
        (200, b"<html>", FailureKind.BAD_ANSWER, "not JSON"),
        (200, ["low"], FailureKind.BAD_ANSWER, "not a JSON object"),
        (200, {"risk": "extreme"}, FailureKind.BAD_ANSWER, "risk must be one of"),
        (200, {"risk": "low", "categories": "mixer"}, FailureKind.BAD_ANSWER, "categories"),
        (200, b"{" + b" " * 70_000 + b"}", FailureKind.BAD_ANSWER, "larger than"),
    ],
)
async def test_bad_answers_are_failures_not_verdicts(
    provider: Provider, status: int, answer: Any, kind: FailureKind, message: str
) -> None:
    provider.status, provider.answer = status, answer
    result = await _assess(provider)
    assert isinstance(result, ProviderFailure)
    assert result.kind is kind
    assert message in result.message


async def test_an_unreachable_provider_is_a_failure() -> None:
    server = Provider()
    await server.start()
    url = server.url
    await server.stop()
    async with ProviderClient(url, SECRET, timeout=2) as client:
        answer = await client.assess("bc1q", "BTC", "bitcoin", Direction.INBOUND)
    assert isinstance(answer, ProviderFailure)
    assert answer.kind is FailureKind.UNREACHABLE


async def test_one_client_serves_many_calls(provider: Provider) -> None:
    provider.answer = {"risk": "medium", "categories": ["exchange"]}
    async with ProviderClient(provider.url, SECRET) as client:
        answers = await asyncio.gather(
            *(client.assess(f"a{n}", "BTC", "bitcoin", Direction.INBOUND) for n in range(5))
        )
    assert {answer.risk for answer in answers if isinstance(answer, ProviderVerdict)} == {
        Risk.MEDIUM
    }
    assert len(provider.calls) == 5
