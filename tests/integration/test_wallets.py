"""Self-hosted wallets through the API: challenges, real eip191 and bip137 proofs, manual
attestations, the address book, EU-TFR self-hosted withdrawals and the new-destination hold.

Signatures are made here with maintained libraries (eth-keys for personal_sign, libsecp256k1
through coincurve for BIP-137), never with our own code.
"""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import coincurve
import pytest
from eth_keys import keys  # type: ignore[attr-defined]

from support.api import Api, withdrawal
from support.nodes import ALICE, BOB, BOB_ADDRESS, Cluster, two_node_specs
from support.stores import BOTH_BACKENDS
from support.wallets import eth_personal_sign
from travelgate.screening import new_challenge
from travelgate.screening._bip137 import signed_message_digest
from travelgate.screening._encodings import segwit_encode
from travelgate.screening._hashes import hash160
from travelgate.service import SCOPES

pytestmark = BOTH_BACKENDS

EU_SELF_HOSTED = {"value": {"amount": "1500.00", "currency": "EUR"}, "beneficiary_vasp": None}


@pytest.fixture
async def apis() -> AsyncIterator[list[Api]]:
    made: list[Api] = []
    yield made
    for api in made:
        await api.close()


async def _start(cluster: Cluster, apis: list[Api], **alice_extra: Any) -> Api:
    alice, bob = two_node_specs()
    if alice_extra:
        alice = dataclasses.replace(alice, extra=alice_extra)
    await cluster.start(alice, bob)
    api = await Api.connect(cluster.nodes[ALICE])
    apis.append(api)
    return api


def _eth_account() -> tuple[bytes, str]:
    key = os.urandom(32)
    return key, keys.PrivateKey(key).public_key.to_checksum_address()


def _btc_account() -> tuple[coincurve.PrivateKey, str]:
    key = coincurve.PrivateKey()
    return key, segwit_encode("bc", 0, hash160(key.public_key.format(compressed=True)))


def _btc_sign(key: coincurve.PrivateKey, message: str) -> str:
    raw = key.sign_recoverable(signed_message_digest(message), hasher=None)
    return base64.b64encode(bytes([27 + raw[64] + 12]) + raw[:64]).decode()  # P2WPKH header


async def _challenge(api: Api, address: str, network: str, customer: str = "cust-1") -> str:
    status, body = await api.call(
        "GET",
        f"/v1/customers/{customer}/wallets/challenge?address={quote(address)}&network={network}",
    )
    assert status == 200, body
    assert address in body["message"]
    return str(body["message"])


async def _prove(api: Api, address: str, network: str, proof: dict[str, Any]) -> tuple[int, Any]:
    return await api.call(
        "POST",
        "/v1/customers/cust-1/wallets",
        {"address": address, "network": network, "proof": proof},
    )


async def test_a_real_eip191_proof_is_accepted_once(cluster: Cluster, apis: list[Api]) -> None:
    api = await _start(cluster, apis)
    key, address = _eth_account()
    message = await _challenge(api, address, "ethereum")
    assert "Alice VASP Ltd" in message
    proof = {"type": "eip191", "message": message, "signature": eth_personal_sign(key, message)}
    status, wallet = await _prove(api, address, "ethereum", proof)
    assert status == 201, wallet
    assert wallet["address"] == address
    assert wallet["network"] == "ethereum"
    assert wallet["verified"] is True
    assert wallet["method"] == "eip191"
    assert wallet["verified_at"]
    # The same challenge again is a replay.
    status, replay = await _prove(api, address, "ethereum", proof)
    assert status == 422
    assert replay["error"]["code"] == "invalid_proof"
    assert "already used" in replay["error"]["message"]


async def test_a_real_bip137_proof_is_accepted(cluster: Cluster, apis: list[Api]) -> None:
    api = await _start(cluster, apis)
    key, address = _btc_account()
    message = await _challenge(api, address, "bitcoin")
    proof = {"type": "bip137", "message": message, "signature": _btc_sign(key, message)}
    status, wallet = await _prove(api, address, "bitcoin", proof)
    assert status == 201, wallet
    assert wallet["method"] == "bip137"


async def test_wrong_address_wrong_message_and_foreign_challenge_are_refused(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis)
    key, address = _eth_account()
    _other_key, other_address = _eth_account()
    message = await _challenge(api, address, "ethereum")
    signature = eth_personal_sign(key, message)
    # Signed by the key of `address`, claimed for another address.
    other_message = await _challenge(api, other_address, "ethereum")
    status, body = await _prove(
        api,
        other_address,
        "ethereum",
        {
            "type": "eip191",
            "message": other_message,
            "signature": eth_personal_sign(key, other_message),
        },
    )
    assert (status, body["error"]["code"]) == (422, "invalid_proof")
    # A signature over another text than the one presented.
    status, body = await _prove(
        api,
        address,
        "ethereum",
        {"type": "eip191", "message": message, "signature": eth_personal_sign(key, message + " ")},
    )
    assert (status, body["error"]["code"]) == (422, "invalid_proof")
    # A text that is not a challenge we issued (nonce unknown to the store).
    forged = message.replace(message.split("Nonce: ")[1][:32], "0" * 32)
    status, body = await _prove(
        api,
        address,
        "ethereum",
        {"type": "eip191", "message": forged, "signature": eth_personal_sign(key, forged)},
    )
    assert (status, body["error"]["code"]) == (422, "invalid_proof")
    # The genuine one still works: failures spend nothing.
    status, body = await _prove(
        api, address, "ethereum", {"type": "eip191", "message": message, "signature": signature}
    )
    assert status == 201, body
    status, book = await api.call("GET", "/v1/customers/cust-1/wallets")
    assert [entry["address"] for entry in book["items"]] == [address]


async def test_an_expired_challenge_is_refused(cluster: Cluster, apis: list[Api]) -> None:
    api = await _start(cluster, apis)
    key, address = _eth_account()
    message = await _challenge(api, address, "ethereum")
    db = cluster.nodes[ALICE].gateway.db
    # A challenge issued 20 minutes ago, stored as the endpoint stores it: its window closed.
    old = new_challenge(
        vasp=cluster.nodes[ALICE].config.node.legal_name,
        customer="cust-1",
        address=address,
        network="ethereum",
        now=datetime.now(UTC) - timedelta(minutes=20),
    )
    await db.write(
        lambda tx: tx.insert_challenge(
            nonce=old.nonce,
            customer_id="cust-1",
            address=address,
            network="ethereum",
            expires_at=old.expires_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            stamp=old.issued_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            forget_before="2000-01-01T00:00:00.000000Z",
        )
    )
    status, body = await _prove(
        api,
        address,
        "ethereum",
        {
            "type": "eip191",
            "message": old.message,
            "signature": eth_personal_sign(key, old.message),
        },
    )
    assert (status, body["error"]["code"]) == (422, "invalid_proof")
    assert "expired" in body["error"]["message"]
    assert message  # the fresh challenge is untouched


async def test_manual_attestation_needs_evidence_and_the_reviews_scope(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis)
    _key, address = _btc_account()
    no_reviews = await Api.connect(
        cluster.nodes[ALICE], tuple(scope for scope in SCOPES if scope != "reviews")
    )
    apis.append(no_reviews)
    proof = {"type": "manual", "evidence": "Satoshi test txid 4a5e1e4b"}
    status, body = await _prove(no_reviews, address, "bitcoin", proof)
    assert (status, body["error"]["code"]) == (403, "forbidden_scope")
    status, body = await _prove(api, address, "bitcoin", {"type": "manual"})
    assert (status, body["error"]["field"]) == (422, "proof.evidence")
    status, wallet = await _prove(api, address, "bitcoin", proof)
    assert status == 201, wallet
    assert wallet["method"] == "manual"


async def test_eu_self_hosted_withdrawal_clears_only_to_a_verified_wallet(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis, policy={"profiles": ["EU-TFR"]})
    key, address = _btc_account()
    _stranger_key, stranger = _btc_account()
    destination = {"address": address, "kind": "self_hosted"}
    _status, before = await api.create(withdrawal(destination=destination, **EU_SELF_HOSTED))
    assert (before["state"], before["decision"]["code"]) == ("review", "SELF_HOSTED.UNVERIFIED")
    message = await _challenge(api, address, "bitcoin")
    status, _wallet = await _prove(
        api,
        address,
        "bitcoin",
        {"type": "bip137", "message": message, "signature": _btc_sign(key, message)},
    )
    assert status == 201
    _status, after = await api.create(withdrawal(destination=destination, **EU_SELF_HOSTED))
    assert (after["state"], after["decision"]["code"]) == ("cleared", "SELF_HOSTED.VERIFIED")
    # Someone else's self-hosted wallet is still a person's decision.
    _status, other = await api.create(
        withdrawal(destination={"address": stranger, "kind": "self_hosted"}, **EU_SELF_HOSTED)
    )
    assert (other["state"], other["decision"]["code"]) == ("review", "SELF_HOSTED.UNVERIFIED")
    # Below the limit no ownership check is needed.
    small = {**EU_SELF_HOSTED, "value": {"amount": "900.00", "currency": "EUR"}}
    _status, below = await api.create(
        withdrawal(destination={"address": stranger, "kind": "self_hosted"}, **small)
    )
    assert below["state"] == "cleared", below


async def test_the_book_lists_verified_wallets_and_accepted_destinations(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(cluster, apis)
    key, address = _eth_account()
    message = await _challenge(api, address, "ethereum")
    await _prove(
        api,
        address,
        "ethereum",
        {"type": "eip191", "message": message, "signature": eth_personal_sign(key, message)},
    )
    _status, hold = await api.create(withdrawal())
    cleared = await api.wait_state(hold["id"], "cleared")
    status, _ = await api.call(
        "POST", f"/v1/withdrawals/{cleared['id']}/broadcast", {"txid": "ab" * 32}
    )
    assert status == 200
    status, book = await api.call("GET", "/v1/customers/cust-1/wallets")
    assert status == 200, book
    by_address = {entry["address"]: entry for entry in book["items"]}
    assert by_address[address]["kind"] == "self_hosted"
    assert by_address[address]["method"] == "eip191"
    exchange = by_address[BOB_ADDRESS]
    assert exchange["kind"] == "vasp"
    assert exchange["vasp"] == BOB
    assert exchange["beneficiary_name"] == "Bob Jones"
    assert exchange["first_used_at"]
    assert exchange["last_used_at"]
    status, _ = await api.call("DELETE", f"/v1/customers/cust-1/wallets/{address.lower()}")
    assert status == 204
    status, book = await api.call("GET", "/v1/customers/cust-1/wallets")
    assert [entry["address"] for entry in book["items"]] == [BOB_ADDRESS]
    status, body = await api.call("DELETE", f"/v1/customers/cust-1/wallets/{address}")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = await api.call("GET", "/v1/customers/nobody/wallets")
    assert status == 404


async def test_a_new_destination_waits_in_held_then_proceeds(
    cluster: Cluster, apis: list[Api]
) -> None:
    api = await _start(
        cluster,
        apis,
        policy={"new_destination_hold": "1.5s"},
        outbox={"expiry_interval": "0.1"},
    )
    _status, hold = await api.create(withdrawal())
    assert hold["state"] == "held"
    assert hold["decision"]["code"] == "HOLD.NEW_DESTINATION"
    assert hold["release_at"] is not None
    assert hold["envelope_id"] is None  # nothing sent while it waits
    cleared = await api.wait_state(hold["id"], "cleared", seconds=20)
    assert cleared["release_at"] is None
    # Now the destination is in the book (an accepted exchange verified it): no wait.
    _status, again = await api.create(withdrawal())
    assert again["decision"]["code"] != "HOLD.NEW_DESTINATION", again
    assert again["release_at"] is None
