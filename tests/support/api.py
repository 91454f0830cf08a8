"""A client of a node's internal API, with a fresh API key."""

from __future__ import annotations

import asyncio
import io
import uuid
from typing import Any

import aiohttp

from support.nodes import BOB, BOB_ADDRESS
from travelgate.node import Node
from travelgate.service import SCOPES, create_api_key


def withdrawal(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "asset": "BTC",
        "network": "bitcoin",
        "amount": "0.5",
        "value": {"amount": "31000.00", "currency": "USD"},
        "destination": {"address": BOB_ADDRESS, "tag": None},
        "originator": {"customer_id": "cust-1"},
        "beneficiary": {"name": "Bob Jones"},
        "beneficiary_vasp": BOB,
    }
    body.update(changes)
    return body


class Api:
    def __init__(self, node: Node, key: str) -> None:
        self.node = node
        self.base = f"http://127.0.0.1:{node.api_port}"
        self.key = key
        self.session = aiohttp.ClientSession()

    @classmethod
    async def connect(cls, node: Node, scopes: tuple[str, ...] = SCOPES) -> Api:
        """A client with a fresh key (every scope unless told): each call is another person."""
        _id, key = await create_api_key(node.gateway.db, "tests", scopes)
        return cls(node, key)

    async def close(self) -> None:
        await self.session.close()

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> tuple[int, Any]:
        sent = {"Authorization": f"Bearer {self.key}"} if auth else {}
        sent.update(headers or {})
        data: Any = io.BytesIO(raw) if raw is not None and len(raw) > 512 * 1024 else raw
        if raw is not None:
            sent.setdefault("Content-Type", "application/json")
        if body is not None:
            import json

            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        async with self.session.request(
            method, self.base + path, data=data, headers=sent
        ) as response:
            text = await response.read()
            payload = None
            if text:
                import json

                payload = json.loads(text)
            return response.status, payload

    async def create(self, body: dict[str, Any], key: str | None = None) -> tuple[int, Any]:
        return await self.call(
            "POST", "/v1/withdrawals", body, headers={"Idempotency-Key": key or str(uuid.uuid4())}
        )

    async def wait_state(self, hold_id: str, *states: str, seconds: float = 20) -> dict[str, Any]:
        path = f"/v1/withdrawals/{hold_id}?wait=5"
        async with asyncio.timeout(seconds):
            while True:
                status, hold = await self.call("GET", path)
                assert status == 200, hold
                if hold["state"] in states:
                    return dict(hold)
                # The next poll returns on any change after this version, whatever the state.
                path = f"/v1/withdrawals/{hold_id}?wait=5&version={hold['version']}"
