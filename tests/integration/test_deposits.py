"""Inbound transfers that policy sends to a person, and envelopes that cannot be delivered."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from pathlib import Path
from typing import Any

from support.api import Api, withdrawal
from support.backoffice import BackOffice
from support.nodes import ALICE, BOB, BOB_ADDRESS, Cluster, two_node_specs
from support.stores import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS


async def test_deposit_review_accepted_calls_the_originator_back(cluster: Cluster) -> None:
    """Bob's policy sends a name mismatch to review: PENDING now, a person accepts, Bob's own
    Transfer (ACCEPTED, same id) reaches Alice, whose hold clears (TRISA asynchronous transfers)."""
    alice, bob = two_node_specs(bob_robot=None)
    bob = dataclasses.replace(bob, extra={"policy": {"name_mismatch": "review"}})
    await cluster.start(alice, bob)
    alice_api = await Api.connect(cluster.nodes[ALICE])
    bob_api = await Api.connect(cluster.nodes[BOB])
    try:
        _status, hold = await alice_api.create(withdrawal(beneficiary={"name": "Robert Jones"}))
        waiting = await alice_api.wait_state(hold["id"], "awaiting_reply")
        assert waiting["counterparty"]["name"] == BOB
        status, page = await bob_api.call("GET", "/v1/reviews?state=open")
        assert status == 200
        [review] = page["items"]
        assert review["kind"] == "deposit"
        assert review["reason"] == "POLICY.BENEFICIARY_NAME_MISMATCH"
        # The review names the deposit and says what it is about.
        status, deposit = await bob_api.call("GET", f"/v1/deposits/{review['subject_id']}")
        assert (status, deposit["state"]) == (200, "pending")
        assert (review["amount"], review["asset"], review["customer_id"]) == (
            "0.5",
            "BTC",
            "bob-cust-1",
        )
        assert review["counterparty"] == {"kind": "vasp", "name": ALICE, "protocol": "trisa"}
        status, decided = await bob_api.call(
            "POST",
            f"/v1/reviews/{review['id']}/decision",
            {"decision": "accept", "reason": "Robert is Bob; checked the KYC file"},
        )
        assert (status, decided["state"]) == (200, "accepted")
        cleared = await alice_api.wait_state(hold["id"], "cleared")
        assert cleared["decision"]["rule"] == "reply:accepted"
        status, deposit = await bob_api.call("GET", f"/v1/deposits/{review['subject_id']}")
        assert deposit["decision"]["code"] == "REVIEW.ACCEPTED"
        assert deposit["decision"]["reason"] == "Robert is Bob; checked the KYC file"
        status, conflict = await bob_api.call(
            "POST", f"/v1/reviews/{review['id']}/decision", {"decision": "reject", "reason": "x"}
        )
        assert status == 409
        assert conflict["error"]["code"] == "illegal_state"
    finally:
        await alice_api.close()
        await bob_api.close()


async def test_deposit_review_rejected_rejects_the_withdrawal(cluster: Cluster) -> None:
    alice, bob = two_node_specs(bob_robot=None)
    bob = dataclasses.replace(bob, extra={"policy": {"name_mismatch": "review"}})
    await cluster.start(alice, bob)
    alice_api = await Api.connect(cluster.nodes[ALICE])
    bob_api = await Api.connect(cluster.nodes[BOB])
    try:
        _status, hold = await alice_api.create(withdrawal(beneficiary={"name": "Mallory Eve"}))
        await alice_api.wait_state(hold["id"], "awaiting_reply")
        _status, page = await bob_api.call("GET", "/v1/reviews?state=open")
        review = page["items"][0]
        await bob_api.call(
            "POST",
            f"/v1/reviews/{review['id']}/decision",
            {"decision": "reject", "reason": "not our customer's name"},
        )
        rejected = await alice_api.wait_state(hold["id"], "rejected")
        assert "REJECTED" in rejected["decision"]["reason"]
    finally:
        await alice_api.close()
        await bob_api.close()


async def test_undeliverable_envelope_becomes_a_visible_dead_letter(cluster: Cluster) -> None:
    alice, bob = two_node_specs(bob_robot="sync-accept")
    alice = dataclasses.replace(
        alice, extra={"outbox": {"max_attempts": 2, "base_delay": "0.05", "max_delay": "0.1"}}
    )
    await cluster.start(alice, bob)
    await cluster.nodes[BOB].stop(grace=0)  # the counterparty goes away
    del cluster.nodes[BOB]
    api = await Api.connect(cluster.nodes[ALICE])
    try:
        _status, hold = await api.create(withdrawal())
        review = await api.wait_state(hold["id"], "review")
        assert "POLICY.COUNTERPARTY_UNREACHABLE" in review["decision"]["reason"]
        status, dead = await api.call("GET", "/v1/outbox?state=dead")
        assert status == 200
        [letter] = [item for item in dead["items"] if item["kind"] == "transfer"]
        assert letter["withdrawal_id"] == hold["id"]
        assert letter["attempts"] == 2
        assert "UNAVAILABLE" in letter["last_error"]
    finally:
        await api.close()


async def _deposit_when(api: Api, deposit_id: str, state: str) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            status, deposit = await api.call("GET", f"/v1/deposits/{deposit_id}")
            assert status == 200, deposit
            if deposit["state"] == state:
                return dict(deposit)
            await asyncio.sleep(0.05)


async def test_deposits_show_what_arrived_and_webhooks_carry_the_view(
    cluster: Cluster, tmp_path: Path
) -> None:
    office = BackOffice()
    await office.start()
    secret = tmp_path / "hook.secret"
    secret.write_text("deposits")
    alice, bob = two_node_specs(bob_robot=None)
    bob = dataclasses.replace(
        bob,
        extra={
            "webhooks": {"url": office.url, "secret_file": str(secret)},
            "outbox": {"base_delay": "0.05"},
        },
    )
    await cluster.start(alice, bob)
    alice_api = await Api.connect(cluster.nodes[ALICE])
    bob_api = await Api.connect(cluster.nodes[BOB])
    try:
        _status, hold = await alice_api.create(withdrawal())
        await alice_api.wait_state(hold["id"], "cleared")
        status, page = await bob_api.call("GET", "/v1/deposits")
        assert status == 200, page
        [deposit] = page["items"]
        assert str(uuid.UUID(deposit["id"])) == deposit["id"]
        assert deposit["state"] == "accepted"
        assert deposit["counterparty"] == {"kind": "vasp", "name": ALICE, "protocol": "trisa"}
        assert deposit["customer_id"] == "bob-cust-1"
        assert (deposit["asset"], deposit["network"], deposit["amount"]) == (
            "BTC",
            "bitcoin",
            "0.5",
        )
        assert (deposit["address"], deposit["tag"], deposit["txid"]) == (BOB_ADDRESS, None, None)
        assert deposit["envelope_id"] == hold["envelope_id"].lower()
        name = deposit["originator"]["naturalPerson"]["name"]["nameIdentifier"][0]
        assert name["primaryIdentifier"] == "Smith"
        assert "Alice VASP Ltd" in str(deposit["originating_vasp"])
        assert deposit["decision"]["code"].startswith("POLICY.")
        assert deposit["decision"]["trisa_code"] is None
        status, one = await bob_api.call("GET", f"/v1/deposits/{deposit['id']}")
        assert (status, one) == (200, deposit)

        async def count(query: str) -> int:
            status, page = await bob_api.call("GET", f"/v1/deposits?{query}")
            assert status == 200, page
            return len(page["items"])

        assert await count("state=accepted") == 1
        assert await count("state=pending") == 0
        assert await count("customer_id=bob-cust-1") == 1
        assert await count("customer_id=nobody") == 0
        assert await count(f"counterparty={ALICE}") == 1
        assert await count("counterparty=mallory.example") == 0
        status, error = await bob_api.call("GET", "/v1/deposits?state=lost")
        assert (status, error["error"]["code"]) == (400, "bad_state")
        for missing in ("nope", str(uuid.uuid4())):
            status, error = await bob_api.call("GET", f"/v1/deposits/{missing}")
            assert (status, error["error"]["code"]) == (404, "not_found")

        event = await office.wait_for("deposit.accepted")
        assert event["data"]["id"] == deposit["id"]
        assert set(event["data"]) == set(deposit)
        assert event["data"]["originator"] == deposit["originator"]

        await alice_api.call("POST", f"/v1/withdrawals/{hold['id']}/broadcast", {"txid": "0xbeef"})
        completed = await _deposit_when(bob_api, deposit["id"], "completed")
        assert completed["txid"] == "0xbeef"
        assert completed["version"] > deposit["version"]
        event = await office.wait_for("deposit.completed")
        assert (event["data"]["id"], event["data"]["txid"]) == (deposit["id"], "0xbeef")
    finally:
        await alice_api.close()
        await bob_api.close()
        await office.stop()
