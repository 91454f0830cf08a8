"""A node with one counterparty on no travel-rule network (Carol, reached by email), a
real SMTP server, and a browser-like client of its sunrise pages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp

from support.api import withdrawal
from support.nodes import ALICE, NodeSpec, two_node_specs
from travelgate._toml import render_toml

CAROL = "carol.example"
CAROL_EMAIL = "compliance@carol.example"
CAROL_ADDRESS = "bc1qcarol0customer000000000000000000000000"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def alice_with_email(
    tmp_path: Path,
    smtp_port: int,
    *,
    email_code: bool = False,
    webhook_url: str = "",
    max_attempts: int = 12,
) -> NodeSpec:
    """Alice, whose peers file lists only Carol (email, no endpoint)."""
    peers = tmp_path / "sunrise-peers.toml"
    entry: dict[str, Any] = {"name": CAROL, "email": CAROL_EMAIL, "addresses": [CAROL_ADDRESS]}
    if email_code:
        entry["email_code"] = True
    peers.write_text(render_toml({"peer": [entry]}))
    extra: dict[str, Any] = {
        "directory": {"file": str(peers)},
        "email": {
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "from": "travel-rule@alice.example",
            "starttls": False,
            "timeout": 5,
        },
        "outbox": {
            "base_delay": "0.05",
            "max_delay": "0.2",
            "max_attempts": max_attempts,
            "expiry_interval": "0.1",
        },
    }
    if webhook_url:
        secret = tmp_path / "webhook.secret"
        secret.write_text("sunrise-secret")
        extra["webhooks"] = {"url": webhook_url, "secret_file": str(secret)}
    alice, _bob = two_node_specs()
    assert alice.name == ALICE
    return NodeSpec(alice.name, alice.legal_name, alice.customers, extra=extra)


def to_carol(**changes: Any) -> dict[str, Any]:
    """A withdrawal to Carol, the counterparty reached by email."""
    return withdrawal(
        **{
            "destination": {"address": CAROL_ADDRESS, "tag": None},
            "beneficiary": {"name": "Carl Brown"},
            "beneficiary_vasp": CAROL,
            **changes,
        }
    )


GOOD_BENEFICIARY = {
    "kind": "natural",
    "family_name": "Brown",
    "given_names": "Carl",
    "country": "GB",
    "street": "Mill Lane",
    "building": "7",
    "postcode": "M1 1AA",
    "town": "Manchester",
    "address_country": "GB",
}


class Visitor:
    """What a counterparty's browser does with a link, without a browser: cookies kept."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def close(self) -> None:
        await self.session.close()

    async def open(self) -> tuple[int, str, dict[str, str]]:
        async with self.session.get(self.url) as response:
            text = await response.text()
            self._remember(text)
            return response.status, text, dict(response.headers)

    async def post(
        self, fields: dict[str, str], path: str = "", *, csrf: bool = True
    ) -> tuple[int, str]:
        data = {**fields, **({"csrf": self.csrf} if csrf else {})}
        async with self.session.post(self.url + path, data=data) as response:
            text = await response.text()
            self._remember(text)
            return response.status, text

    def _remember(self, text: str) -> None:
        match = _CSRF.search(text)
        if match:
            self.csrf = match.group(1)
