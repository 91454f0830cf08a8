"""schemathesis hooks for the API schema test: test data a schema cannot describe.

A customer id in a withdrawal is a reference to a stored customer. A generated one names
nobody, and the node rightly answers 422 unknown_customer, which the schema documents; so
schema-valid bodies that reference a customer name the one the test node is configured
with (and it is put back first if a generated call deleted or replaced it). Likewise a
Travel Address ends in a checksum: a valid one replaces a generated one. Only bodies
generated as valid are touched: invalid ones stay as generated.
"""

from __future__ import annotations

import os
from typing import Any

import requests
import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.case import Case
from schemathesis.hooks import HookContext

from support.nodes import person
from travelgate.trp import encode_travel_address

# Where the node under test listens and a key with every scope, set by the test.
API_URL = "TRAVELGATE_SCHEMA_TEST_API"
API_KEY = "TRAVELGATE_SCHEMA_TEST_KEY"
CONFIGURED_CUSTOMER = "cust-1"
CUSTOMER_PERSON = person("Smith", "Alice")
TRAVEL_ADDRESS = encode_travel_address("trp.beneficiary.example.com/inquiries/x?t=i")


@schemathesis.hook
def map_case(context: HookContext, case: Case[Any]) -> Case[Any]:
    operation = context.operation
    if operation is None or operation.method.upper() != "POST":
        return case
    body = case.body
    meta = case.meta
    component = meta.components.get(ParameterLocation.BODY) if meta is not None else None
    if component is None or not component.mode.is_positive or not isinstance(body, dict):
        return case
    if operation.path != "/v1/withdrawals":
        return case
    originator = body.get("originator")
    if isinstance(originator, dict) and "customer_id" in originator:
        originator["customer_id"] = CONFIGURED_CUSTOMER
    destination = body.get("destination")
    if isinstance(destination, dict) and isinstance(destination.get("travel_address"), str):
        # A Travel Address carries a checksum no schema can state: a valid one stands in.
        destination["travel_address"] = TRAVEL_ADDRESS
    return case


@schemathesis.hook
def before_call(context: HookContext, case: Case[Any], kwargs: dict[str, Any]) -> None:
    """Generated calls may replace or delete the configured customer like any other one: a
    valid body that references it gets it back first, as the exchange's customer sync would."""
    operation = context.operation
    body = case.body
    if operation is None or (operation.method.upper(), operation.path) != (
        "POST",
        "/v1/withdrawals",
    ):
        return
    originator = body.get("originator") if isinstance(body, dict) else None
    if not isinstance(originator, dict) or originator.get("customer_id") != CONFIGURED_CUSTOMER:
        return
    restored = requests.put(
        f"{os.environ[API_URL]}/v1/customers/{CONFIGURED_CUSTOMER}",
        json={"person": CUSTOMER_PERSON, "addresses": []},
        headers={"Authorization": f"Bearer {os.environ[API_KEY]}"},
        timeout=10,
    )
    restored.raise_for_status()
