"""`make run` and `make demo`: the gateway with a robot counterparty, by hand or scripted.

The demo drives the real internal API over HTTP: one withdrawal per robot policy, each
hold's states printed as they change, then a table; any outcome other than the expected
one makes it exit 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import sys
import tempfile
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypeVar

import aiohttp

from travelgate.cli import EXIT_INTERRUPTED
from travelgate.demo._pair import (
    ALICE,
    ALICE_CUSTOMER,
    BOB,
    BOB_ADDRESS,
    BOB_CUSTOMER,
    ensure_pki,
    load_node,
    running,
    wire,
)
from travelgate.logging import configure
from travelgate.node import Node
from travelgate.robots import RobotPolicy
from travelgate.service import SCOPES, create_api_key

FINAL = frozenset({"released", "rejected", "expired", "canceled"})
KEY_FILE = "dev-api-key"

T = TypeVar("T")


def withdrawal_body(address: str = BOB_ADDRESS) -> dict[str, Any]:
    return {
        "asset": "BTC",
        "network": "bitcoin",
        "amount": "0.5",
        "value": {"amount": "31000.00", "currency": "USD"},
        "destination": {"address": address, "tag": None},
        "originator": {"customer_id": ALICE_CUSTOMER},
        "beneficiary": {"name": "Bob Jones"},
        "beneficiary_vasp": BOB,
    }


def curl_lines(api: str) -> list[str]:
    body = (
        '{"asset": "BTC", "network": "bitcoin", "amount": "0.5", '
        '"value": {"amount": "31000.00", "currency": "USD"}, '
        f'"destination": {{"address": "{BOB_ADDRESS}", "tag": null}}, '
        f'"originator": {{"customer_id": "{ALICE_CUSTOMER}"}}, '
        '"beneficiary": {"name": "Bob Jones"}, '
        f'"beneficiary_vasp": "{BOB}"}}'
    )
    return [
        f"curl -s -X POST {api}/v1/withdrawals \\",
        '  -H "Authorization: Bearer $TRAVELGATE_API_KEY" -H "Idempotency-Key: demo-1" \\',
        f"  -H 'Content-Type: application/json' -d '{body}'",
        f'curl -s "{api}/v1/withdrawals/<id>?wait=10" \\',
        '  -H "Authorization: Bearer $TRAVELGATE_API_KEY"',
    ]


async def run_pair(root: Path, out: TextIO = sys.stdout) -> int:
    """`make run`: alice and a sync-accept robot bob until Ctrl-C or SIGTERM.

    The signals are ours from the first moment: a Ctrl-C while the PKI is being made or
    the nodes are starting stops what has started and exits 130 at once.
    """
    configure("info", "console")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        # Key generation takes seconds; a thread keeps the loop free to hear the signal.
        # The thread is a daemon: exiting does not wait for it, and the PKI files are
        # written atomically, key before certificate, so a later run completes them.
        if not await _unless_stopped(_in_daemon_thread(functools.partial(ensure_pki, root)), stop):
            return _interrupted(out)
        alice = load_node(root, "alice", level="info")
        bob = load_node(root, "bob", robot=RobotPolicy.SYNC_ACCEPT, level="info")
        started: list[Node] = []
        try:
            # alice first: a folder that cannot hold her database fails before bob starts.
            for node in (alice, bob):
                if stop.is_set():
                    break
                await node.start()
                started.append(node)
            if not stop.is_set():
                wire(bob, alice)
                await _announce(root, alice, bob, out)
                await stop.wait()
                return 0
        finally:
            for node in reversed(started):
                await node.stop(grace=1.0)
        return _interrupted(out)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def _announce(root: Path, alice: Node, bob: Node, out: TextIO) -> None:
    # The operator's own key on a dev node: every scope, the outbox (admin) included.
    _key_id, key = await create_api_key(alice.gateway.db, "make run", SCOPES)
    key_path = root / KEY_FILE
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    api = f"http://127.0.0.1:{alice.api_port}"
    lines = [
        "",
        "travelgate is running. Ctrl-C stops both nodes.",
        f"  {ALICE:15} TRISA 127.0.0.1:{alice.trisa_port}   internal API {api}",
        f"  {BOB:15} TRISA 127.0.0.1:{bob.trisa_port}   robot counterparty (sync-accept)",
        *(
            [
                f"  TRP            https://127.0.0.1:{alice.trp_port} (alice), "
                f"https://127.0.0.1:{bob.trp_port} (bob)"
            ]
            if alice.trp_server and bob.trp_server
            else []
        ),
        f"  OpenAPI        {api}/v1/openapi.json",
        f"  Console        {api}/console/ (first: travelgate user create --role admin ...)",
        "",
        f"export TRAVELGATE_API_KEY={key}      # also in {key_path}",
        "",
        *curl_lines(api),
        "",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()


def _interrupted(out: TextIO) -> int:
    out.flush()
    print("travelgate: interrupted during start-up; nothing is left running", file=sys.stderr)
    return EXIT_INTERRUPTED


def _in_daemon_thread(work: Callable[[], T]) -> asyncio.Future[T]:
    """Run blocking `work` in a daemon thread; its outcome arrives as a future."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def body() -> None:
        try:
            result = work()
        except BaseException as exc:  # handed over to the loop, which raises it
            failure = exc
            call = functools.partial(settle, lambda: future.set_exception(failure))
        else:
            call = functools.partial(settle, lambda: future.set_result(result))
        # The loop may be gone already when an interrupted run exits before us.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(call)

    threading.Thread(target=body, name="dev-pki", daemon=True).start()
    return future


async def _unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> bool:
    """Await `work` unless `stop` is set first: True when the work finished."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not task.done():
        task.cancel()
        return False
    task.result()
    return not stop.is_set()


@dataclass(frozen=True)
class Scenario:
    name: str
    robot: RobotPolicy
    address: str
    expected: str
    trp: bool = False  # to a Travel Address bob mints, over TRP instead of TRISA


SCENARIOS = (
    Scenario("sync accept", RobotPolicy.SYNC_ACCEPT, BOB_ADDRESS, "released"),
    Scenario("async accept", RobotPolicy.ASYNC_ACCEPT, BOB_ADDRESS, "released"),
    Scenario("repair", RobotPolicy.REPAIR, BOB_ADDRESS, "review"),
    Scenario("reject", RobotPolicy.REJECT, BOB_ADDRESS, "rejected"),
    Scenario(
        "unknown beneficiary", RobotPolicy.SYNC_ACCEPT, "bc1qnobody0knows0this0address", "rejected"
    ),
    Scenario("TRP travel address", RobotPolicy.SYNC_ACCEPT, BOB_ADDRESS, "released", trp=True),
    Scenario("TRP reject", RobotPolicy.REJECT, BOB_ADDRESS, "rejected", trp=True),
)


class Client:
    def __init__(self, session: aiohttp.ClientSession, base: str, key: str) -> None:
        self.session, self.base, self.key = session, base, key

    async def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        sent = {"Authorization": f"Bearer {self.key}", **headers}
        async with self.session.request(
            method, self.base + path, json=body, headers=sent
        ) as response:
            payload = await response.json()
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: HTTP {response.status}: {payload}")
            return payload


async def _follow(
    client: Client, scenario: Scenario, out: TextIO, seconds: float, bob: Node
) -> tuple[list[str], dict[str, Any]]:
    body = withdrawal_body(scenario.address)
    if scenario.trp:
        minted = await bob.gateway.trp.mint(BOB_CUSTOMER, {"address": BOB_ADDRESS})
        body["destination"] = {"travel_address": minted["travel_address"]}
        del body["beneficiary_vasp"]
    hold = await client.call(
        "POST", "/v1/withdrawals", body, **{"Idempotency-Key": str(uuid.uuid4())}
    )
    states = [hold["state"]]
    out.write(f"  {scenario.name:20} {hold['state']}")
    out.flush()
    deadline = asyncio.get_running_loop().time() + seconds
    while hold["state"] != scenario.expected and hold["state"] not in FINAL:
        if asyncio.get_running_loop().time() > deadline:
            break
        if hold["state"] == "cleared":
            hold = await client.call(
                "POST",
                f"/v1/withdrawals/{hold['id']}/broadcast",
                {"txid": f"demo-{hold['id'][:8]}"},
            )
        else:
            hold = await client.call("GET", f"/v1/withdrawals/{hold['id']}?wait=2")
        if hold["state"] != states[-1]:
            states.append(hold["state"])
            out.write(f" -> {hold['state']}")
            out.flush()
    out.write("\n")
    return states, hold


async def run_demo(root: Path, out: TextIO = sys.stdout, seconds: float = 30.0) -> int:
    """`make demo`: one withdrawal per robot policy; exit 1 if any outcome is unexpected."""
    ensure_pki(root)
    configure("warning")
    results: list[tuple[Scenario, list[str], dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="travelgate-demo-") as folder:
        state = Path(folder)
        alice = load_node(root, "alice", ephemeral=True, state=state)
        async with running(alice):
            _key_id, key = await create_api_key(alice.gateway.db, "demo")
            out.write(f"travelgate demo: {ALICE} withdraws to robot {BOB}, one policy at a time\n")
            async with aiohttp.ClientSession() as session:
                client = Client(session, f"http://127.0.0.1:{alice.api_port}", key)
                for scenario in SCENARIOS:
                    bob = load_node(
                        root, "bob", robot=scenario.robot, ephemeral=True, state=state, delay=1.0
                    )
                    async with running(bob):
                        wire(alice, bob)
                        states, hold = await _follow(client, scenario, out, seconds, bob)
                        await _settled(alice, seconds)
                    results.append((scenario, states, hold))
    return _table(results, out)


async def _settled(node: Node, seconds: float) -> None:
    """Let the outbox deliver what the scenario queued (e.g. COMPLETED) before bob stops."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        pending = await node.gateway.db.read(lambda tx: tx.gauges().outbox_pending)
        if not pending:
            return
        await asyncio.sleep(0.1)


def _table(results: list[tuple[Scenario, list[str], dict[str, Any]]], out: TextIO) -> int:
    out.write("\n")
    out.write(f"  {'scenario':20} {'robot':13} {'expected':9} {'final':9} {'ok':3} reason\n")
    failures = 0
    for scenario, states, hold in results:
        ok = states[-1] == scenario.expected
        failures += not ok
        reason = (hold.get("decision") or {}).get("reason") or ""
        out.write(
            f"  {scenario.name:20} {scenario.robot.value:13} {scenario.expected:9} "
            f"{states[-1]:9} {'yes' if ok else 'NO':3} {reason[:70]}\n"
        )
    out.write(f"\n{len(results) - failures} of {len(results)} outcomes as expected\n")
    return 1 if failures else 0
