"""`travelgate serve --workers N`: real worker processes behind shared ports, supervised."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from support.nodes import ALICE, BOB, TestPki, two_node_specs, write_config, write_peers
from support.payloads import transfer_payload
from support.processes import NodeProcess, run_cli
from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2, api_pb2_grpc
from travelgate.supervisor import cores

GRACE = 6


@pytest.fixture
def bob_config(test_pki: TestPki, tmp_path: Path) -> Path:
    _alice, bob = two_node_specs(bob_robot=None)
    bob.extra = {"trisa": {"grace_seconds": GRACE}}
    test_pki.write(ALICE)  # the peer that calls bob
    write_peers(test_pki.root, [ALICE, BOB])
    return write_config(test_pki, bob, database=tmp_path / "bob.db")


def _started(node: NodeProcess) -> dict[str, Any]:
    node.wait_started(timeout=60)
    return next(e for e in node.events() if e.get("event") == "node started")


@pytest.fixture
def two_workers(bob_config: Path) -> Iterator[tuple[NodeProcess, dict[str, Any]]]:
    node = NodeProcess("serve", "--config", str(bob_config), "--workers", "2")
    try:
        yield node, _started(node)
    finally:
        node.stop_quietly()


def _worker_of(api_port: int) -> tuple[int, int]:
    """(index, pid) of the worker that answered a fresh connection's /healthz."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{api_port}/healthz", headers={"Connection": "close"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        assert response.status == 200
        index, pid = response.headers["Travelgate-Worker"].split("; pid=")
    return int(index), int(pid)


def _answering(api_port: int, tries: int = 200) -> set[tuple[int, int]]:
    seen: set[tuple[int, int]] = set()
    for _ in range(tries):
        seen.add(_worker_of(api_port))
        if len(seen) == 2:
            break
    return seen


def _running(pid: int) -> bool:
    """Whether `pid` still runs (an exited child nobody has reaped yet does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _channel(test_pki: TestPki, port: int) -> grpc.aio.Channel:
    alice = test_pki.identity(ALICE)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=test_pki.ca.cert_pem,
        private_key=alice.key_pem,
        certificate_chain=alice.chain_pem,
    )
    return grpc.aio.secure_channel(
        f"127.0.0.1:{port}", credentials, options=[("grpc.ssl_target_name_override", BOB)]
    )


def _sealed(test_pki: TestPki) -> api_pb2.SecureEnvelope:
    key = test_pki.identity(BOB).certificate.public_key()
    return env.seal(transfer_payload(), key)  # type: ignore[arg-type]


def test_both_workers_answer_the_api_and_trisa_on_shared_ports(
    two_workers: tuple[NodeProcess, dict[str, Any]], test_pki: TestPki, bob_config: Path
) -> None:
    node, started = two_workers
    assert started["workers"] == 2
    pids = started["pids"]
    assert len(set(pids)) == 2
    assert node.process.pid not in pids
    seen = _answering(started["api_port"])
    assert {pid for _index, pid in seen} == set(pids)
    assert {index for index, _pid in seen} == {0, 1}

    async def transfers() -> list[api_pb2.SecureEnvelope]:
        # A channel per call: each is a new connection the kernel may give either worker.
        replies = []
        for _ in range(6):
            async with _channel(test_pki, started["trisa_port"]) as channel:
                stub = api_pb2_grpc.TRISANetworkStub(channel)
                replies.append(await stub.Transfer(_sealed(test_pki), timeout=20))
        return replies

    for reply in asyncio.run(transfers()):
        assert reply.transfer_state == api_pb2.ACCEPTED, reply
    # An authenticated API call answered by each worker (the key was made by another process).
    made = run_cli("apikey", "create", "--config", str(bob_config), "--scope", "customers")
    assert made.returncode == 0, made.stderr.decode()
    key = made.stdout.decode().strip()
    answered: set[int] = set()
    for _ in range(200):
        request = urllib.request.Request(
            f"http://127.0.0.1:{started['api_port']}/v1/customers",
            headers={"Connection": "close", "Authorization": f"Bearer {key}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            assert response.status == 200
            assert json.load(response)["items"][0]["id"] == "bob-cust-1"
            answered.add(int(response.headers["Travelgate-Worker"].split(";")[0]))
        if answered == {0, 1}:
            break
    assert answered == {0, 1}
    # Both workers logged their start, each with its index; the parent logged once.
    events = node.events()
    starts = [e["worker"] for e in events if e.get("event") == "worker started"]
    assert sorted(starts) == [0, 1], "\n".join(node.lines)
    assert [e for e in events if e.get("event") == "node started"] == [started]
    assert sum(1 for e in events if e.get("event") == "envelope" and "worker" in e) >= 6


def test_sigterm_drains_in_flight_calls_and_exits_zero_within_the_grace(
    two_workers: tuple[NodeProcess, dict[str, Any]], test_pki: TestPki
) -> None:
    node, started = two_workers

    async def stream_across_the_signal() -> list[api_pb2.SecureEnvelope]:
        async with _channel(test_pki, started["trisa_port"]) as channel:
            stub = api_pb2_grpc.TRISANetworkStub(channel)
            call = stub.TransferStream()
            await call.write(_sealed(test_pki))
            first = await call.read()
            # The stream is in flight on one worker: stop the node under it.
            node.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(1.0)
            await call.write(_sealed(test_pki))
            second = await call.read()
            await call.done_writing()
            assert await call.read() is grpc.aio.EOF
            assert isinstance(first, api_pb2.SecureEnvelope)
            assert isinstance(second, api_pb2.SecureEnvelope)
            return [first, second]

    began = time.monotonic()
    replies = asyncio.run(stream_across_the_signal())
    assert [reply.transfer_state for reply in replies] == [api_pb2.ACCEPTED] * 2
    assert node.process.wait(timeout=GRACE + 10) == 0
    assert time.monotonic() - began < GRACE + 5
    events = node.events()
    stopped = [e for e in events if e.get("event") == "node stopped"]
    assert sorted(e.get("worker", -1) for e in stopped) == [-1, 0, 1]
    assert not any(_running(pid) for pid in started["pids"])


def test_a_killed_worker_is_restarted_with_a_new_pid(
    two_workers: tuple[NodeProcess, dict[str, Any]],
) -> None:
    node, started = two_workers
    victim = started["pids"][1]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    restarted = None
    while restarted is None and time.monotonic() < deadline:
        restarted = next((e for e in node.events() if e.get("event") == "worker restarted"), None)
        time.sleep(0.1)
    assert restarted is not None, "\n".join(node.lines)
    died = next(e for e in node.events() if e.get("event") == "worker died: restarting")
    assert died["pid"] == victim
    assert died["exit_code"] == -signal.SIGKILL
    assert died["worker"] == restarted["worker"] == 1
    assert restarted["pid"] != victim
    seen = _answering(started["api_port"])
    assert {pid for _index, pid in seen} == {started["pids"][0], restarted["pid"]}
    assert node.terminate() == 0


def test_a_worker_that_keeps_dying_stops_the_node_with_exit_1(bob_config: Path) -> None:
    node = NodeProcess("serve", "--config", str(bob_config), "--workers", "2")
    try:
        started = _started(node)
        # Kill worker 1 each time it comes back: the parent gives up after five quick deaths.
        killed = {started["pids"][1]}
        os.kill(started["pids"][1], signal.SIGKILL)
        deadline = time.monotonic() + 90
        while node.process.poll() is None and time.monotonic() < deadline:
            for event in node.events():
                if event.get("event") == "worker restarted" and event["pid"] not in killed:
                    killed.add(event["pid"])
                    os.kill(event["pid"], signal.SIGKILL)
            time.sleep(0.05)
        assert node.process.wait(timeout=30) == 1
        assert any(e.get("event") == "worker keeps dying: stopping the node" for e in node.events())
        assert len(killed) == 5
    finally:
        node.stop_quietly()


def test_workers_zero_means_one_per_core(bob_config: Path) -> None:
    if cores() < 2:
        pytest.skip("one core here: --workers 0 is the single-process node")
    node = NodeProcess("serve", "--config", str(bob_config), "--workers", "0")
    try:
        started = _started(node)
        assert started["workers"] == cores()
        assert len(set(started["pids"])) == cores()
        assert node.terminate() == 0
    finally:
        node.stop_quietly()


@pytest.mark.parametrize("value", ["-1", "x", "1.5", ""])
def test_bad_worker_counts_are_usage_errors(bob_config: Path, value: str) -> None:
    done = run_cli("serve", "--config", str(bob_config), "--workers", value)
    assert done.returncode == 2
    message = done.stderr.decode()
    assert "--workers" in message
    assert "0 (one worker per core) or a positive number" in message
    assert "Traceback" not in message


def test_a_port_in_use_stops_the_parent_before_any_worker(bob_config: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        text = bob_config.read_text().replace(
            'trisa_listen = "127.0.0.1:0"', f'trisa_listen = "127.0.0.1:{port}"'
        )
        busy = bob_config.with_name("busy.toml")
        busy.write_text(text)
        done = run_cli("serve", "--config", str(busy), "--workers", "2")
    assert done.returncode == 1
    message = done.stderr.decode()
    assert f"[node] trisa_listen 127.0.0.1:{port}: address already in use" in message
    assert "worker started" not in message


def test_workers_of_a_killed_parent_drain_and_exit(
    two_workers: tuple[NodeProcess, dict[str, Any]],
) -> None:
    node, started = two_workers
    node.kill()  # SIGKILL: the parent cannot pass anything on
    deadline = time.monotonic() + GRACE + 10
    alive = set(started["pids"])
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if _running(pid)}
        time.sleep(0.1)
    assert not alive, f"workers {alive} outlived their parent"
