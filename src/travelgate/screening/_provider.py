"""The optional chain-analytics provider: one signed POST per address, a risk level back.

Request: `{"address", "asset", "network", "direction"}` as JSON, signed like our webhooks
(`Travelgate-Signature: t=<unix>,v1=<HMAC-SHA256(secret, "<t>.<body>")>`), so the provider
can tell the call is ours. Answer: `{"risk": "low"|"medium"|"high"|"severe", "categories":
[...]}`. Anything else (timeout, refused connection, a non-2xx status, a redirect, an answer
that is not that JSON) is a `ProviderFailure`, never a verdict, so policy can fail closed.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import aiohttp

from travelgate.outbox import SIGNATURE_HEADER, sign
from travelgate.transfers import Direction

_ANSWER_LIMIT = 64 * 1024
_MAX_CATEGORIES = 64


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    SEVERE = "severe"


class FailureKind(StrEnum):
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    HTTP_STATUS = "http_status"
    BAD_ANSWER = "bad_answer"


@dataclass(frozen=True)
class ProviderVerdict:
    risk: Risk
    categories: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"risk": self.risk.value, "categories": list(self.categories)}


@dataclass(frozen=True)
class ProviderFailure:
    kind: FailureKind
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"failure": self.kind.value, "message": self.message}


ProviderAnswer = ProviderVerdict | ProviderFailure


class ProviderClient:
    """Calls one provider URL; `close()` (or `async with`) releases the HTTP session."""

    def __init__(self, url: str, secret: bytes, *, timeout: float = 5.0) -> None:
        self.url = url
        self._secret = secret
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ProviderClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def assess(
        self, address: str, asset: str, network: str, direction: Direction
    ) -> ProviderAnswer:
        body = json.dumps(
            {"address": address, "asset": asset, "network": network, "direction": direction.value},
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, int(time.time()), body),
            "User-Agent": "travelgate-screening",
        }
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with asyncio.timeout(self._timeout):
                async with self._session.post(
                    self.url, data=body, headers=headers, allow_redirects=False
                ) as response:
                    if not 200 <= response.status < 300:
                        return ProviderFailure(
                            FailureKind.HTTP_STATUS, f"provider answered HTTP {response.status}"
                        )
                    raw = await response.content.read(_ANSWER_LIMIT + 1)
        except TimeoutError:
            return ProviderFailure(
                FailureKind.TIMEOUT, f"provider did not answer within {self._timeout:g}s"
            )
        except aiohttp.ClientError as exc:
            return ProviderFailure(
                FailureKind.UNREACHABLE, f"provider unreachable: {type(exc).__name__}: {exc}"
            )
        return parse_answer(raw)


def parse_answer(raw: bytes) -> ProviderAnswer:
    """A verdict from the provider's body, or a BAD_ANSWER failure saying what is wrong."""
    if len(raw) > _ANSWER_LIMIT:
        return ProviderFailure(FailureKind.BAD_ANSWER, f"answer larger than {_ANSWER_LIMIT} bytes")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ProviderFailure(FailureKind.BAD_ANSWER, "answer is not JSON")
    if not isinstance(document, dict):
        return ProviderFailure(FailureKind.BAD_ANSWER, "answer is not a JSON object")
    try:
        risk = Risk(str(document.get("risk")))
    except ValueError:
        return ProviderFailure(
            FailureKind.BAD_ANSWER,
            f"risk must be one of {', '.join(level.value for level in Risk)}",
        )
    categories = document.get("categories", [])
    if (
        not isinstance(categories, list)
        or len(categories) > _MAX_CATEGORIES
        or not all(isinstance(item, str) and len(item) <= 128 for item in categories)
    ):
        return ProviderFailure(FailureKind.BAD_ANSWER, "categories must be a list of strings")
    return ProviderVerdict(risk, tuple(categories))
