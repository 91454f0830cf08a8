"""People of the console and a browser-less client of its pages, for integration tests.

People are enrolled through the same service as `travelgate user create`; their TOTP codes
are computed from the enrolment's secret, as an authenticator app would.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from support.api import Api, withdrawal
from support.nodes import ALICE, Cluster, two_node_specs
from travelgate.node import Node
from travelgate.service import create_user, totp
from travelgate.store import Store

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Person:
    """A person of the console; `password` becomes their own once they chose it."""

    email: str
    password: str
    secret: bytes
    user_id: str
    role: str

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}"

    def code(self) -> str:
        return totp(self.secret)


def secret_of(uri: str) -> bytes:
    encoded = parse_qs(urlsplit(uri).query)["secret"][0]
    return base64.b32decode(encoded + "=" * (-len(encoded) % 8))


async def enrol(db: Store, role: str, email: str | None = None) -> Person:
    email = email or f"{role}@alice.example"
    enrolment = await create_user(db, email, role, actor="operator")
    return Person(
        email, enrolment.one_time_password, secret_of(enrolment.totp_uri), enrolment.user.id, role
    )


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


class ConsoleClient:
    """Cookies kept as a browser keeps them (Secure ones too, on this loopback origin)."""

    def __init__(self, api_port: int) -> None:
        self.base = f"http://127.0.0.1:{api_port}"
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[self.base])
        self.session = aiohttp.ClientSession(cookie_jar=jar)

    async def close(self) -> None:
        await self.session.close()

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(self.base + path, allow_redirects=False) as response:
            return response.status, await response.text()

    async def post(
        self, path: str, data: dict[str, str] | list[tuple[str, str]], *, csrf: str | None = None
    ) -> tuple[int, str, str | None]:
        """POST a form (with the CSRF token of `path`'s page unless one is given); the
        status, the body and the Location of a redirect."""
        fields = list(data.items()) if isinstance(data, dict) else list(data)
        if csrf is not None:
            fields.append(("csrf_token", csrf))
        async with self.session.post(
            self.base + path, data=fields, allow_redirects=False
        ) as response:
            return response.status, await response.text(), response.headers.get("Location")

    async def csrf(self, path: str = "/console/") -> str:
        status, html = await self.get(path)
        assert status == 200, (status, html)
        return csrf_of(html)

    async def choose_password(self, person: Person) -> None:
        chosen = f"{person.password}-own-{len(person.password)}"
        token = await self.csrf("/console/password")
        status, body, location = await self.post(
            "/console/password",
            {"current": person.password, "password": chosen, "confirm": chosen},
            csrf=token,
        )
        assert (status, location) == (303, "/console/?notice=password"), body
        person.password = chosen

    async def sign_in(
        self, person: Person, *, code: str | None = None, password: str | None = None
    ) -> tuple[int, str, str | None]:
        token = await self.csrf("/console/sign-in")
        return await self.post(
            "/console/sign-in",
            {
                "email": person.email,
                "password": person.password if password is None else password,
                "code": person.code() if code is None else code,
            },
            csrf=token,
        )


BIG_TO_VASP = {
    "name": "big-to-vasp",
    "when": {"counterparty": "vasp", "value_above": "50000", "currency": "USD"},
    "action": "review",
}
BIG = {"amount": "62000.00", "currency": "USD"}


@dataclasses.dataclass
class Console:
    node: Node
    api: Api
    clients: list[ConsoleClient]

    def client(self) -> ConsoleClient:
        made = ConsoleClient(self.node.api_port)
        self.clients.append(made)
        return made

    async def signed_in(self, person: Person) -> ConsoleClient:
        """A client signed in as `person`, who has chosen their own password (the
        one-time password opens nothing else)."""
        client = self.client()
        status, body, location = await client.sign_in(person)
        assert (status, location) == (303, "/console/"), body
        status, _ = await client.get("/console/")
        if status == 303:
            await client.choose_password(person)
        return client

    async def review_hold(self) -> tuple[str, str]:
        """A withdrawal the API's key created, sent to review by policy: (hold, review)."""
        status, hold = await self.api.create(withdrawal(value=BIG))
        assert status == 201, hold
        assert hold["state"] == "review"
        status, page = await self.api.call("GET", "/v1/reviews?state=open")
        [review] = [r for r in page["items"] if r["subject_id"] == hold["id"]]
        return hold["id"], review["id"]

    async def audit(self, action: str) -> list[Any]:
        def read(tx: Any) -> list[Any]:
            return [r for r in tx.audit_records() if r.action == action]

        return await self.node.gateway.db.read(read)


async def start_console(cluster: Cluster, **console: Any) -> AsyncIterator[Console]:
    """Alice (reviews withdrawals over 50,000 USD to a VASP) and Bob (a robot that
    accepts a moment later), with `[console]` settings for alice."""
    alice, bob = two_node_specs(bob_robot="async-accept")
    extra: dict[str, Any] = {"policy": {"rules": [BIG_TO_VASP]}}
    if console:
        extra["console"] = console
    await cluster.start(dataclasses.replace(alice, extra=extra), bob)
    node = cluster.nodes[ALICE]
    api = await Api.connect(node)
    made = Console(node, api, [])
    try:
        yield made
    finally:
        for client in made.clients:
            await client.close()
        await api.close()
