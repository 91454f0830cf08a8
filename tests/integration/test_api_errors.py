"""Bad input on every endpoint of the internal API: the right 4xx, JSON, nothing stored."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import pytest

from support.api import Api, withdrawal
from support.nodes import ALICE, Cluster, two_node_specs


@pytest.fixture
async def api(cluster: Cluster) -> AsyncIterator[Api]:
    await cluster.start(*two_node_specs(bob_robot="sync-accept"))
    client = await Api.connect(cluster.nodes[ALICE])
    yield client
    await client.close()


async def _stored(cluster: Cluster) -> tuple[int, int]:
    db = cluster.nodes[ALICE].gateway.db
    return await db.read(lambda tx: (tx.count("holds"), tx.count("outbox")))


def _error(payload: Any) -> dict[str, Any]:
    assert set(payload) == {"error"}
    assert set(payload["error"]) == {"code", "message", "field"}
    error: dict[str, Any] = payload["error"]
    return error


BAD_WITHDRAWALS: list[tuple[str, dict[str, Any], str, str | None]] = [
    ("missing asset", {"asset": None}, "missing_field", "asset"),
    ("unknown asset", {"asset": "NOPE"}, "unknown_asset", "asset"),
    ("asset not a string", {"asset": 5}, "invalid_field", "asset"),
    ("amount as a number", {"amount": 0.5}, "invalid_amount", "amount"),
    ("negative amount", {"amount": "-1"}, "invalid_amount", "amount"),
    ("zero amount", {"amount": "0"}, "invalid_amount", "amount"),
    ("amount not a number", {"amount": "lots"}, "invalid_amount", "amount"),
    ("infinite amount", {"amount": "Infinity"}, "invalid_amount", "amount"),
    # Decimal() reads each of these; the amount grammar is ASCII digits and one point.
    ("arabic-indic digits", {"amount": "\u0661\u0662\u0663"}, "invalid_amount", "amount"),
    ("fullwidth digit", {"amount": "\uff11"}, "invalid_amount", "amount"),
    ("digit separator", {"amount": "1_0"}, "invalid_amount", "amount"),
    ("spaces around", {"amount": " 1 "}, "invalid_amount", "amount"),
    ("huge exponent", {"amount": "1E+999999999"}, "invalid_amount", "amount"),
    ("tiny exponent", {"amount": "0.1e-999999"}, "invalid_amount", "amount"),
    ("200,000 digits", {"amount": "9" * 200_000}, "invalid_amount", "amount"),
    ("41 integer digits", {"amount": "1" * 41}, "invalid_amount", "amount"),
    ("19 decimals", {"amount": "0." + "1" * 19}, "invalid_amount", "amount"),
    ("leading zero", {"amount": "01"}, "invalid_amount", "amount"),
    (
        "cents of a dollar",
        {"value": {"amount": "1.001", "currency": "USD"}},
        "invalid_amount",
        "value.amount",
    ),
    (
        "yen have no decimals",
        {"value": {"amount": "100.5", "currency": "JPY"}},
        "invalid_amount",
        "value.amount",
    ),
    (
        "zero value",
        {"value": {"amount": "0", "currency": "USD"}},
        "invalid_amount",
        "value.amount",
    ),
    (
        "fullwidth currency",
        {"value": {"amount": "1", "currency": "\uff35SD"}},
        "invalid_field",
        "value.currency",
    ),
    ("case-folded asset", {"asset": "u\u017fdt"}, "unknown_asset", "asset"),
    (
        "value currency",
        {"value": {"amount": "1", "currency": "dollars"}},
        "invalid_field",
        "value.currency",
    ),
    (
        "negative value",
        {"value": {"amount": "-5", "currency": "USD"}},
        "invalid_amount",
        "value.amount",
    ),
    (
        "destination missing address",
        {"destination": {"tag": None}},
        "invalid_field",
        "destination.address",
    ),
    ("destination a string", {"destination": "bc1q"}, "invalid_field", "destination"),
    (
        "unknown customer",
        {"originator": {"customer_id": "nobody"}},
        "unknown_customer",
        "originator.customer_id",
    ),
    ("originator empty", {"originator": {}}, "missing_field", "originator.customer_id"),
    (
        "originator person invalid",
        {"originator": {"person": {"naturalPerson": {}}, "account": "a"}},
        "invalid_person",
        "originator.person",
    ),
    (
        "beneficiary both",
        {"beneficiary": {"name": "x", "person": {}}},
        "invalid_field",
        "beneficiary",
    ),
    (
        "beneficiary empty name",
        {"beneficiary": {"name": "  "}},
        "invalid_field",
        "beneficiary.name",
    ),
    ("unknown field", {"colour": "red"}, "unknown_field", "colour"),
    (
        "unknown nested field",
        {"destination": {"address": "x", "memo": "y"}},
        "unknown_field",
        "destination.memo",
    ),
]


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [b[1:] for b in BAD_WITHDRAWALS],
    ids=[b[0] for b in BAD_WITHDRAWALS],
)
async def test_invalid_withdrawals_are_422_and_store_nothing(
    api: Api, cluster: Cluster, change: dict[str, Any], code: str, field: str | None
) -> None:
    body = withdrawal(**change)
    body = {k: v for k, v in body.items() if v is not None or k == "value"}
    if change.get("asset", "") is None:
        body.pop("asset", None)
    status, payload = await api.create(body)
    assert status == 422, payload
    error = _error(payload)
    assert (error["code"], error["field"]) == (code, field)
    assert await _stored(cluster) == (0, 0)


@pytest.mark.parametrize(
    ("raw", "headers", "status", "code"),
    [
        (b"{not json", {"Idempotency-Key": "k"}, 400, "malformed_json"),
        (b"", {"Idempotency-Key": "k"}, 400, "malformed_json"),
        (b"\xff\xfe", {"Idempotency-Key": "k"}, 400, "malformed_json"),
        (b"[1, 2]", {"Idempotency-Key": "k"}, 422, "invalid_field"),
        (b'{"asset": "BTC"}', {}, 400, "missing_idempotency_key"),
        (b"[" * 100000 + b"]" * 100000, {"Idempotency-Key": "k"}, 400, "malformed_json"),
        (b'{"asset": "BTC", "asset": "ETH"}', {"Idempotency-Key": "k"}, 400, "malformed_json"),
        (b'{"amount": ' + b"1" * 4301 + b"}", {"Idempotency-Key": "k"}, 400, "malformed_json"),
        (b'{"amount": NaN}', {"Idempotency-Key": "k"}, 400, "malformed_json"),
        (b'{"amount": 1e999}', {"Idempotency-Key": "k"}, 400, "malformed_json"),
        (b'\xef\xbb\xbf{"asset": "BTC"}', {"Idempotency-Key": "k"}, 400, "malformed_json"),
        (
            b'{"asset": "BTC"}',
            {"Idempotency-Key": "k", "Content-Type": "text/plain"},
            415,
            "unsupported_media_type",
        ),
        (
            b'{"asset": "BTC"}',
            {"Idempotency-Key": "k", "Content-Type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        (
            b'{"asset": "BTC"}',
            {"Idempotency-Key": "k", "Content-Type": "application/json; charset=latin-1"},
            415,
            "unsupported_media_type",
        ),
    ],
)
async def test_malformed_requests(
    api: Api, cluster: Cluster, raw: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    got, payload = await api.call("POST", "/v1/withdrawals", raw=raw, headers=headers)
    assert got == status, payload
    assert _error(payload)["code"] == code
    assert await _stored(cluster) == (0, 0)


async def test_oversize_body_is_413(api: Api, cluster: Cluster) -> None:
    big = b'{"asset": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    status, payload = await api.call(
        "POST", "/v1/withdrawals", raw=big, headers={"Idempotency-Key": "k"}
    )
    assert status == 413
    assert _error(payload)["code"] == "body_too_large"
    assert await _stored(cluster) == (0, 0)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/withdrawals"),
        ("GET", "/v1/withdrawals"),
        ("GET", "/v1/withdrawals/x"),
        ("POST", "/v1/withdrawals/x/broadcast"),
        ("POST", "/v1/withdrawals/x/cancel"),
        ("PUT", "/v1/customers/x"),
        ("GET", "/v1/customers/x"),
        ("DELETE", "/v1/customers/x"),
        ("GET", "/v1/reviews"),
        ("POST", "/v1/reviews/x/decision"),
        ("GET", "/v1/reviews/x"),
        ("GET", "/v1/deposits"),
        ("GET", "/v1/deposits/x"),
        ("GET", "/v1/customers"),
        ("GET", "/v1/outbox"),
    ],
)
@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc", "Bearer tgk_x_y"])
async def test_every_endpoint_needs_a_valid_key(
    api: Api, cluster: Cluster, method: str, path: str, header: str | None
) -> None:
    headers = {"Idempotency-Key": "k"}
    if header:
        headers["Authorization"] = header
    status, payload = await api.call(method, path, withdrawal(), headers=headers, auth=False)
    assert status == 401
    assert _error(payload)["code"] == "unauthorized"
    assert await _stored(cluster) == (0, 0)


async def test_openapi_needs_no_key(api: Api) -> None:
    status, document = await api.call("GET", "/v1/openapi.json", auth=False)
    assert status == 200
    assert document["openapi"].startswith("3.")
    assert "/v1/withdrawals" in document["paths"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/v1/withdrawals/nope", None, 404, "not_found"),
        ("GET", "/v1/withdrawals/nope?wait=1", None, 404, "not_found"),
        ("POST", "/v1/withdrawals/nope/broadcast", {"txid": "x"}, 404, "not_found"),
        ("POST", "/v1/withdrawals/nope/cancel", None, 404, "not_found"),
        ("GET", "/v1/customers/nope", None, 404, "not_found"),
        ("DELETE", "/v1/customers/nope", None, 404, "not_found"),
        (
            "POST",
            "/v1/reviews/nope/decision",
            {"decision": "accept", "reason": "r"},
            404,
            "not_found",
        ),
        ("GET", "/v1/withdrawals?state=limbo", None, 400, "bad_state"),
        ("GET", "/v1/withdrawals?limit=0", None, 400, "bad_limit"),
        ("GET", "/v1/withdrawals?limit=x", None, 400, "bad_limit"),
        ("GET", "/v1/withdrawals?cursor=!!", None, 400, "bad_cursor"),
        ("GET", "/v1/withdrawals/x?wait=forever", None, 400, "bad_wait"),
        ("GET", "/v1/withdrawals/x?wait=9999", None, 400, "bad_wait"),
        ("GET", "/v1/nowhere", None, 404, "not_found"),
        ("PATCH", "/v1/withdrawals", {}, 405, "method_not_allowed"),
        (
            "POST",
            "/v1/reviews/x/decision",
            {"decision": "maybe", "reason": "r"},
            422,
            "invalid_value",
        ),
        ("POST", "/v1/reviews/x/decision", {"decision": "accept"}, 422, "missing_field"),
        ("PUT", "/v1/customers/c", {"person": "x"}, 422, "missing_field"),
        ("PUT", "/v1/customers/c", {"person": {"naturalPerson": {}}}, 422, "invalid_person"),
        (
            "PUT",
            "/v1/customers/c",
            {
                "person": {
                    "naturalPerson": {
                        "name": {
                            "nameIdentifier": [
                                {"primaryIdentifier": "A", "nameIdentifierType": "LEGL"}
                            ]
                        }
                    }
                },
                "addresses": "x",
            },
            422,
            "invalid_field",
        ),
        ("GET", "/v1/outbox?state=lost", None, 400, "bad_state"),
    ],
)
async def test_other_endpoint_errors(
    api: Api, cluster: Cluster, method: str, path: str, body: Any, status: int, code: str
) -> None:
    got, payload = await api.call(method, path, body)
    assert got == status, payload
    assert _error(payload)["code"] == code
    assert await _stored(cluster) == (0, 0)


async def test_customers_put_get_delete_and_address_conflicts(api: Api, cluster: Cluster) -> None:
    person = {
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
    status, created = await api.call(
        "PUT", "/v1/customers/jane", {"person": person, "addresses": ["bc1qjane"]}
    )
    assert status == 201, created
    assert created["addresses"] == ["bc1qjane"]
    status, again = await api.call(
        "PUT", "/v1/customers/jane", {"person": person, "addresses": ["bc1qjane", "bc1qjane2"]}
    )
    assert status == 200
    assert again["addresses"] == ["bc1qjane", "bc1qjane2"]
    status, taken = await api.call(
        "PUT", "/v1/customers/other", {"person": person, "addresses": ["bc1qjane"]}
    )
    assert status == 409
    assert _error(taken)["code"] == "address_taken"
    status, fetched = await api.call("GET", "/v1/customers/jane")
    assert (status, fetched["person"]) == (200, person)
    with contextlib.closing(
        sqlite3.connect(cluster.nodes[ALICE].gateway.config.node.database)
    ) as db:
        [(raw,)] = db.execute("SELECT person FROM customers WHERE id = 'jane'").fetchall()
    assert b"Doe" not in raw  # sealed at rest
    status, _ = await api.call("DELETE", "/v1/customers/jane")
    assert status == 204
    status, _ = await api.call("GET", "/v1/customers/jane")
    assert status == 404


async def test_broadcast_needs_a_txid_and_a_cleared_hold(api: Api) -> None:
    _status, hold = await api.create(withdrawal())
    status, payload = await api.call("POST", f"/v1/withdrawals/{hold['id']}/broadcast", {"tx": "x"})
    assert status == 422
    assert _error(payload)["field"] == "txid"


LONE_SURROGATES = [
    ("beneficiary.name", {"beneficiary": {"name": "Bob \ud800"}}),
    ("destination.address", {"destination": {"address": "bc1q\ud800", "tag": None}}),
    ("destination.tag", {"destination": {"address": "bc1q", "tag": "\udfff"}}),
]


@pytest.mark.parametrize(("field", "change"), LONE_SURROGATES, ids=[f for f, _ in LONE_SURROGATES])
async def test_a_lone_surrogate_is_refused_naming_its_field(
    api: Api, cluster: Cluster, field: str, change: dict[str, Any]
) -> None:
    # json.dumps writes the lone surrogate as a \ud800 escape, as a hostile client would.
    raw = json.dumps(withdrawal(**change)).encode()
    status, payload = await api.call(
        "POST", "/v1/withdrawals", raw=raw, headers={"Idempotency-Key": "surrogate"}
    )
    assert status == 422, payload
    assert (_error(payload)["code"], _error(payload)["field"]) == ("invalid_field", field)
    assert await _stored(cluster) == (0, 0)


async def test_lone_surrogates_elsewhere_are_never_a_500(api: Api) -> None:
    customer = json.dumps({"person": {}, "addresses": ["bc1q\ud800"]}).encode()
    status, payload = await api.call("PUT", "/v1/customers/c-s", raw=customer)
    assert (status, _error(payload)["field"]) == (422, "addresses[0]")
    decision = json.dumps({"decision": "accept", "reason": "ok \ud800"}).encode()
    status, payload = await api.call("POST", "/v1/reviews/x/decision", raw=decision)
    assert (status, _error(payload)["field"]) == (422, "reason")
    # A byte that is not UTF-8 in the Authorization header is an unknown key, not a crash.
    status, payload = await api.call(
        "GET", "/v1/withdrawals", headers={"Authorization": "Bearer tgk_\udcff"}, auth=False
    )
    assert status == 401, payload
