"""Inbound transfers that policy sends to a person, and envelopes that cannot be delivered."""

from __future__ import annotations

import dataclasses

from support.api import Api, withdrawal
from support.nodes import ALICE, BOB, Cluster, two_node_specs


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
        assert waiting["counterparty"] == BOB
        status, page = await bob_api.call("GET", "/v1/reviews?state=open")
        assert status == 200
        [review] = page["items"]
        assert review["kind"] == "deposit"
        assert review["reason"] == "POLICY.BENEFICIARY_NAME_MISMATCH"
        status, decided = await bob_api.call(
            "POST",
            f"/v1/reviews/{review['id']}/decision",
            {"decision": "accept", "reason": "Robert is Bob; checked the KYC file"},
        )
        assert (status, decided["state"]) == (200, "accepted")
        cleared = await alice_api.wait_state(hold["id"], "cleared")
        assert cleared["decision"]["rule"] == "reply:accepted"
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
