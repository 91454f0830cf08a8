"""A hold is never cleared by mistake: reviews, originator data, unresolved destinations, our
own name, and what the hold view says about its decision and counterparty.

Every scenario runs through the real API of a real node exchanging with a real robot
counterparty over mTLS.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from support.api import Api, withdrawal
from support.nodes import ALICE, BOB, Cluster, TestPki, two_node_specs
from support.payloads import transfer_payload
from support.stores import BOTH_BACKENDS
from travelgate import envelope as env
from travelgate.api import openapi_document
from travelgate.errors import Code

pytestmark = BOTH_BACKENDS

BIG_TO_VASP = {
    "name": "big-to-vasp",
    "when": {"counterparty": "vasp", "value_above": "50000", "currency": "USD"},
    "action": "review",
}
NOBODY_ADDRESS = "bc1qnobody0knows0this0address000000000000"


@pytest.fixture
async def apis() -> AsyncIterator[list[Api]]:
    made: list[Api] = []
    yield made
    for api in made:
        await api.close()


async def _start(
    cluster: Cluster,
    apis: list[Api],
    robot: str = "sync-accept",
    *,
    alice_extra: dict[str, Any] | None = None,
) -> Api:
    alice, bob = two_node_specs(bob_robot=robot)
    if alice_extra:
        alice = dataclasses.replace(alice, extra=alice_extra)
    await cluster.start(alice, bob)
    api = await Api.connect(cluster.nodes[ALICE])
    apis.append(api)
    return api


async def _count(cluster: Cluster, name: str, table: str) -> int:
    return await cluster.nodes[name].gateway.db.read(lambda tx: tx.count(table))


async def _review_of(api: Api, hold_id: str) -> dict[str, Any]:
    status, page = await api.call("GET", "/v1/reviews?state=open")
    assert status == 200, page
    [review] = [r for r in page["items"] if r["subject_id"] == hold_id]
    return dict(review)


async def _decide(api: Api, hold_id: str, decision: str = "accept") -> dict[str, Any]:
    """A colleague decides: four eyes refuses the key that created the hold."""
    review = await _review_of(api, hold_id)
    reviewer = await Api.connect(api.node)
    try:
        status, decided = await reviewer.call(
            "POST",
            f"/v1/reviews/{review['id']}/decision",
            {"decision": decision, "reason": "large amount checked with the customer"},
        )
    finally:
        await reviewer.close()
    assert status == 200, decided
    return dict(decided)


async def _bob_conversations(cluster: Cluster) -> list[tuple[Any, ...]]:
    return await cluster.nodes[BOB].gateway.db.read(
        lambda tx: [(c.peer, c.state) for c in tx.conversations()]
    )


# -- an accepted review never replaces the exchange ------------------------------------------


async def test_accepted_review_of_a_withdrawal_to_a_vasp_starts_the_exchange(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(
        cluster, apis, "async-accept", alice_extra={"policy": {"rules": [BIG_TO_VASP]}}
    )
    status, hold = await api.create(
        withdrawal(value={"amount": "62000.00", "currency": "USD"}, beneficiary_vasp=BOB)
    )
    assert status == 201, hold
    assert hold["state"] == "review"
    assert hold["envelope_id"] is None
    assert hold["decision"]["rule"] == "rule:big-to-vasp"
    assert await _bob_conversations(cluster) == []

    await _decide(api, hold["id"])
    status, after = await api.call("GET", f"/v1/withdrawals/{hold['id']}")
    assert status == 200
    # Acceptance starts the exchange; it does not clear the hold.
    assert after["state"] == "awaiting_reply", after
    assert after["envelope_id"] is not None
    assert after["deadline"] is not None
    assert hold["decision"]["code"] == "POLICY.RULE"
    assert after["decision"]["code"] == "REVIEW.ACCEPTED"
    assert "exchange started" in after["decision"]["reason"]

    cleared = await api.wait_state(hold["id"], "cleared")
    assert cleared["decision"]["code"] == "REPLY.ACCEPTED"
    assert cleared["envelope_id"] == after["envelope_id"]
    async with asyncio.timeout(10):  # bob records its own answer after alice took it
        while await _bob_conversations(cluster) != [(ALICE, "ACCEPTED")]:
            await asyncio.sleep(0.05)


async def test_accepted_review_still_needs_the_counterparty_to_accept(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis, "reject", alice_extra={"policy": {"rules": [BIG_TO_VASP]}})
    _status, hold = await api.create(withdrawal(value={"amount": "62000.00", "currency": "USD"}))
    assert hold["state"] == "review"
    await _decide(api, hold["id"])
    rejected = await api.wait_state(hold["id"], "rejected", "cleared")
    assert rejected["state"] == "rejected"
    assert rejected["decision"]["code"] == "REPLY.REJECTED"
    assert rejected["decision"]["trisa_code"] == "COMPLIANCE_CHECK_FAIL"


async def test_acceptance_clears_only_where_no_exchange_is_possible(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis)
    _status, hold = await api.create(
        withdrawal(beneficiary_vasp=None, destination={"address": NOBODY_ADDRESS})
    )
    assert hold["state"] == "review"
    await _decide(api, hold["id"])
    status, cleared = await api.call("GET", f"/v1/withdrawals/{hold['id']}")
    assert status == 200
    assert cleared["state"] == "cleared"
    assert cleared["envelope_id"] is None
    assert cleared["decision"]["code"] == "REVIEW.ACCEPTED"
    assert "no exchange possible" in cleared["decision"]["reason"]


async def test_acceptance_after_the_outbox_gave_up_clears_and_says_so(
    cluster: Cluster, apis: list[Api]
) -> None:
    alice, bob = two_node_specs()
    alice = dataclasses.replace(
        alice, extra={"outbox": {"max_attempts": 2, "base_delay": "0.05", "max_delay": "0.1"}}
    )
    await cluster.start(alice, bob)
    await cluster.nodes[BOB].stop(grace=0)
    del cluster.nodes[BOB]
    api = await Api.connect(cluster.nodes[ALICE])
    apis.append(api)
    _status, hold = await api.create(withdrawal())
    review = await api.wait_state(hold["id"], "review")
    assert review["decision"]["code"] == "POLICY.COUNTERPARTY_UNREACHABLE"
    await _decide(api, hold["id"])
    status, cleared = await api.call("GET", f"/v1/withdrawals/{hold['id']}")
    assert status == 200
    assert cleared["state"] == "cleared"
    assert cleared["decision"]["code"] == "REVIEW.ACCEPTED"
    assert "the outbox gave up" in cleared["decision"]["reason"]


async def test_rejected_review_ends_the_hold(cluster: Cluster, apis: list[Api]) -> None:
    api = await _start(cluster, apis, alice_extra={"policy": {"rules": [BIG_TO_VASP]}})
    _status, hold = await api.create(withdrawal(value={"amount": "62000.00", "currency": "USD"}))
    await _decide(api, hold["id"], "reject")
    status, rejected = await api.call("GET", f"/v1/withdrawals/{hold['id']}")
    assert status == 200
    assert rejected["state"] == "rejected"
    assert rejected["decision"]["code"] == "REVIEW.REJECTED"
    assert await _bob_conversations(cluster) == []


# -- stored originators are held to the originator rules ------------------------------------

NAME_ONLY = {
    "naturalPerson": {
        "name": {
            "nameIdentifier": [
                {
                    "primaryIdentifier": "Doe",
                    "secondaryIdentifier": "Jane",
                    "nameIdentifierType": "LEGL",
                }
            ]
        }
    }
}


async def test_stored_customer_failing_the_originator_rules_is_never_sent(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis)
    status, customer = await api.call(
        "PUT", "/v1/customers/cust-3", {"person": NAME_ONLY, "addresses": []}
    )
    assert status == 201, customer
    status, error = await api.create(withdrawal(originator={"customer_id": "cust-3"}))
    assert status == 422, error
    assert error["error"]["code"] == "invalid_originator"
    assert error["error"]["field"] == "originator"
    assert "C1" in error["error"]["message"]

    assert customer["originator_ready"] is False
    assert [v["rule"] for v in customer["violations"]] == ["C1"]
    status, shown = await api.call("GET", "/v1/customers/cust-3")
    assert status == 200
    assert shown["originator_ready"] is False
    assert shown["violations"] == customer["violations"]
    status, inline = await api.create(
        withdrawal(originator={"person": NAME_ONLY, "account": "bc1qjane"})
    )
    assert status == 422, inline
    assert (inline["error"]["code"], inline["error"]["field"]) == (
        "invalid_originator",
        "originator",
    )
    assert await _count(cluster, ALICE, "holds") == 0
    assert await _count(cluster, ALICE, "outbox") == 0
    assert await _bob_conversations(cluster) == []

    status, ready = await api.call("GET", "/v1/customers/cust-1")
    assert status == 200
    assert (ready["originator_ready"], ready["violations"]) == (True, [])


# -- the destination is declared or resolved, never assumed ----------------------------------


async def test_unresolved_undeclared_destination_goes_to_review(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis)
    status, hold = await api.create(
        withdrawal(beneficiary_vasp=None, destination={"address": NOBODY_ADDRESS})
    )
    assert status == 201, hold
    assert hold["state"] == "review"
    assert hold["decision"]["code"] == "COUNTERPARTY.UNKNOWN"
    assert hold["counterparty"] == {"kind": "unknown", "name": None, "protocol": None}
    assert (await _review_of(api, hold["id"]))["reason"] == "COUNTERPARTY.UNKNOWN"


async def test_declared_self_hosted_destination_is_decided_by_the_profiles(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis)
    status, hold = await api.create(
        withdrawal(
            beneficiary_vasp=None,
            destination={"address": NOBODY_ADDRESS, "kind": "self_hosted"},
        )
    )
    assert status == 201, hold
    assert hold["counterparty"] == {"kind": "self_hosted", "name": None, "protocol": None}
    assert hold["destination"]["kind"] == "self_hosted"
    # FATF-R16 asks no ownership evidence for a self-hosted wallet.
    assert (hold["state"], hold["decision"]["code"]) == ("cleared", "POLICY.COMPLETE")


async def test_eu_self_hosted_above_the_limit_waits_for_an_ownership_check(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis, alice_extra={"policy": {"profiles": ["EU-TFR"]}})
    _status, hold = await api.create(
        withdrawal(
            value={"amount": "1500.00", "currency": "EUR"},
            beneficiary_vasp=None,
            destination={"address": NOBODY_ADDRESS, "kind": "self_hosted"},
        )
    )
    assert hold["state"] == "review", hold
    assert hold["decision"]["code"] == "SELF_HOSTED.UNVERIFIED"


@pytest.mark.parametrize(
    ("destination", "vasp", "code", "field"),
    [
        ({"address": BOB, "kind": "vasp"}, None, "missing_field", "beneficiary_vasp"),
        ({"address": BOB, "kind": "self_hosted"}, BOB, "invalid_field", "beneficiary_vasp"),
        ({"address": BOB, "kind": "exchange"}, BOB, "invalid_value", "destination.kind"),
    ],
    ids=["vasp-without-name", "self-hosted-with-a-vasp", "unknown-kind"],
)
async def test_destination_kind_must_agree_with_the_body(
    cluster: Cluster,
    apis: list[Api],
    destination: dict[str, str],
    vasp: str | None,
    code: str,
    field: str,
) -> None:
    api = await _start(cluster, apis)
    body = withdrawal(destination=destination, beneficiary_vasp=vasp)
    if vasp is None:
        del body["beneficiary_vasp"]
    status, error = await api.create(body)
    assert status == 422, error
    assert (error["error"]["code"], error["error"]["field"]) == (code, field)
    assert await _count(cluster, ALICE, "holds") == 0


# -- our own name ------------------------------------------------------------------------------


async def test_withdrawal_to_our_own_name_is_refused(cluster: Cluster, apis: list[Api]) -> None:
    api = await _start(cluster, apis)
    status, error = await api.create(withdrawal(beneficiary_vasp=ALICE.upper()))
    assert status == 422, error
    assert (error["error"]["code"], error["error"]["field"]) == ("own_vasp", "beneficiary_vasp")
    assert await _count(cluster, ALICE, "holds") == 0
    assert await _count(cluster, ALICE, "outbox") == 0


async def test_inbound_transfer_presenting_our_own_certificate_is_forbidden(
    cluster: Cluster, test_pki: TestPki
) -> None:
    await cluster.start(*two_node_specs())
    bob = cluster.nodes[BOB]
    envelope = env.seal(transfer_payload(), bob.gateway.credentials.sealing_key.public_key())
    stub = cluster.stub(BOB, test_pki.identity(BOB))
    reply = await stub.Transfer(envelope, timeout=10)
    assert (reply.error.code, reply.error.retry) == (Code.FORBIDDEN, False)
    assert "own certificate" in reply.error.message
    for table in ("envelopes", "conversations", "reviews"):
        assert await _count(cluster, BOB, table) == 0


# -- the hold view: decision codes and what the hold holds ----------------------------------


async def test_hold_view_echoes_the_request_and_the_returned_beneficiary(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis)
    body = withdrawal()
    status, hold = await api.create(body, key="withdrawal-77")
    assert status == 201, hold
    assert hold["decision"] == {
        "code": "POLICY.COMPLETE",
        "reason": "POLICY.COMPLETE",
        "rule": "profile:FATF-R16",
        "trisa_code": None,
    }
    assert hold["value"] == body["value"]
    assert hold["beneficiary"] == body["beneficiary"]
    assert hold["beneficiary_vasp"] == BOB
    assert hold["idempotency_key"] == "withdrawal-77"
    assert hold["originator"] == {"customer_id": "cust-1"}
    assert (hold["beneficiary_identity"], hold["beneficiary_match"]) == (None, None)

    cleared = await api.wait_state(hold["id"], "cleared")
    assert cleared["decision"]["code"] == "REPLY.ACCEPTED"
    assert cleared["decision"]["trisa_code"] is None
    returned = cleared["beneficiary_identity"]
    [person] = returned["beneficiaryPersons"]
    [name] = person["naturalPerson"]["name"]["nameIdentifier"]
    assert (name["primaryIdentifier"], name["secondaryIdentifier"]) == ("Jones", "Bob")
    # "Bob Jones" as typed is Bob's KYC name, given name first.
    assert cleared["beneficiary_match"] == "exact"


async def test_beneficiary_written_differently_is_a_close_match(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis)
    _status, hold = await api.create(withdrawal(beneficiary={"name": "JONES, bob"}))
    cleared = await api.wait_state(hold["id"], "cleared", "review", "rejected")
    assert cleared["state"] == "cleared", cleared
    assert cleared["beneficiary_match"] == "close"


async def test_refusal_carries_the_peer_trisa_code(cluster: Cluster, apis: list[Api]) -> None:
    api = await _start(cluster, apis)
    _status, hold = await api.create(withdrawal(destination={"address": "bc1qnot0bobs"}))
    rejected = await api.wait_state(hold["id"], "rejected")
    assert rejected["decision"]["code"] == "REPLY.REJECTED"
    assert rejected["decision"]["trisa_code"] == "UNKNOWN_WALLET_ADDRESS"
    assert rejected["decision"]["rule"] == "reply:rejected"


async def test_openapi_lists_every_decision_code(cluster: Cluster) -> None:
    from travelgate.transfers import DecisionCode

    schema = openapi_document()["components"]["schemas"]["Decision"]
    description = schema["properties"]["code"]["description"]
    for code in DecisionCode:
        assert f"`{code.value}`" in description
    assert set(schema["properties"]) == {"code", "reason", "rule", "trisa_code"}


async def test_decision_codes_survive_a_broadcast_and_a_cancel(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis)
    _status, first = await api.create(withdrawal())
    await api.wait_state(first["id"], "cleared")
    status, released = await api.call(
        "POST", f"/v1/withdrawals/{first['id']}/broadcast", {"txid": "0xfeed"}
    )
    assert status == 200
    assert released["decision"]["code"] == "BROADCAST"
    _status, second = await api.create(withdrawal())
    await api.wait_state(second["id"], "cleared")
    status, canceled = await api.call("POST", f"/v1/withdrawals/{second['id']}/cancel")
    assert status == 200
    assert canceled["decision"]["code"] == "CANCELED"
    async with asyncio.timeout(10):
        while sorted(s for _p, s in await _bob_conversations(cluster)) != [
            "CANCELED",
            "COMPLETED",
        ]:
            await asyncio.sleep(0.05)


async def test_blocked_withdrawal_is_accepted_only_once_our_data_is_complete(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis, alice_extra={"policy": {"profiles": ["EU-TFR"]}})
    dated_only = {
        "naturalPerson": {
            **NAME_ONLY["naturalPerson"],
            "dateAndPlaceOfBirth": {"dateOfBirth": "1980-01-31", "placeOfBirth": "London"},
        }
    }
    status, customer = await api.call(
        "PUT", "/v1/customers/cust-4", {"person": dated_only, "addresses": []}
    )
    assert status == 201, customer
    assert customer["originator_ready"] is True  # IVMS101 C1 holds; EU-TFR wants more
    value = {"amount": "2000.00", "currency": "EUR"}
    _status, hold = await api.create(withdrawal(value=value, originator={"customer_id": "cust-4"}))
    assert (hold["state"], hold["decision"]["code"]) == ("review", "POLICY.OWN_DATA_MISSING")
    review = await _review_of(api, hold["id"])
    decision = {"decision": "accept", "reason": "customer called"}
    reviewer = await Api.connect(api.node)
    status, refused = await reviewer.call("POST", f"/v1/reviews/{review['id']}/decision", decision)
    assert status == 409, refused
    assert refused["error"]["code"] == "own_data_missing"
    status, still = await api.call("GET", f"/v1/withdrawals/{hold['id']}")
    assert (still["state"], still["envelope_id"]) == ("review", None)

    complete = {"naturalPerson": {**dated_only["naturalPerson"], **person_address()}}
    status, _fixed = await api.call(
        "PUT", "/v1/customers/cust-4", {"person": complete, "addresses": []}
    )
    assert status == 200
    status, decided = await reviewer.call("POST", f"/v1/reviews/{review['id']}/decision", decision)
    await reviewer.close()
    assert status == 200, decided
    cleared = await api.wait_state(hold["id"], "cleared", "review", "rejected")
    assert cleared["decision"]["code"] == "REPLY.ACCEPTED", cleared


def person_address() -> dict[str, Any]:
    return {
        "geographicAddress": [
            {
                "addressType": "HOME",
                "streetName": "High Street",
                "buildingNumber": "1",
                "townName": "London",
                "country": "GB",
            }
        ]
    }
