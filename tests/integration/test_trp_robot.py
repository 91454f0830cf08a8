"""`travelgate robot --policy ...` answers TRP inquiries as it answers TRISA transfers
(a real subprocess with `[trp] enabled`, decisions in the 200 body)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from support.nodes import (
    ALICE,
    BOB,
    TestPki,
    two_node_specs,
    write_config,
    write_peers,
)
from support.processes import NodeProcess, run_cli
from support.trp import inquiry_body
from travelgate.trp import (
    Approval,
    Rejection,
    TrpClient,
    client_ssl_context,
    parse_inquiry_response,
)


@pytest.mark.parametrize(("policy", "answer"), [("sync-accept", Approval), ("reject", Rejection)])
async def test_the_robot_subprocess_decides_trp_inquiries(
    test_pki: TestPki, tmp_path: Path, policy: str, answer: type
) -> None:
    _alice, bob = two_node_specs(bob_robot=None)
    cert, key = test_pki.write(
        BOB, folder=f"{BOB}-trp", dns_names=[BOB], ip_addresses=["127.0.0.1"]
    )
    bob.extra = {
        "trp": {
            "enabled": True,
            "listen": "127.0.0.1:0",
            "cert": str(cert),
            "key": str(key),
            "immediate": True,
        }
    }
    test_pki.write(ALICE)
    write_peers(test_pki.root, [ALICE, BOB])
    config = write_config(test_pki, bob, database=tmp_path / "bob.db")
    created = run_cli("apikey", "create", "--config", str(config))
    assert created.returncode == 0, created.stderr
    api_key = created.stdout.decode().strip()
    node = NodeProcess("robot", "--policy", policy, "--config", str(config))
    try:
        node.wait_started()
        started = next(e for e in node.events() if e.get("event") == "node started")
        api = f"http://127.0.0.1:{started['api_port']}"
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{api}/v1/customers/bob-cust-1/travel-addresses",
                json={},
                headers={"Authorization": f"Bearer {api_key}"},
            ) as response,
        ):
            assert response.status == 201, await response.text()
            minted = await response.json()
        alice_cert, alice_key = test_pki.write(
            ALICE, folder=f"{ALICE}-trp", dns_names=[ALICE], ip_addresses=["127.0.0.1"]
        )
        context = client_ssl_context(alice_cert, alice_key, test_pki.trust)
        async with TrpClient(context) as client:
            reply = await client.post(
                minted["url"],
                inquiry_body("https://127.0.0.1:9/resolutions/x"),
                request_identifier="0f5e7f0e-3b1a-4c55-9d1e-6a2b8c7d9e01",
            )
        assert reply.peer_common_name == BOB
        assert started["trp_port"] == int(minted["url"].split(":")[2].split("/")[0])
        assert isinstance(parse_inquiry_response(reply.body), answer)
    finally:
        node.stop_quietly()
