"""Fuzz the bodies of the internal API: withdrawals, customers, review decisions, and the
strict JSON loader that reads them.

Bodies reach the parse functions as `load_json` leaves them, so the pipeline fuzzed here is
bytes -> load_json (JsonInputError) -> parse function (InvalidRequestError). Whatever is accepted can be
hashed and stored as UTF-8.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from travelgate._json import load_json
from travelgate.errors import InvalidRequestError, JsonInputError, RequestError
from travelgate.service._requests import DEFAULT_ASSETS, check_person, parse_withdrawal
from travelgate.service._reviews import _decision

from ._harness import FUZZ, json_values, mutated, only, seed_ids, seeds, time_bound

ASSETS = frozenset(DEFAULT_ASSETS)
WITHDRAWAL_SEEDS = seeds("withdrawal")
CUSTOMER_SEEDS = seeds("customer")
WITHDRAWALS = [p.read_bytes() for p in WITHDRAWAL_SEEDS]
CUSTOMERS = [p.read_bytes() for p in CUSTOMER_SEEDS]


def _withdrawal(data: bytes) -> None:
    with only(JsonInputError, RequestError):
        body = load_json(data)
        request = parse_withdrawal(body, assets=ASSETS)
        json.dumps(dict(request.body), ensure_ascii=False).encode()
        assert len(request.body_hash) == 64


def _customer(data: bytes) -> None:
    with only(JsonInputError, RequestError):
        body = load_json(data)
        if isinstance(body, dict) and isinstance(body.get("person"), dict):
            check_person(body["person"], "person")
            json.dumps(body, ensure_ascii=False).encode()


def _review(data: bytes) -> None:
    with only(JsonInputError, RequestError):
        decision, reason = _decision(load_json(data))
        assert decision in ("accept", "reject")
        reason.encode()


@FUZZ
@given(mutated(WITHDRAWALS))
def test_withdrawal_bytes(data: bytes) -> None:
    _withdrawal(data)


def _with_field(base: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(base))
    node = body
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value
    return body


FIELDS = st.sampled_from(
    [
        ("asset",),
        ("network",),
        ("amount",),
        ("value",),
        ("value", "amount"),
        ("value", "currency"),
        ("destination", "address"),
        ("destination", "tag"),
        ("originator", "customer_id"),
        ("originator", "person"),
        ("originator", "account"),
        ("beneficiary", "name"),
        ("beneficiary", "person"),
        ("beneficiary_vasp",),
        ("unknown",),
    ]
)


@FUZZ
@given(st.lists(st.tuples(FIELDS, json_values(max_leaves=8)), min_size=1, max_size=3))
@example([(("destination", "tag"), "\ud800")])
@example([(("amount",), "1" * 5000)])
def test_withdrawal_any_field_value(changes: list[tuple[tuple[str, ...], Any]]) -> None:
    body = json.loads(WITHDRAWALS[0])
    for path, value in changes:
        body = _with_field(body, path, value)
    _withdrawal(json.dumps(body).encode("utf-8", "surrogatepass"))


@FUZZ
@given(mutated(CUSTOMERS))
def test_customer_bytes(data: bytes) -> None:
    _customer(data)


@FUZZ
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "decision": st.sampled_from(["accept", "reject"]) | json_values(4),
            "action": json_values(4),
            "reason": st.text(max_size=20) | json_values(4),
            "other": json_values(2),
        },
    )
)
def test_review_decisions(body: dict[str, Any]) -> None:
    _review(json.dumps(body).encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("path", WITHDRAWAL_SEEDS, ids=seed_ids(WITHDRAWAL_SEEDS))
def test_withdrawal_corpus(path: Path) -> None:
    _withdrawal(path.read_bytes())


@pytest.mark.parametrize("path", CUSTOMER_SEEDS, ids=seed_ids(CUSTOMER_SEEDS))
def test_customer_corpus(path: Path) -> None:
    _customer(path.read_bytes())


# -- the JSON loader itself -----------------------------------------------------------------


@FUZZ
@given(mutated(WITHDRAWALS + CUSTOMERS) | st.binary(max_size=200))
def test_json_loader_refuses_only_with_json_input_error(data: bytes) -> None:
    with only(JsonInputError):
        value = load_json(data)
        json.dumps(value, ensure_ascii=False).encode()


FINITE_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**90), 10**90)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=8), inner
        )
    ),
    max_leaves=20,
)


@FUZZ
@given(FINITE_JSON)
def test_json_loader_reads_back_what_json_writes(value: Any) -> None:
    with time_bound():
        assert load_json(json.dumps(value)) == value
        assert load_json(json.dumps(value, ensure_ascii=False).encode()) == value


def test_case_folded_asset_names_are_unknown() -> None:
    # "u\u017fdt".upper() == "USDT": the long s folded into an asset we list.
    body = json.loads(WITHDRAWALS[0])
    body["asset"] = "u\u017fdt"
    with pytest.raises(InvalidRequestError) as caught:
        parse_withdrawal(body, assets=ASSETS)
    assert (caught.value.code, caught.value.field) == ("unknown_asset", "asset")
    body["asset"] = "usdt"
    assert parse_withdrawal(body, assets=ASSETS).asset == "USDT"
