"""The integrator's API: long polls that return on news, filters, strict query parameters,
the customers page, review items that say what they are about, bodies, OpenAPI, gauges."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from support.api import Api, withdrawal
from support.nodes import ALICE, BOB, Cluster, person, two_node_specs


@pytest.fixture
async def apis() -> AsyncIterator[list[Api]]:
    made: list[Api] = []
    yield made
    for api in made:
        await api.close()


async def _start(cluster: Cluster, apis: list[Api], robot: str, **alice_extra: Any) -> Api:
    alice, bob = two_node_specs(bob_robot=robot)
    if alice_extra:
        alice = dataclasses.replace(alice, extra=alice_extra)
    await cluster.start(alice, bob)
    return await _another_key(cluster, apis)


async def _another_key(cluster: Cluster, apis: list[Api], **options: Any) -> Api:
    api = await Api.connect(cluster.nodes[ALICE], **options)
    apis.append(api)
    return api


async def _timed(api: Api, path: str) -> tuple[float, dict[str, Any]]:
    started = time.monotonic()
    status, hold = await api.call("GET", path)
    assert status == 200, hold
    return time.monotonic() - started, dict(hold)


# -- long polls --------------------------------------------------------------------------


async def test_the_walkthrough_long_poll_returns_when_the_hold_cleared(
    cluster: Cluster, apis: list[Api]
) -> None:
    """The README's `?wait=10` after a POST: it answers when the hold cleared, and at once
    for a hold that is no longer held or awaiting a reply."""
    api = await _start(cluster, apis, "sync-accept")
    _status, hold = await api.create(withdrawal())
    elapsed, polled = await _timed(api, f"/v1/withdrawals/{hold['id']}?wait=30")
    assert polled["state"] != "held"
    assert elapsed < 15  # well before the 30 s of the wait
    cleared = await api.wait_state(hold["id"], "cleared")
    elapsed, again = await _timed(api, f"/v1/withdrawals/{hold['id']}?wait=30")
    assert again["state"] == "cleared"
    assert elapsed < 5  # not waiting for a change that is not coming
    assert again["version"] == cleared["version"]


async def test_long_poll_with_a_version_returns_on_any_change(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis, "sync-accept")
    _status, hold = await api.create(withdrawal())
    cleared = await api.wait_state(hold["id"], "cleared")
    version = cleared["version"]
    path = f"/v1/withdrawals/{hold['id']}"
    # A version the client has not seen yet: the hold at once.
    elapsed, stale = await _timed(api, f"{path}?wait=30&version={version - 1}")
    assert (stale["version"], elapsed < 5) == (version, True)
    # The current version: nothing new for 1 s, the same hold after the wait.
    elapsed, same = await _timed(api, f"{path}?wait=1&version={version}")
    assert same["version"] == version
    assert elapsed >= 0.9
    # The current version while the broadcast happens: the released hold, early.
    poll = asyncio.create_task(_timed(api, f"{path}?wait=30&version={version}"))
    await asyncio.sleep(0.3)
    status, _released = await api.call("POST", f"{path}/broadcast", {"txid": "0xfeed"})
    assert status == 200
    elapsed, news = await poll
    assert news["state"] == "released"
    assert news["version"] > version
    assert elapsed < 15
    status, error = await api.call("GET", f"{path}?wait=1&version=-1")
    assert (status, error["error"]["code"], error["error"]["field"]) == (
        400,
        "bad_version",
        "version",
    )


# -- finding withdrawals -----------------------------------------------------------------


async def test_withdrawals_filter_by_customer_counterparty_and_creation_time(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis, "reject")
    status, _customer = await api.call(
        "PUT", "/v1/customers/cust-2", {"person": person("Brown", "Carol"), "addresses": []}
    )
    assert status == 201
    holds = []
    for customer in ("cust-1", "cust-2", "cust-1"):
        _status, hold = await api.create(withdrawal(originator={"customer_id": customer}))
        holds.append(hold)
    first, second, third = holds

    async def ids(query: str) -> list[str]:
        status, page = await api.call("GET", f"/v1/withdrawals?{query}")
        assert status == 200, page
        return [item["id"] for item in page["items"]]

    assert await ids("customer_id=cust-2") == [second["id"]]
    assert await ids("customer_id=cust-1") == [third["id"], first["id"]]
    assert await ids(f"counterparty={BOB}") == [third["id"], second["id"], first["id"]]
    assert await ids("counterparty=nobody.example") == []
    assert await ids(f"created_after={first['created_at']}") == [third["id"], second["id"]]
    assert await ids(f"created_before={third['created_at']}") == [second["id"], first["id"]]
    assert await ids(
        f"created_after={first['created_at']}&created_before={third['created_at']}"
        "&customer_id=cust-2"
    ) == [second["id"]]
    for hold in holds:
        await api.wait_state(hold["id"], "rejected")
    assert await ids("state=rejected&customer_id=cust-1&limit=1") == [third["id"]]


@pytest.mark.parametrize(
    ("path", "code", "field"),
    [
        ("/v1/withdrawals?stat=review", "unknown_parameter", "stat"),
        ("/v1/withdrawals?state=held&state=review", "repeated_parameter", "state"),
        ("/v1/withdrawals?limit=1&limit=2", "repeated_parameter", "limit"),
        ("/v1/withdrawals?created_after=yesterday", "bad_time", "created_after"),
        ("/v1/withdrawals?created_before=2026-01-01T00:00:00", "bad_time", "created_before"),
        ("/v1/withdrawals/x?wait=1&wiat=2", "unknown_parameter", "wiat"),
        ("/v1/reviews?kind=deposit", "unknown_parameter", "kind"),
        ("/v1/customers?state=open", "unknown_parameter", "state"),
        ("/v1/deposits?withdrawal=x", "unknown_parameter", "withdrawal"),
        ("/v1/customers/cust-1?verbose=1", "unknown_parameter", "verbose"),
    ],
)
async def test_unknown_or_repeated_query_parameters_are_named(
    cluster: Cluster, apis: list[Api], path: str, code: str, field: str
) -> None:
    api = await _start(cluster, apis, "sync-accept")
    status, error = await api.call("GET", path)
    assert status == 400, error
    assert (error["error"]["code"], error["error"]["field"]) == (code, field)
    assert field in error["error"]["message"]


# -- customers and reviews ---------------------------------------------------------------


async def test_customers_page_and_put_follows_its_schema(cluster: Cluster, apis: list[Api]) -> None:
    api = await _start(cluster, apis, "sync-accept")
    status, error = await api.call(
        "PUT", "/v1/customers/cust-9", {"person": person("Green", "Dan")}
    )
    assert (status, error["error"]["code"], error["error"]["field"]) == (
        422,
        "missing_field",
        "addresses",
    )
    made = ["cust-1"]
    for number in range(2, 6):
        status, customer = await api.call(
            "PUT",
            f"/v1/customers/cust-{number}",
            {"person": person("Green", f"Dan{number}"), "addresses": []},
        )
        assert (status, customer["addresses"]) == (201, [])
        made.append(f"cust-{number}")
    seen: list[str] = []
    cursor = ""
    while True:
        status, page = await api.call(
            "GET", f"/v1/customers?limit=2{'&cursor=' + cursor if cursor else ''}"
        )
        assert status == 200, page
        assert len(page["items"]) <= 2
        seen.extend(item["id"] for item in page["items"])
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == list(reversed(made))
    assert page["items"][-1]["person"]["naturalPerson"]["name"]


async def test_review_items_say_what_they_hold_and_four_eyes_decide(
    cluster: Cluster, apis: list[Api]
) -> None:
    creator = await _start(cluster, apis, "repair")
    _status, hold = await creator.create(withdrawal())
    await creator.wait_state(hold["id"], "review")
    status, page = await creator.call("GET", "/v1/reviews?state=open")
    assert status == 200
    [item] = page["items"]
    status, review = await creator.call("GET", f"/v1/reviews/{item['id']}")
    assert status == 200
    assert review == item
    assert review["kind"] == "withdrawal"
    assert review["subject_id"] == hold["id"]
    assert (review["amount"], review["asset"], review["network"]) == ("0.5", "BTC", "bitcoin")
    assert review["value"] == {"amount": "31000.00", "currency": "USD"}
    assert review["customer_id"] == "cust-1"
    assert review["counterparty"] == {"kind": "vasp", "name": BOB, "protocol": "trisa"}
    # Four eyes: the key that made the withdrawal cannot let it through.
    status, refused = await creator.call(
        "POST", f"/v1/reviews/{review['id']}/decision", {"decision": "accept", "reason": "ok"}
    )
    assert (status, refused["error"]["code"]) == (409, "four_eyes")
    status, still = await creator.call("GET", f"/v1/reviews/{review['id']}")
    assert still["state"] == "open"
    reviewer = await _another_key(cluster, apis)
    status, decided = await reviewer.call(
        "POST",
        f"/v1/reviews/{review['id']}/decision",
        {"decision": "accept", "reason": "checked by phone"},
    )
    assert (status, decided["state"]) == (200, "accepted")
    status, missing = await reviewer.call("GET", "/v1/reviews/nope")
    assert (status, missing["error"]["code"]) == (404, "not_found")


async def test_four_eyes_can_be_turned_off_for_a_single_operator(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis, "repair", api={"four_eyes": False})
    _status, hold = await api.create(withdrawal())
    await api.wait_state(hold["id"], "review")
    _status, page = await api.call("GET", "/v1/reviews?state=open")
    status, decided = await api.call(
        "POST",
        f"/v1/reviews/{page['items'][0]['id']}/decision",
        {"decision": "reject", "reason": "one operator, one decision"},
    )
    assert (status, decided["state"]) == (200, "rejected")


async def test_unknown_decision_value_is_invalid_value(cluster: Cluster, apis: list[Api]) -> None:
    api = await _start(cluster, apis, "sync-accept")
    status, error = await api.call(
        "POST", "/v1/reviews/x/decision", {"decision": "approve", "reason": "r"}
    )
    assert (status, error["error"]["code"], error["error"]["field"]) == (
        422,
        "invalid_value",
        "decision",
    )
    status, error = await api.call("POST", "/v1/reviews/x/decision", {"reason": "r"})
    assert (status, error["error"]["code"]) == (422, "missing_field")


# -- keys and idempotency ----------------------------------------------------------------


async def test_idempotency_keys_are_scoped_to_the_node(cluster: Cluster, apis: list[Api]) -> None:
    """A key rotation in the middle of a retry must not hold the withdrawal twice."""
    old = await _start(cluster, apis, "sync-accept")
    new = await _another_key(cluster, apis)
    status, hold = await old.create(withdrawal(), key="payout-77")
    assert status == 201
    status, again = await new.create(withdrawal(), key="payout-77")
    assert (status, again["id"]) == (200, hold["id"])
    status, conflict = await new.create(withdrawal(amount="0.7"), key="payout-77")
    assert (status, conflict["error"]["code"]) == (409, "idempotency_conflict")
    count = await cluster.nodes[ALICE].gateway.db.read(lambda tx: tx.count("holds"))
    assert count == 1


async def test_scopes_are_enforced_per_endpoint(cluster: Cluster, apis: list[Api]) -> None:
    await _start(cluster, apis, "sync-accept")
    deposits_only = await _another_key(cluster, apis, scopes=("deposits",))
    status, error = await deposits_only.create(withdrawal())
    assert (status, error["error"]["code"]) == (403, "forbidden_scope")
    assert "withdrawals" in error["error"]["message"]
    for path in ("/v1/withdrawals", "/v1/customers", "/v1/reviews", "/v1/outbox"):
        status, _error = await deposits_only.call("GET", path)
        assert status == 403, path
    status, page = await deposits_only.call("GET", "/v1/deposits")
    assert (status, page["items"]) == (200, [])
    status, _document = await deposits_only.call("GET", "/v1/openapi.json")
    assert status == 200
    holds = await cluster.nodes[ALICE].gateway.db.read(lambda tx: tx.count("holds"))
    assert holds == 0


# -- bodies ------------------------------------------------------------------------------


async def test_cancel_records_its_reason(cluster: Cluster, apis: list[Api]) -> None:
    api = await _start(cluster, apis, "sync-accept")
    _status, hold = await api.create(withdrawal())
    await api.wait_state(hold["id"], "cleared")
    path = f"/v1/withdrawals/{hold['id']}/cancel"
    for body, code, field in (
        ({"why": "x"}, "unknown_field", "why"),
        ({"reason": "  "}, "invalid_field", "reason"),
        ({"reason": 7}, "invalid_field", "reason"),
        (["reason"], "invalid_field", "body"),
    ):
        status, error = await api.call("POST", path, body)
        assert (status, error["error"]["code"], error["error"]["field"]) == (422, code, field)
    status, canceled = await api.call("POST", path, {"reason": "the customer changed their mind"})
    assert status == 200, canceled
    assert canceled["state"] == "canceled"
    assert canceled["decision"]["reason"] == "the customer changed their mind"
    trail = await cluster.nodes[ALICE].gateway.db.read(lambda tx: tx.audit_of(f"hold:{hold['id']}"))
    assert trail[-1]["detail"]["reason"] == "the customer changed their mind"


async def test_openapi_describes_the_new_endpoints_and_parameters(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis, "sync-accept")
    status, document = await api.call("GET", "/v1/openapi.json", auth=False)
    assert status == 200
    paths = document["paths"]
    for path in (
        "/v1/deposits",
        "/v1/deposits/{id}",
        "/v1/customers",
        "/v1/reviews/{id}",
        "/metrics",
        "/healthz",
    ):
        assert path in paths, path
    names = {p["name"] for p in paths["/v1/withdrawals"]["get"]["parameters"]}
    assert names >= {"state", "customer_id", "counterparty", "created_after", "created_before"}
    names = {p["name"] for p in paths["/v1/withdrawals/{id}"]["get"]["parameters"]}
    assert names >= {"wait", "version"}
    names = {p["name"] for p in paths["/v1/deposits"]["get"]["parameters"]}
    assert names >= {"state", "customer_id", "counterparty", "limit", "cursor"}
    assert "addresses" in document["components"]["schemas"]["Customer"]["required"]
    assert "four_eyes" in str(paths["/v1/reviews/{id}/decision"]["post"]["responses"]["409"])
    assert "CancelRequest" in str(paths["/v1/withdrawals/{id}/cancel"]["post"]["requestBody"])
    assert "reason" in document["components"]["schemas"]["CancelRequest"]["properties"]
    deposit = document["components"]["schemas"]["Deposit"]["properties"]
    assert set(deposit) >= {
        "id",
        "state",
        "counterparty",
        "customer_id",
        "asset",
        "network",
        "amount",
        "address",
        "tag",
        "txid",
        "originator",
        "originating_vasp",
        "envelope_id",
        "decision",
        "created_at",
        "updated_at",
        "version",
    }


# -- gauges ------------------------------------------------------------------------------


def _samples(text: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


async def test_gauges_show_holds_reviews_and_dead_letters(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(
        cluster,
        apis,
        "repair",
        outbox={"max_attempts": 2, "base_delay": "0.05", "max_delay": "0.1"},
    )
    _status, repaired = await api.create(withdrawal())
    await api.wait_state(repaired["id"], "review")
    await cluster.nodes[BOB].stop(grace=0)  # the counterparty goes away
    del cluster.nodes[BOB]
    _status, undelivered = await api.create(withdrawal(amount="0.6"))
    await api.wait_state(undelivered["id"], "review")
    async with api.session.get(api.base + "/metrics") as response:
        assert response.status == 200
        samples = _samples(await response.text())
    assert samples['travelgate_holds{state="review"}'] == 2
    assert samples['travelgate_holds{state="cleared"}'] == 0
    assert samples["travelgate_reviews_open"] == 2
    assert samples["travelgate_reviews_oldest_age_seconds"] > 0
    assert samples[f'travelgate_outbox_dead{{target="{BOB}"}}'] == 1
    async with api.session.get(api.base + "/healthz") as response:
        assert (response.status, await response.json()) == (200, {"status": "ok"})
