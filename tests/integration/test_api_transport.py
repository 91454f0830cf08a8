"""The API's listening socket under hostile clients: huge headers and trickled request heads."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid

import pytest
import structlog

from support.api import Api
from support.nodes import ALICE, Cluster, two_node_specs

SECRET = "tgk_" + "s3cr3t" * 3000  # a "key" far over aiohttp's 8190-byte field limit


async def _raw_request(port: int, head: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    _headers, _, body = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), body


async def test_an_over_long_header_is_431_in_the_json_shape_and_never_echoed(
    cluster: Cluster,
) -> None:
    await cluster.start(*two_node_specs(bob_robot="sync-accept"))
    port = cluster.nodes[ALICE].api_port
    head = (
        f"GET /v1/withdrawals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {SECRET}\r\n\r\n"
    ).encode()
    with structlog.testing.capture_logs() as logged:
        status, body = await _raw_request(port, head)
    assert status == 431
    error = json.loads(body)["error"]
    assert error["code"] == "headers_too_large"
    assert "s3cr3t" not in body.decode()
    assert "s3cr3t" not in repr(logged)


async def test_a_broken_request_line_gets_the_json_error_shape(cluster: Cluster) -> None:
    await cluster.start(*two_node_specs(bob_robot="sync-accept"))
    status, body = await _raw_request(
        cluster.nodes[ALICE].api_port, b"GET /v1/x HTTP/1.1\r\nBad Header\r\n\r\n"
    )
    assert status == 400
    assert json.loads(body)["error"]["code"] == "bad_request"


async def _trickle(port: int, closed: list[float], started: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\n")
    try:
        for _ in range(30):
            writer.write(b"X-Slow: 1\r\n")
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1), timeout=0.25) == b"":
                    break
            except TimeoutError:
                continue
    except ConnectionError:
        pass
    closed.append(time.monotonic() - started)
    writer.close()


@pytest.mark.slow
async def test_trickled_request_heads_are_closed_after_the_header_timeout(
    cluster: Cluster,
) -> None:
    alice, bob = two_node_specs(bob_robot="sync-accept")
    alice = dataclasses.replace(alice, extra={"api": {"header_timeout": "1"}})
    await cluster.start(alice, bob)
    node = cluster.nodes[ALICE]
    closed: list[float] = []
    started = time.monotonic()
    slow = [asyncio.create_task(_trickle(node.api_port, closed, started)) for _ in range(200)]
    # While 200 connections trickle, an honest client is served.
    api = await Api.connect(node)
    try:
        status, _payload = await api.call("GET", "/v1/withdrawals")
        assert status == 200
    finally:
        await api.close()
    await asyncio.gather(*slow)
    assert len(closed) == 200
    # Each was closed by the 1 s deadline, long before its 30 trickled lines (7.5 s) ended.
    assert max(closed) < 5


async def test_a_silent_connection_is_closed_after_the_header_timeout(cluster: Cluster) -> None:
    alice, bob = two_node_specs(bob_robot="sync-accept")
    alice = dataclasses.replace(alice, extra={"api": {"header_timeout": "0.5"}})
    await cluster.start(alice, bob)
    reader, writer = await asyncio.open_connection("127.0.0.1", cluster.nodes[ALICE].api_port)
    try:
        assert await asyncio.wait_for(reader.read(), timeout=5) == b""
    finally:
        writer.close()


async def test_work_past_capacity_is_refused_at_once_with_retry_after(cluster: Cluster) -> None:
    alice, bob = two_node_specs(bob_robot="sync-accept")
    alice = dataclasses.replace(alice, extra={"api": {"max_inflight": "1", "max_long_polls": "1"}})
    await cluster.start(alice, bob)
    node = cluster.nodes[ALICE]
    api = await Api.connect(node)
    # A body that never finishes keeps the one place for work taken.
    reader, writer = await asyncio.open_connection("127.0.0.1", node.api_port)
    writer.write(
        b"POST /v1/withdrawals HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {api.key}\r\nIdempotency-Key: slow\r\n".encode()
        + b"Content-Length: 100\r\n\r\n{"
    )
    await writer.drain()
    try:
        await asyncio.sleep(0.2)
        status, payload = await api.call("GET", "/v1/withdrawals")
        assert status == 503
        assert payload["error"]["code"] == "overloaded"
        auth = {"Authorization": f"Bearer {api.key}"}
        async with api.session.get(f"{api.base}/v1/withdrawals", headers=auth) as response:
            assert response.status == 503
            assert response.headers["Retry-After"] == "1"
        # Health and metrics are always answered.
        status, _ = await api.call("GET", "/healthz", auth=False)
        assert status == 200
        # Long polls have places of their own: this one is admitted (and finds nothing).
        status, payload = await api.call("GET", f"/v1/withdrawals/{uuid.uuid4()}?wait=1")
        assert status == 404
    finally:
        writer.close()
        await api.close()
    stored = await node.gateway.db.read(lambda tx: tx.count("holds"))
    assert stored == 0
    # With the slow client gone, its place is given back and work is admitted again.
    api = await Api.connect(node)
    try:
        async with asyncio.timeout(10):
            while (await api.call("GET", "/v1/withdrawals"))[0] == 503:
                await asyncio.sleep(0.05)
    finally:
        await api.close()
    _ = reader
