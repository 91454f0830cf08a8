"""Screenshots of the compliance console for the README: `make screenshots`.

Usage: python scripts/screenshots.py [OUT_DIR]   (default docs/screenshots)

Starts a scripted dev setup in a throw-away folder (its own CA; alice the gateway, bob a
robot counterparty, carol a counterparty that never answers), fills it with realistic
demo data through the real internal API (withdrawals cleared, released, reviewed,
rejected, canceled, a dead letter, a deposit), enrols three people, then signs in with
Debian's Chromium and saves each main page as a 1280x800 PNG. Nothing outside the
throw-away folder and OUT_DIR is touched; no browser is ever downloaded.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from travelgate import pki
from travelgate._toml import render_toml
from travelgate.config import load_config
from travelgate.demo._pair import wire
from travelgate.logging import configure
from travelgate.node import Node, build_node
from travelgate.robots import RobotPolicy
from travelgate.service import SCOPES, create_api_key, create_user, totp

ALICE, BOB, CAROL = "alice.example", "bob.example", "carol.example"
BOB_ADDRESS = "bc1qbob0customer00000000000000000000000000"
BOB_SECOND = "bc1qchloe0martin0000000000000000000000000"
CAROL_ADDRESS = "bc1qcarol0customer000000000000000000000000"
NOBODY_ADDRESS = "bc1qunknown0wallet0000000000000000000000000"
ALICE_ADDRESS = "bc1qalice0customer0000000000000000000000"
VIEWPORT = {"width": 1280, "height": 800}


def person(
    family: str, given: str, street: str, town: str, country: str, born: str, **extra: Any
) -> dict[str, Any]:
    natural: dict[str, Any] = {
        "name": {
            "nameIdentifier": [
                {
                    "primaryIdentifier": family,
                    "secondaryIdentifier": given,
                    "nameIdentifierType": "LEGL",
                }
            ]
        },
        "geographicAddress": [
            {
                "addressType": "HOME",
                "streetName": street,
                "buildingNumber": "12",
                "postCode": "10115" if country == "DE" else "EC1A 1BB",
                "townName": town,
                "country": country,
            }
        ],
        "dateAndPlaceOfBirth": {"dateOfBirth": born, "placeOfBirth": town},
        "countryOfResidence": country,
        **extra,
    }
    return {"naturalPerson": natural}


ALICE_CUSTOMERS = [
    {
        "id": "cust-1",
        "addresses": [ALICE_ADDRESS],
        "person": person("Smith", "Alice", "Clerkenwell Road", "London", "GB", "1984-03-12"),
    },
    {
        "id": "cust-2",
        "addresses": [],
        "person": person(
            "Weber",
            "Jonas",
            "Invalidenstrasse",
            "Berlin",
            "DE",
            "1979-11-02",
            nationalIdentification={
                "nationalIdentifier": "C01X00T47",
                "nationalIdentifierType": "CCPT",
                "countryOfIssue": "DE",
            },
        ),
    },
    {
        "id": "cust-3",
        "addresses": [],
        "person": person("Raman", "Priya", "Deansgate", "Manchester", "GB", "1991-07-25"),
    },
]
BOB_CUSTOMERS = [
    {
        "id": "bob-cust-1",
        "addresses": [BOB_ADDRESS],
        "person": person("Jones", "Bob", "Piccadilly", "Manchester", "GB", "1975-05-30"),
    },
    {
        "id": "bob-cust-2",
        "addresses": [BOB_SECOND],
        "person": person("Martin", "Chloe", "Rue de Rivoli", "London", "GB", "1988-09-14"),
    },
]
BIG_TO_VASP = {
    "name": "big-to-vasp",
    "when": {"counterparty": "vasp", "value_above": "50000", "currency": "USD"},
    "action": "review",
}


def write_setup(root: Path) -> dict[str, Path]:
    """A CA, three identities, the peers file and the two nodes' configs."""
    ca = pki.make_authority("travelgate screenshots CA", key_size=2048)
    (root / "ca.pem").write_bytes(ca.cert_pem)
    for name in (ALICE, BOB, CAROL):
        pki.write_identity(root / name, pki.issue_identity(ca, name, key_size=2048))
    peers = [
        {"name": BOB, "endpoint": "127.0.0.1:1", "cert": f"{BOB}/cert.pem"},
        {"name": ALICE, "endpoint": "127.0.0.1:1", "cert": f"{ALICE}/cert.pem"},
        {
            "name": CAROL,
            "endpoint": "127.0.0.1:1",
            "cert": f"{CAROL}/cert.pem",
            "addresses": [CAROL_ADDRESS],
        },
    ]
    (root / "peers.toml").write_text(render_toml({"peer": peers}))
    configs = {}
    for name, legal, customers, extra in (
        (
            ALICE,
            "Alice VASP Ltd",
            ALICE_CUSTOMERS,
            {"policy": {"rules": [BIG_TO_VASP]}, "outbox": {"max_attempts": 1, "base_delay": "1s"}},
        ),
        (BOB, "Bob VASP Ltd", BOB_CUSTOMERS, {}),
    ):
        document: dict[str, Any] = {
            "node": {
                "name": name,
                "legal_name": legal,
                "country": "GB",
                "trisa_listen": "127.0.0.1:0",
                "api_listen": "127.0.0.1:0",
                "database": f"{name}.db",
            },
            "tls": {"cert": f"{name}/cert.pem", "key": f"{name}/key.pem", "trust": "ca.pem"},
            "storage": {"key_file": f"{name}.key", "audit_key_file": f"{name}.audit.key"},
            "directory": {"file": "peers.toml"},
            "logging": {"level": "error"},
            "customers": customers,
            **extra,
        }
        path = root / f"{name}.toml"
        path.write_text(render_toml(document))
        configs[name] = path
    return configs


class Api:
    def __init__(self, session: aiohttp.ClientSession, node: Node, key: str) -> None:
        self.session, self.base = session, f"http://127.0.0.1:{node.api_port}"
        self.headers = {"Authorization": f"Bearer {key}"}

    async def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        async with self.session.request(
            method, self.base + path, json=body, headers={**self.headers, **headers}
        ) as response:
            return await response.json()

    async def hold(
        self, customer: str, amount: str, usd: str, address: str, vasp: str | None, name: str
    ) -> dict[str, Any]:
        body = {
            "asset": "BTC",
            "network": "bitcoin",
            "amount": amount,
            "value": {"amount": usd, "currency": "USD"},
            "destination": {"address": address, "tag": None},
            "originator": {"customer_id": customer},
            "beneficiary": {"name": name},
            "beneficiary_vasp": vasp,
        }
        return dict(
            await self.call(
                "POST", "/v1/withdrawals", body, **{"Idempotency-Key": str(uuid.uuid4())}
            )
        )

    async def settle(self, hold_id: str, *states: str) -> dict[str, Any]:
        for _ in range(30):
            hold = await self.call("GET", f"/v1/withdrawals/{hold_id}?wait=1")
            if hold["state"] in states:
                return dict(hold)
        raise RuntimeError(f"withdrawal {hold_id} never reached {states}: {hold['state']}")


async def start(config: Path, robot: RobotPolicy | None = None) -> Node:
    node = build_node(load_config(config), robot=robot, delay=0.3)
    await node.start()
    return node


async def fill(configs: dict[str, Path], alice: Node) -> dict[str, Person]:
    """Demo data through alice's internal API, bob changing its robot policy between."""
    _id, key = await create_api_key(alice.gateway.db, "withdrawal service", SCOPES)
    async with aiohttp.ClientSession() as session:
        api = Api(session, alice, key)
        bob = await start(configs[BOB], RobotPolicy.SYNC_ACCEPT)
        wire(alice, bob)
        released = await api.hold("cust-1", "0.5", "31000.00", BOB_ADDRESS, BOB, "Bob Jones")
        await api.settle(released["id"], "cleared")
        await api.call(
            "POST",
            f"/v1/withdrawals/{released['id']}/broadcast",
            {"txid": "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"},
        )
        cleared = await api.hold("cust-2", "0.12", "7400.00", BOB_SECOND, BOB, "Chloe Martin")
        await api.settle(cleared["id"], "cleared")
        await api.hold("cust-3", "1.05", "64800.00", BOB_ADDRESS, BOB, "Bob Jones")
        reviewed = await api.hold("cust-1", "0.9", "55200.00", BOB_ADDRESS, BOB, "Bob Jones")
        await bob.stop(grace=0.5)

        bob = await start(configs[BOB], RobotPolicy.REJECT)
        wire(alice, bob)
        rejected = await api.hold("cust-2", "0.3", "18500.00", BOB_SECOND, BOB, "Chloe Martin")
        await api.settle(rejected["id"], "rejected")
        await bob.stop(grace=0.5)

        unreachable = await api.hold("cust-3", "0.2", "12300.00", CAROL_ADDRESS, CAROL, "Dan Wu")
        await api.settle(unreachable["id"], "review")
        unknown = await api.hold("cust-1", "0.05", "3100.00", NOBODY_ADDRESS, None, "M. Rossi")
        await api.call(
            "POST",
            f"/v1/withdrawals/{unknown['id']}/cancel",
            {"reason": "customer withdrew the request"},
        )

        # Bob as a gateway of its own sends alice a deposit for her customer.
        bob = await start(configs[BOB])
        wire(alice, bob)
        _bob_id, bob_key = await create_api_key(bob.gateway.db, "screens", SCOPES)
        bob_api = Api(session, bob, bob_key)
        deposit = await bob_api.hold(
            "bob-cust-1", "0.25", "15400.00", ALICE_ADDRESS, ALICE, "Alice Smith"
        )
        await bob_api.settle(deposit["id"], "awaiting_reply", "cleared", "review", "rejected")
        await bob.stop(grace=0.5)
        wire(alice)

        people = await enrol(alice)
        review = (await api.call("GET", "/v1/reviews?state=open"))["items"]
        mine = [r for r in review if r["subject_id"] == reviewed["id"]]
        if mine:
            tom = people["compliance"].actor
            await alice.gateway.reviews.decide(
                mine[0]["id"],
                {"decision": "reject", "reason": "source of funds not shown"},
                tom,
                tom,
            )
    return people


@dataclass(frozen=True)
class Person:
    actor: str
    email: str
    password: str
    secret: bytes


async def enrol(alice: Node) -> dict[str, Person]:
    """Three people, by role."""
    people = {}
    for role, email in (
        ("admin", "maria.keller@alice.example"),
        ("compliance", "tom.fischer@alice.example"),
        ("observer", "auditor@alice.example"),
    ):
        enrolment = await create_user(alice.gateway.db, email, role, actor="operator")
        encoded = parse_qs(urlsplit(enrolment.totp_uri).query)["secret"][0]
        secret = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
        people[role] = Person(
            f"user:{enrolment.user.id}", email, enrolment.one_time_password, secret
        )
    return people


def chromium() -> str:
    found = os.environ.get("TRAVELGATE_TEST_CHROMIUM") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else shutil.which("chromium")
    )
    if not found:
        raise SystemExit("screenshots need Debian's chromium (apt-get install chromium)")
    return found


async def shoot(alice: Node, admin: Person, out: Path) -> list[Path]:
    from playwright.async_api import async_playwright

    base = f"http://127.0.0.1:{alice.api_port}/console"
    holds = await alice.gateway.db.read(
        lambda tx: tx.holds_page(state=None, before=None, limit=50, only=None)
    )
    released = next(h.id for h in holds if h.state == "released")
    shots = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium(), headless=True)
        context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        page = await context.new_page()
        await page.goto(f"{base}/sign-in")
        shots.append(await save(page, out, "sign-in"))
        await page.get_by_label("Email").fill(admin.email)
        await page.get_by_label("Password").fill(admin.password)
        await page.get_by_label("Code from your authenticator app").fill(totp(admin.secret))
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(f"{base}/password")
        chosen = "correct horse battery staple"
        await page.get_by_label("Current password").fill(admin.password)
        await page.get_by_label("New password (at least 12 characters)").fill(chosen)
        await page.get_by_label("New password again").fill(chosen)
        await page.get_by_role("button", name="Change password").click()
        await page.wait_for_url(f"{base}/?notice=password")
        for name, path in (
            ("dashboard", "/"),
            ("withdrawals", "/withdrawals"),
            ("withdrawal", f"/withdrawals/{released}?show=identities"),
            ("reviews", "/reviews"),
            ("deposits", "/deposits"),
            ("counterparties", "/counterparties"),
            ("audit", "/audit"),
            ("exports", "/exports"),
            ("users", "/users"),
            ("api-keys", "/api-keys"),
        ):
            await page.goto(base + path)
            shots.append(await save(page, out, name))
        await page.goto(f"{base}/withdrawals/{released}?show=identities#identities")
        shots.append(await save(page, out, "identities"))
        phone = await browser.new_context(
            viewport={"width": 390, "height": 844}, storage_state=await context.storage_state()
        )
        small = await phone.new_page()
        await small.goto(f"{base}/withdrawals/{released}")
        shots.append(await save(small, out, "withdrawal-phone"))
        await browser.close()
    return shots


async def save(page: Any, out: Path, name: str) -> Path:
    target = out / f"{name}.png"
    await page.screenshot(path=str(target))
    return target


async def main(out: Path) -> int:
    configure("error")
    with tempfile.TemporaryDirectory(prefix="travelgate-screens-") as folder:
        root = Path(folder)
        configs = write_setup(root)
        alice = await start(configs[ALICE])
        try:
            people = await fill(configs, alice)
            shots = await shoot(alice, people["admin"], out)
        finally:
            await alice.stop(grace=0.5)
    for shot in shots:
        sys.stdout.write(f"{shot}\n")
    return 0


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    sys.exit(asyncio.run(main(folder)))
