"""Two travelgate nodes exchanging over TRP (mutual TLS on loopback, port 0, real SQLite).

Alice withdraws to a Travel Address Bob minted for his customer; Bob's node decides the
inquiry with its robot (the same decider as a TRISA deposit) and answers by callback or in
the 200 body. The protocol's edges (duplicate inquiry, wrong api-version, no client
certificate, unknown token, discoverability) are exercised against Bob's TRP server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import ssl
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog
from aiohttp import web

from support.api import Api, withdrawal
from support.backoffice import BackOffice
from support.nodes import ALICE, BOB, BOB_ADDRESS, Cluster, NodeSpec, TestPki, two_node_specs
from support.trp import inquiry_body
from travelgate.errors import TrpRemoteError
from travelgate.trp import (
    TrpClient,
    client_ssl_context,
    make_travel_address,
    parse_inquiry_response,
    server_ssl_context,
)

RID = "4b1d6c1e-8d0f-4b6e-9a37-0c1e5d1f7a10"


def trp_section(test_pki: TestPki, name: str, **extra: Any) -> dict[str, Any]:
    """[trp] for a node: a certificate naming its CN, localhost and 127.0.0.1."""
    cert, key = test_pki.write(
        name, folder=f"{name}-trp", dns_names=[name, "localhost"], ip_addresses=["127.0.0.1"]
    )
    return {
        "enabled": True,
        "listen": "127.0.0.1:0",
        "cert": str(cert),
        "key": str(key),
        **extra,
    }


def specs(
    test_pki: TestPki,
    *,
    bob_robot: str = "sync-accept",
    immediate: bool = False,
    bob_delay: float = 0.2,
) -> tuple[NodeSpec, NodeSpec]:
    alice, bob = two_node_specs(bob_robot=bob_robot)
    bob.delay = bob_delay
    alice.extra = {"trp": trp_section(test_pki, ALICE)}
    bob.extra = {"trp": trp_section(test_pki, BOB, immediate=immediate)}
    return alice, bob


@pytest.fixture
async def apis() -> AsyncIterator[dict[str, Api]]:
    """The internal API of each started node (filled by `start`)."""
    opened: dict[str, Api] = {}
    try:
        yield opened
    finally:
        for api in opened.values():
            await api.close()


async def start(cluster: Cluster, apis: dict[str, Api], *node_specs: NodeSpec) -> None:
    await cluster.start(*node_specs)
    for name, node in cluster.nodes.items():
        apis[name] = await Api.connect(node)


async def mint(api: Api, body: dict[str, Any] | None = None) -> dict[str, Any]:
    status, minted = await api.call("POST", "/v1/customers/bob-cust-1/travel-addresses", body or {})
    assert status == 201, minted
    return dict(minted)


def trp_withdrawal(travel_address: str, **destination: Any) -> dict[str, Any]:
    body = withdrawal(destination={"travel_address": travel_address, **destination})
    del body["beneficiary_vasp"]
    return body


async def deposits(api: Api, seconds: float = 10) -> list[dict[str, Any]]:
    status, page = await api.call("GET", "/v1/deposits")
    assert status == 200, page
    return list(page["items"])


async def deposit_in(api: Api, *states: str, seconds: float = 15) -> dict[str, Any]:
    async with asyncio.timeout(seconds):
        while True:
            items = await deposits(api)
            if items and items[0]["state"] in states:
                return items[0]
            await asyncio.sleep(0.1)


async def test_minting_names_our_server_and_the_customer_address(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    await start(cluster, apis, *specs(test_pki))
    bob = cluster.nodes[BOB]
    minted = await mint(apis[BOB], {"address": BOB_ADDRESS})
    assert minted["customer_id"] == "bob-cust-1"
    assert minted["address"] == BOB_ADDRESS
    assert minted["travel_address"].startswith("ta")
    assert minted["url"].startswith(f"https://127.0.0.1:{bob.trp_port}/transfers/")
    assert minted["url"].endswith("?t=i")
    again = await mint(apis[BOB])
    assert again["travel_address"] != minted["travel_address"]  # one token per minting
    status, error = await apis[BOB].call(
        "POST", "/v1/customers/bob-cust-1/travel-addresses", {"address": "bc1qnotours"}
    )
    assert status == 422
    assert error["error"]["code"] == "unknown_address"
    status, error = await apis[BOB].call("POST", "/v1/customers/nobody/travel-addresses", {})
    assert status == 404


async def test_a_public_url_the_go_reference_cannot_parse_is_warned_about(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    alice, bob = specs(test_pki)
    bob.extra["trp"]["public_url"] = "https://localhost:8443"
    with structlog.testing.capture_logs() as logs:
        await start(cluster, apis, alice, bob)
    warned = [entry for entry in logs if entry.get("event") == "trp public_url"]
    assert len(warned) == 1  # Alice's default https://127.0.0.1:PORT; Bob names his host
    assert warned[0]["log_level"] == "warning"
    port = cluster.nodes[ALICE].trp_port
    assert warned[0]["message"].startswith(f"Travel Addresses minted for https://127.0.0.1:{port}")
    assert "TRISA Go library" in warned[0]["message"]


async def test_approval_by_callback_clears_then_txid_completes_the_deposit(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    await start(cluster, apis, *specs(test_pki))
    minted = await mint(apis[BOB])
    status, hold = await apis[ALICE].create(trp_withdrawal(minted["travel_address"]))
    assert status == 201, hold
    assert hold["counterparty"]["protocol"] == "trp"
    cleared = await apis[ALICE].wait_state(hold["id"], "cleared", "review", "rejected")
    assert cleared["state"] == "cleared", cleared["decision"]
    assert cleared["counterparty"] == {"kind": "vasp", "name": BOB, "protocol": "trp"}
    assert cleared["decision"]["code"] == "REPLY.ACCEPTED"
    assert cleared["destination"]["approved_address"] == BOB_ADDRESS
    assert cleared["destination"]["address"] == BOB_ADDRESS
    assert cleared["destination"]["travel_address"] == minted["travel_address"]

    deposit = await deposit_in(apis[BOB], "accepted")
    assert deposit["counterparty"] == {"kind": "vasp", "name": ALICE, "protocol": "trp"}
    assert deposit["customer_id"] == "bob-cust-1"
    assert deposit["address"] == BOB_ADDRESS
    assert deposit["amount"] == "0.5"
    assert deposit["asset"] == "BTC"
    assert (
        deposit["originator"]["naturalPerson"]["name"]["nameIdentifier"][0]["primaryIdentifier"]
        == "Smith"
    )

    status, released = await apis[ALICE].call(
        "POST", f"/v1/withdrawals/{hold['id']}/broadcast", {"txid": "f00dfeed"}
    )
    assert status == 200, released
    completed = await deposit_in(apis[BOB], "completed")
    assert completed["txid"] == "f00dfeed"
    assert completed["id"] == deposit["id"]


async def test_trp_deposits_reach_the_back_office_as_deposit_webhooks(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki, tmp_path: Path
) -> None:
    backoffice = BackOffice()
    await backoffice.start()
    try:
        secret = tmp_path / "webhook.secret"
        secret.write_text("s3cret")
        alice, bob = specs(test_pki)
        bob.extra = {**bob.extra, "webhooks": {"url": backoffice.url, "secret_file": str(secret)}}
        await start(cluster, apis, alice, bob)
        minted = await mint(apis[BOB])
        status, hold = await apis[ALICE].create(trp_withdrawal(minted["travel_address"]))
        assert status == 201, hold
        await apis[ALICE].wait_state(hold["id"], "cleared")
        accepted = await backoffice.wait_for("deposit.accepted")
        assert accepted["data"]["counterparty"] == {
            "kind": "vasp",
            "name": ALICE,
            "protocol": "trp",
        }
        assert accepted["data"]["address"] == BOB_ADDRESS
        status, _ = await apis[ALICE].call(
            "POST", f"/v1/withdrawals/{hold['id']}/broadcast", {"txid": "beef"}
        )
        assert status == 200
        completed = await backoffice.wait_for("deposit.completed")
        assert completed["data"]["txid"] == "beef"
    finally:
        await backoffice.stop()


async def test_immediate_approval_and_an_address_mismatch_goes_to_review(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    await start(cluster, apis, *specs(test_pki, immediate=True))
    minted = await mint(apis[BOB])
    body = trp_withdrawal(minted["travel_address"], address=BOB_ADDRESS)
    status, hold = await apis[ALICE].create(body)
    assert status == 201, hold
    cleared = await apis[ALICE].wait_state(hold["id"], "cleared", "review", "rejected")
    assert cleared["state"] == "cleared", cleared

    body = trp_withdrawal(minted["travel_address"], address="bc1qsomeoneelse000000000000000")
    status, hold = await apis[ALICE].create(body)
    assert status == 201, hold
    review = await apis[ALICE].wait_state(hold["id"], "cleared", "review", "rejected")
    assert review["state"] == "review", review
    assert review["decision"]["code"] == "TRP.ADDRESS_MISMATCH"
    assert review["destination"]["approved_address"] == BOB_ADDRESS


async def test_rejection_rejects_the_hold_with_the_reason(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    await start(cluster, apis, *specs(test_pki, bob_robot="reject"))
    minted = await mint(apis[BOB])
    status, hold = await apis[ALICE].create(trp_withdrawal(minted["travel_address"]))
    assert status == 201, hold
    rejected = await apis[ALICE].wait_state(hold["id"], "cleared", "review", "rejected")
    assert rejected["state"] == "rejected", rejected
    assert rejected["decision"]["code"] == "REPLY.REJECTED"
    assert "compliance" in rejected["decision"]["reason"]
    deposit = await deposit_in(apis[BOB], "rejected")
    assert deposit["counterparty"]["protocol"] == "trp"


async def test_cancel_after_approval_cancels_the_deposit(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    await start(cluster, apis, *specs(test_pki))
    minted = await mint(apis[BOB])
    status, hold = await apis[ALICE].create(trp_withdrawal(minted["travel_address"]))
    assert status == 201, hold
    await apis[ALICE].wait_state(hold["id"], "cleared")
    status, canceled = await apis[ALICE].call("POST", f"/v1/withdrawals/{hold['id']}/cancel", {})
    assert status == 200, canceled
    deposit = await deposit_in(apis[BOB], "canceled")
    assert deposit["decision"]["code"] == "CANCELED"


async def test_a_pending_inquiry_is_approved_later_by_the_async_robot(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    await start(cluster, apis, *specs(test_pki, bob_robot="async-accept"))
    minted = await mint(apis[BOB])
    status, hold = await apis[ALICE].create(trp_withdrawal(minted["travel_address"]))
    assert status == 201, hold
    waiting = await apis[ALICE].wait_state(hold["id"], "awaiting_reply", "cleared")
    assert waiting["counterparty"]["name"] == BOB
    cleared = await apis[ALICE].wait_state(hold["id"], "cleared", "review", "rejected")
    assert cleared["state"] == "cleared", cleared["decision"]
    deposit = await deposit_in(apis[BOB], "accepted")
    assert deposit["counterparty"]["protocol"] == "trp"


async def test_a_deposit_in_review_is_rejected_by_a_person_at_the_callback(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    # The robot would decide only after a minute: the compliance team decides first.
    await start(cluster, apis, *specs(test_pki, bob_robot="async-accept", bob_delay=60))
    minted = await mint(apis[BOB])
    status, hold = await apis[ALICE].create(trp_withdrawal(minted["travel_address"]))
    assert status == 201, hold
    await apis[ALICE].wait_state(hold["id"], "awaiting_reply")
    deposit = await deposit_in(apis[BOB], "pending")
    status, page = await apis[BOB].call("GET", "/v1/reviews?state=open")
    assert status == 200, page
    review = next(r for r in page["items"] if r["subject_id"] == deposit["id"])
    status, decided = await apis[BOB].call(
        "POST",
        f"/v1/reviews/{review['id']}/decision",
        {"decision": "reject", "reason": "sanctions screening hit"},
    )
    assert status == 200, decided
    rejected = await apis[ALICE].wait_state(hold["id"], "cleared", "review", "rejected")
    assert rejected["state"] == "rejected", rejected["decision"]
    assert rejected["decision"]["code"] == "REPLY.REJECTED"
    assert (await deposit_in(apis[BOB], "rejected"))["decision"]["code"] == "REVIEW.REJECTED"


async def test_without_trp_minting_is_refused_and_a_travel_address_goes_to_review(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    await start(cluster, apis, *two_node_specs())
    status, error = await apis[BOB].call("POST", "/v1/customers/bob-cust-1/travel-addresses", {})
    assert status == 409
    assert error["error"]["code"] == "trp_disabled"
    address = "ta2W2HPKfHxgSgrzY178knqXHg1H3jfeQrwQ9JrKBs9wv"
    status, hold = await apis[ALICE].create(trp_withdrawal(address))
    assert status == 201, hold
    assert hold["state"] == "review"
    assert hold["decision"]["code"] == "POLICY.COUNTERPARTY_UNREACHABLE"
    assert hold["counterparty"] == {"kind": "vasp", "name": "beneficiary.com", "protocol": "trp"}
    status, error = await apis[ALICE].create(trp_withdrawal("tanotatraveladdress"))
    assert status == 422
    assert error["error"]["code"] == "invalid_travel_address"
    assert error["error"]["field"] == "destination.travel_address"


async def test_an_unreachable_trp_peer_sends_the_hold_to_review(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    alice, bob = specs(test_pki)
    alice.extra = {**alice.extra, "outbox": {"max_attempts": 1}}
    await start(cluster, apis, alice, bob)
    nowhere = make_travel_address("https://127.0.0.1:1/transfers/gone?t=i")
    status, hold = await apis[ALICE].create(trp_withdrawal(nowhere))
    assert status == 201, hold
    review = await apis[ALICE].wait_state(hold["id"], "review", "cleared")
    assert review["decision"]["code"] == "POLICY.COUNTERPARTY_UNREACHABLE"
    assert review["counterparty"]["protocol"] == "trp"
    # A colleague accepts: the inquiry goes out again (and fails again) rather than clearing.
    colleague = await Api.connect(cluster.nodes[ALICE])
    try:
        status, page = await colleague.call("GET", "/v1/reviews?state=open")
        assert status == 200, page
        item = next(r for r in page["items"] if r["subject_id"] == hold["id"])
        status, decided = await colleague.call(
            "POST",
            f"/v1/reviews/{item['id']}/decision",
            {"decision": "accept", "reason": "the beneficiary VASP says it is back"},
        )
        assert status == 200, decided
        again = await apis[ALICE].wait_state(
            hold["id"], "review", "cleared", "awaiting_reply", seconds=10
        )
        assert again["state"] in ("awaiting_reply", "review"), again
        assert again["envelope_id"] != review["envelope_id"]  # a new request-identifier
        final = await apis[ALICE].wait_state(hold["id"], "review", "cleared")
        assert final["state"] == "review"
    finally:
        await colleague.close()


async def test_a_certificate_name_our_directory_blocks_goes_to_review(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    await start(cluster, apis, *specs(test_pki))
    directory = cluster.nodes[ALICE].gateway.directory
    listed = directory.get(BOB)
    assert listed is not None
    directory.put(dataclasses.replace(listed, blocked=True))
    minted = await mint(apis[BOB])
    status, hold = await apis[ALICE].create(trp_withdrawal(minted["travel_address"]))
    assert status == 201, hold
    review = await apis[ALICE].wait_state(hold["id"], "review", "cleared")
    assert review["state"] == "review"
    assert "blocked" in review["decision"]["reason"]
    assert review["counterparty"]["name"] == BOB


# -- what Alice's inquiry carries, seen by a scripted beneficiary ----------------------


async def scripted_peer(
    test_pki: TestPki, name: str, seen: list[tuple[dict[str, str], bytes]], **cert: Any
) -> tuple[web.AppRunner, int]:
    """A TRP beneficiary that records the inquiry and acknowledges it."""

    async def transfers(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.read()))
        return web.json_response(
            {"version": "3.1.0"},
            headers={
                "api-version": "3.1.0",
                "request-identifier": request.headers["request-identifier"],
            },
        )

    app = web.Application()
    app.router.add_post("/transfers/{token}", transfers)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    cert_file, key_file = test_pki.write(name, folder=f"{name}-trp", **cert)
    site = web.TCPSite(
        runner, "127.0.0.1", 0, ssl_context=server_ssl_context(cert_file, key_file, test_pki.trust)
    )
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, int(port)


async def test_the_inquiry_carries_dti_symbol_plain_amount_callback_and_identity(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    seen: list[tuple[dict[str, str], bytes]] = []
    runner, port = await scripted_peer(
        test_pki, "carol.example", seen, dns_names=["carol.example"], ip_addresses=["127.0.0.1"]
    )
    try:
        await start(cluster, apis, *specs(test_pki))
        address = make_travel_address(f"https://127.0.0.1:{port}/transfers/abc?t=i")
        body = trp_withdrawal(address)
        body["amount"] = "0.00000010"
        status, hold = await apis[ALICE].create(body)
        assert status == 201, hold
        waiting = await apis[ALICE].wait_state(hold["id"], "awaiting_reply", "review")
        assert waiting["state"] == "awaiting_reply", waiting["decision"]
        assert waiting["counterparty"] == {
            "kind": "vasp",
            "name": "carol.example",
            "protocol": "trp",
        }
        headers, raw = seen[0]
        assert headers["api-version"] == "3.1.0"
        assert headers["request-identifier"] == waiting["envelope_id"]
        assert b'"amount":0.00000010' in raw  # a plain decimal, never 1e-07
        inquiry = json.loads(raw)
        assert inquiry["asset"] == {"dti": "4H95J0R2X", "slip0044": "BTC"}
        alice_port = cluster.nodes[ALICE].trp_port
        assert inquiry["callback"].startswith(f"https://127.0.0.1:{alice_port}/resolutions/")
        assert len(inquiry["callback"].rsplit("/", 1)[1]) >= 32  # an unguessable token
        ivms = inquiry["IVMS101"]
        person = ivms["originator"]["originatorPersons"][0]["naturalPerson"]
        assert person["name"]["nameIdentifier"][0]["primaryIdentifier"] == "Smith"
        assert ivms["beneficiary"]["accountNumber"] == [address]
        assert "originatingVASP" in ivms["originatingVASP"]
    finally:
        await runner.cleanup()


async def test_a_travel_address_too_long_for_ivms101_is_left_out_of_the_identity(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    """IVMS101 account numbers hold 100 characters; a longer Travel Address (a deep path, a
    long host) still routes the withdrawal, and the inquiry names no beneficiary account."""
    seen: list[tuple[dict[str, str], bytes]] = []
    runner, port = await scripted_peer(
        test_pki, "carol.example", seen, dns_names=["carol.example"], ip_addresses=["127.0.0.1"]
    )
    try:
        await start(cluster, apis, *specs(test_pki))
        path = "transfers/" + "account0" * 8
        address = make_travel_address(f"https://127.0.0.1:{port}/{path}?t=i")
        assert len(address) > 100
        status, hold = await apis[ALICE].create(trp_withdrawal(address))
        assert status == 201, hold
        waiting = await apis[ALICE].wait_state(hold["id"], "awaiting_reply", "review")
        assert waiting["state"] == "awaiting_reply", waiting["decision"]
        assert waiting["destination"]["travel_address"] == address
        inquiry = json.loads(seen[0][1])
        beneficiary = inquiry["IVMS101"]["beneficiary"]
        assert "accountNumber" not in beneficiary
        person = beneficiary["beneficiaryPersons"][0]["naturalPerson"]
        assert person["name"]["nameIdentifier"][0]["nameIdentifierType"] == "LEGL"
    finally:
        await runner.cleanup()


async def test_a_server_certificate_for_another_host_is_refused(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    seen: list[tuple[dict[str, str], bytes]] = []
    runner, port = await scripted_peer(test_pki, "mallory.example", seen)  # no 127.0.0.1
    try:
        await start(cluster, apis, *specs(test_pki))
        address = make_travel_address(f"https://127.0.0.1:{port}/transfers/abc?t=i")
        status, hold = await apis[ALICE].create(trp_withdrawal(address))
        assert status == 201, hold
        review = await apis[ALICE].wait_state(hold["id"], "review", "awaiting_reply", "cleared")
        assert review["state"] == "review"
        assert review["decision"]["code"] == "POLICY.COUNTERPARTY_UNREACHABLE"
        assert "certificate" in review["decision"]["reason"]
        assert seen == []
    finally:
        await runner.cleanup()


# -- the protocol's edges, against Bob's TRP server ------------------------------------


def alice_context(test_pki: TestPki) -> ssl.SSLContext:
    cert, key = test_pki.write(
        ALICE, folder=f"{ALICE}-trp", dns_names=[ALICE, "localhost"], ip_addresses=["127.0.0.1"]
    )
    return client_ssl_context(cert, key, test_pki.trust)


async def test_duplicate_inquiry_gets_the_same_answer_and_creates_nothing(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    await start(cluster, apis, *specs(test_pki, immediate=True))
    minted = await mint(apis[BOB])
    callback = f"https://127.0.0.1:{cluster.nodes[ALICE].trp_port}/resolutions/nothing"
    async with TrpClient(alice_context(test_pki)) as client:
        first = await client.post(minted["url"], inquiry_body(callback), request_identifier=RID)
        second = await client.post(minted["url"], inquiry_body(callback), request_identifier=RID)
    assert first.peer_common_name == BOB
    assert first.request_identifier == RID
    assert first.body == second.body
    answer = parse_inquiry_response(first.body)
    assert getattr(answer, "address", None) == BOB_ADDRESS
    items = await deposits(apis[BOB])
    assert len(items) == 1
    assert items[0]["envelope_id"] == RID


async def test_wrong_api_version_unknown_token_and_bad_body_are_refused(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    await start(cluster, apis, *specs(test_pki))
    minted = await mint(apis[BOB])
    callback = "https://127.0.0.1:9/resolutions/x"
    async with TrpClient(alice_context(test_pki), api_version="9.9.9") as client:
        with pytest.raises(TrpRemoteError) as raised:
            await client.post(minted["url"], inquiry_body(callback), request_identifier=RID)
    assert raised.value.peer_status == 400
    assert "3.1.0" in raised.value.message
    unknown = minted["url"].rsplit("/", 1)[0] + "/not-a-token?t=i"
    async with TrpClient(alice_context(test_pki)) as client:
        with pytest.raises(TrpRemoteError) as raised:
            await client.post(unknown, inquiry_body(callback), request_identifier=RID)
        assert raised.value.peer_status == 404
        with pytest.raises(TrpRemoteError) as raised:
            await client.post(minted["url"], b'{"asset": {}}', request_identifier=RID)
        assert raised.value.peer_status in (400, 422)
        base = minted["url"].split("/transfers/")[0]
        with pytest.raises(TrpRemoteError) as raised:
            await client.post(
                f"{base}/confirmations/nope", b'{"txid": "x"}', request_identifier=RID
            )
        assert raised.value.peer_status == 404
    assert await deposits(apis[BOB]) == []


async def test_a_client_without_certificate_is_refused(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    await start(cluster, apis, *specs(test_pki))
    minted = await mint(apis[BOB])
    context = ssl.create_default_context(cafile=str(test_pki.trust))
    async with aiohttp.ClientSession() as session:
        with pytest.raises((aiohttp.ClientError, ssl.SSLError, ConnectionError)):
            async with session.post(
                minted["url"],
                data=inquiry_body("https://127.0.0.1:9/x"),
                headers={"api-version": "3.1.0", "request-identifier": str(uuid.uuid4())},
                ssl=context,
            ) as response:
                await response.read()
    assert await deposits(apis[BOB]) == []


async def test_discoverability_endpoints(
    cluster: Cluster, apis: dict[str, Api], test_pki: TestPki
) -> None:
    await start(cluster, apis, *specs(test_pki))
    base = f"https://127.0.0.1:{cluster.nodes[BOB].trp_port}/anything"
    async with TrpClient(alice_context(test_pki)) as client:
        version = await client.get_version(base)
        extensions = await client.get_extensions(base)
        identity = await client.get_identity(base)
    assert version.version == "3.1.0"
    assert version.vendor == "travelgate"
    assert extensions.required == ()
    assert identity.name == "Bob VASP Ltd"
    assert identity.x509.startswith("-----BEGIN CERTIFICATE-----")
    context = alice_context(test_pki)
    async with aiohttp.ClientSession() as session:
        url = f"https://127.0.0.1:{cluster.nodes[BOB].trp_port}/uptime"
        async with session.get(url, ssl=context, headers={"api-version": "3.1.0"}) as response:
            assert response.status == 200
            assert response.content_type == "text/plain"
            assert (await response.text()).isdigit()
