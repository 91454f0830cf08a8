"""schemathesis against our own OpenAPI document, on a real node: no 5xx, every answer in schema.

The node runs as `travelgate serve` with a robot counterparty, both real subprocesses; the
schemathesis command line drives the API with a bounded number of generated examples per
operation and every check it has (`checks.enabled` in its config file): server errors, status codes, content
types and headers as documented, responses against their schemas, schema-valid requests
accepted and schema-invalid ones refused, 405 with `Allow` for undeclared methods, 401 when
the key is left out, and resources gone after their DELETE.

What a schema cannot say is supplied by hooks (tests/support/schemathesis_hooks.py): a
withdrawal that references a customer names one that exists, a Travel Address carries a
valid checksum. One check is off for one operation, where nothing can supply it (see
`_narrow_exclusions`).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from support import schemathesis_hooks
from support.api import Api, withdrawal
from support.nodes import (
    ALICE,
    BOB,
    Cluster,
    TestPki,
    two_node_specs,
    write_config,
    write_peers,
)
from support.processes import NodeProcess, run_cli

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
SCOPES = ("withdrawals", "deposits", "customers", "reviews", "admin")
# Bounded and deterministic: the same seed draws the same requests on every run.
EXAMPLES = 20
SEED = "20261207"
# Long polls are capped low so that a generated ?wait= on a held withdrawal costs little;
# the document's `wait` maximum follows the node's setting.
LONG_POLL_MAX = 2


@pytest.fixture
def alice_api(test_pki: TestPki, tmp_path: Path) -> Iterator[tuple[int, str]]:
    alice, bob = two_node_specs(bob_robot=None)
    alice = dataclasses.replace(alice, extra={"api": {"long_poll_max": LONG_POLL_MAX}})
    write_peers(test_pki.root, [ALICE, BOB])
    configs = {
        ALICE: write_config(test_pki, alice, database=tmp_path / "alice.db"),
        BOB: write_config(test_pki, bob, database=tmp_path / "bob.db"),
    }
    robot = NodeProcess("robot", "--policy", "sync-accept", "--config", str(configs[BOB]))
    node: NodeProcess | None = None
    try:
        write_peers(test_pki.root, [ALICE, BOB], {BOB: robot.wait_started()})
        node = NodeProcess("serve", "--config", str(configs[ALICE]))
        node.wait_started()
        port = next(e["api_port"] for e in node.events() if e.get("event") == "node started")
        scopes = [arg for scope in SCOPES for arg in ("--scope", scope)]
        made = run_cli(
            "apikey", "create", "--config", str(configs[ALICE]), "--name", "schema", *scopes
        )
        assert made.returncode == 0, made.stderr.decode()
        yield int(port), made.stdout.decode().split()[-1]
    finally:
        if node is not None:
            node.stop_quietly()
        robot.stop_quietly()


def _narrow_exclusions(folder: Path) -> Path:
    """The one check that cannot hold for one operation, switched off there alone: a
    wallet proof is a signature over a challenge we issued, and no schema can say which
    signature verifies, so a schema-valid proof is rightly refused (422 invalid_proof).
    Every other check still runs on it, and tests/integration/test_wallets.py proves real
    signatures accepted and wrong ones refused."""
    path = folder / "schemathesis.toml"
    path.write_text(
        "checks.enabled = true\n\n"  # every check; the CLI would override what follows
        "[[operations]]\n"
        'include-path = "/v1/customers/{id}/wallets"\n'
        'include-method = "POST"\n'
        "checks.positive_data_acceptance.enabled = false\n"
    )
    return path


@pytest.mark.slow
def test_the_api_matches_its_openapi_under_generated_requests(
    alice_api: tuple[int, str], tmp_path: Path
) -> None:
    port, key = alice_api
    api = f"http://127.0.0.1:{port}"
    done = subprocess.run(
        [
            SCHEMATHESIS,
            "--config-file",
            str(_narrow_exclusions(tmp_path)),
            "run",
            f"{api}/v1/openapi.json",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            SEED,
            "--generation-database",
            "none",
            "--workers",
            "1",
            "--request-timeout",
            "10",
            # An operation whose only parameter is a free-text path id has almost no
            # schema-invalid values to draw; Hypothesis would give up on it rather than
            # test it with the few it finds.
            "--suppress-health-check",
            "filter_too_much",
            "--header",
            f"Authorization: Bearer {key}",
            "--no-color",
        ],
        capture_output=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": schemathesis_hooks.__name__,
            "PYTHONPATH": str(Path(__file__).parents[1]),
            schemathesis_hooks.API_URL: api,
            schemathesis_hooks.API_KEY: key,
        },
    )
    output = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, output[-20000:]
    # Every operation of the document was exercised, none skipped for want of a strategy.
    selected = re.search(r"Selected: (\d+)/(\d+)", output)
    tested = re.search(r"Tested: (\d+)", output)
    assert selected is not None, output[-5000:]
    assert tested is not None, output[-5000:]
    assert selected.group(1) == selected.group(2) == tested.group(1), output[-5000:]
    assert re.search(r"\b[1-9]\d* generated\b", output), output[-5000:]


# -- what the generated run found, pinned as plain regression tests --------------------


@pytest.fixture
async def api(cluster: Cluster) -> AsyncIterator[Api]:
    await cluster.start(*two_node_specs(bob_robot="sync-accept"))
    client = await Api.connect(cluster.nodes[ALICE])
    yield client
    await client.close()


async def test_an_undeclared_method_is_405_naming_the_allowed_ones(api: Api) -> None:
    for method, path, allowed in (
        ("TRACE", "/v1/withdrawals", {"GET", "POST"}),
        ("PATCH", "/v1/customers/cust-1", {"GET", "PUT", "DELETE"}),
        ("DELETE", "/healthz", {"GET"}),
    ):
        async with api.session.request(
            method, api.base + path, headers={"Authorization": f"Bearer {api.key}"}
        ) as response:
            assert response.status == 405, path
            assert allowed <= set(response.headers["Allow"].split(", ")), response.headers
            error = (await response.json())["error"]
            assert error["code"] == "method_not_allowed"
            assert method in error["message"]


async def test_a_beneficiary_person_against_the_rules_is_422_and_nothing_is_stored(
    api: Api, cluster: Cluster
) -> None:
    person = {
        "legalPerson": {
            "name": {
                "nameIdentifier": [
                    {"legalPersonName": "Bob Ltd", "legalPersonNameIdentifierType": "LEGL"}
                ]
            },
            "countryOfRegistration": "AAA",
        }
    }
    status, payload = await api.create(withdrawal(beneficiary={"person": person}))
    assert status == 422, payload
    assert payload["error"]["code"] == "invalid_person"
    assert payload["error"]["field"] == "beneficiary.person"
    db = cluster.nodes[ALICE].gateway.db
    assert await db.read(lambda tx: tx.count("holds")) == 0


async def test_the_document_states_the_node_limits(api: Api) -> None:
    status, document = await api.call("GET", "/v1/openapi.json", auth=False)
    assert status == 200
    operation = document["paths"]["/v1/withdrawals/{id}"]["get"]
    wait = next(p for p in operation["parameters"] if p["name"] == "wait")
    assert wait["schema"]["maximum"] == api.node.config.api.long_poll_max
    request = document["components"]["schemas"]["WithdrawalRequest"]
    assert set(request["properties"]["asset"]["enum"]) == api.node.gateway.holds.assets
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status_code, answer in operation["responses"].items():
                if status_code.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method)


def _conforms(document: dict[str, Any], name: str, instance: Any) -> None:
    """`instance` against the document's component schema `name` (OpenAPI 3.1 is 2020-12)."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    errors = [e.message for e in jsonschema_rs.Draft202012Validator(schema).iter_errors(instance)]
    assert not errors, (name, errors, instance)


async def test_deposits_and_reviews_answer_as_documented(cluster: Cluster) -> None:
    """The generated run has no deposit to read: one made by a real exchange, in review,
    then accepted, is checked against the document at each step."""
    alice, bob = two_node_specs(bob_robot=None)
    bob = dataclasses.replace(bob, extra={"policy": {"name_mismatch": "review"}})
    await cluster.start(alice, bob)
    alice_api = await Api.connect(cluster.nodes[ALICE])
    bob_api = await Api.connect(cluster.nodes[BOB])
    try:
        _status, document = await bob_api.call("GET", "/v1/openapi.json")
        _status, hold = await alice_api.create(withdrawal(beneficiary={"name": "Robert Jones"}))
        _conforms(document, "Withdrawal", await alice_api.wait_state(hold["id"], "awaiting_reply"))
        status, reviews = await bob_api.call("GET", "/v1/reviews?state=open")
        assert status == 200
        [review] = reviews["items"]
        _conforms(document, "Review", review)
        status, deposits = await bob_api.call("GET", "/v1/deposits")
        assert status == 200
        [deposit] = deposits["items"]
        _conforms(document, "Deposit", deposit)
        status, decided = await bob_api.call(
            "POST",
            f"/v1/reviews/{review['id']}/decision",
            {"decision": "accept", "reason": "Robert is Bob; checked the KYC file"},
        )
        assert status == 200, decided
        _conforms(document, "Review", decided)
        _conforms(document, "Withdrawal", await alice_api.wait_state(hold["id"], "cleared"))
        status, deposit = await bob_api.call("GET", f"/v1/deposits/{deposit['id']}")
        assert status == 200
        _conforms(document, "Deposit", deposit)
        status, outbox = await bob_api.call("GET", "/v1/outbox")
        assert status == 200
        for item in outbox["items"]:
            _conforms(document, "OutboxItem", item)
    finally:
        await alice_api.close()
        await bob_api.close()
