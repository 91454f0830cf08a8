"""Two real nodes over mTLS: every exchange flow of TRISA transfer protocol and the robots' policies."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from support.nodes import ALICE, BOB, BOB_ADDRESS, Cluster, two_node_specs
from support.payloads import transfer_payload
from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2
from travelgate.errors import Code
from travelgate.node import Node
from travelgate.store import StoredEnvelope
from travelgate.transfers import Outcome


async def _conversation_states(node: Node) -> list[tuple[object, ...]]:
    return await node.gateway.db.read(
        lambda tx: [(c.peer, c.role, c.state) for c in tx.conversations()]
    )


async def _envelopes(node: Node) -> list[StoredEnvelope]:
    return await node.gateway.db.read(lambda tx: tx.envelopes())


async def _wait_for_state(node: Node, state: str, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while True:
            rows = await _conversation_states(node)
            if rows and rows[-1][2] == state:
                return
            await asyncio.sleep(0.05)


async def test_sync_accept_returns_the_completed_identity(cluster: Cluster) -> None:
    await cluster.start(*two_node_specs(bob_robot="sync-accept"))
    alice = cluster.nodes[ALICE]
    envelope_id = env.new_envelope_id()
    result = await alice.gateway.outbound.send(
        BOB, envelope_id=envelope_id, state=api_pb2.STARTED, payload=transfer_payload()
    )
    assert result.outcome is Outcome.ACCEPTED
    assert result.reply.id == envelope_id
    assert result.reply.transfer_state == api_pb2.ACCEPTED
    assert result.reply.public_key_signature == env.public_key_signature(
        alice.gateway.credentials.sealing_key
    )
    parts = result.parts
    assert parts is not None
    assert parts.payload.received_at
    beneficiary = parts.identity.beneficiary.beneficiary_persons[0].natural_person
    # Bob's KYC record replaced the name-only person the originator typed.
    assert beneficiary.date_and_place_of_birth.place_of_birth == "Manchester"
    vasp = parts.identity.beneficiary_vasp.beneficiary_vasp.legal_person
    assert vasp.name.name_identifiers[0].legal_person_name == "Bob VASP Ltd"
    assert await _conversation_states(alice) == [(BOB, "originator", "ACCEPTED")]
    assert await _conversation_states(cluster.nodes[BOB]) == [(ALICE, "beneficiary", "ACCEPTED")]

    completed = await alice.gateway.outbound.send(
        BOB,
        envelope_id=envelope_id,
        state=api_pb2.COMPLETED,
        payload=_with_txid(parts.payload, "0xabc"),
    )
    assert completed.outcome is Outcome.COMPLETED
    assert await _conversation_states(cluster.nodes[BOB]) == [(ALICE, "beneficiary", "COMPLETED")]


def _with_txid(payload: api_pb2.Payload, txid: str) -> api_pb2.Payload:
    from travelgate.trisa._replies import transaction_payload

    return transaction_payload(payload, txid=txid)


async def test_async_accept_replies_pending_then_calls_back(cluster: Cluster) -> None:
    await cluster.start(*two_node_specs(bob_robot="async-accept"))
    alice = cluster.nodes[ALICE]
    result = await alice.gateway.outbound.send(
        BOB, envelope_id=env.new_envelope_id(), state=api_pb2.STARTED, payload=transfer_payload()
    )
    assert result.outcome is Outcome.PENDING
    assert result.parts is not None
    assert result.parts.kind is env.TransactionKind.PENDING
    pending = result.parts.transaction
    assert isinstance(pending, transaction_pb2.Pending)
    assert pending.received_by == BOB
    assert env.parse_timestamp(pending.reply_not_after) > env.parse_timestamp(
        pending.reply_not_before
    )
    await _wait_for_state(alice, "ACCEPTED")
    envelopes = [(e.direction, e.transfer_state) for e in await _envelopes(alice)]
    assert envelopes == [
        ("out", "STARTED"),
        ("in", "PENDING"),
        ("in", "ACCEPTED"),
        ("out", "ACCEPTED"),
    ]


async def test_repair_request_is_an_error_envelope_with_retry(cluster: Cluster) -> None:
    await cluster.start(*two_node_specs(bob_robot="repair"))
    alice = cluster.nodes[ALICE]
    envelope_id = env.new_envelope_id()
    payload = transfer_payload()
    result = await alice.gateway.outbound.send(
        BOB, envelope_id=envelope_id, state=api_pb2.STARTED, payload=payload
    )
    assert result.outcome is Outcome.REPAIR
    assert result.reply.transfer_state == api_pb2.REPAIR
    assert (result.reply.error.code, result.reply.error.retry) == (Code.INCOMPLETE_IDENTITY, True)
    repaired = await alice.gateway.outbound.send(
        BOB, envelope_id=envelope_id, state=api_pb2.REVIEW, payload=payload
    )
    assert repaired.outcome is Outcome.ACCEPTED


async def test_reject_is_final(cluster: Cluster) -> None:
    await cluster.start(*two_node_specs(bob_robot="reject"))
    alice = cluster.nodes[ALICE]
    envelope_id = env.new_envelope_id()
    payload = transfer_payload()
    result = await alice.gateway.outbound.send(
        BOB, envelope_id=envelope_id, state=api_pb2.STARTED, payload=payload
    )
    assert result.outcome is Outcome.REJECTED
    assert (result.reply.error.code, result.reply.error.retry) == (
        Code.COMPLIANCE_CHECK_FAIL,
        False,
    )
    assert result.reply.transfer_state == api_pb2.REJECTED
    # R4: a closed exchange takes no further message.
    again = await alice.gateway.outbound.send(
        BOB, envelope_id=envelope_id, state=api_pb2.REVIEW, payload=payload
    )
    assert again.reply.error.code == Code.BAD_REQUEST
    assert again.reply.error.retry is False


@pytest.mark.parametrize("robot", ["sync-accept", "async-accept", "repair", "reject"])
async def test_unknown_beneficiary_address_is_refused_by_every_robot(
    cluster: Cluster, robot: str
) -> None:
    await cluster.start(*two_node_specs(bob_robot=robot))
    result = await cluster.nodes[ALICE].gateway.outbound.send(
        BOB,
        envelope_id=env.new_envelope_id(),
        state=api_pb2.STARTED,
        payload=transfer_payload(beneficiary_address="bc1qnobody"),
    )
    assert (result.reply.error.code, result.reply.error.retry) == (
        Code.UNKNOWN_WALLET_ADDRESS,
        False,
    )


@pytest.mark.parametrize(("setting", "expected"), [("review", "PENDING"), ("reject", "REJECTED")])
async def test_name_that_does_not_match_our_customer(
    cluster: Cluster, setting: str, expected: str
) -> None:
    """A plain node decides by policy: review by default, UNKOWN_BENEFICIARY if configured."""
    alice, bob = two_node_specs(bob_robot=None)
    bob = dataclasses.replace(bob, extra={"policy": {"name_mismatch": setting}})
    await cluster.start(alice, bob)
    result = await cluster.nodes[ALICE].gateway.outbound.send(
        BOB,
        envelope_id=env.new_envelope_id(),
        state=api_pb2.STARTED,
        payload=transfer_payload(beneficiary=("Mallory", "Eve")),
    )
    assert api_pb2.TransferState.Name(result.reply.transfer_state) == expected
    if expected == "REJECTED":
        assert result.reply.error.code == Code.UNKOWN_BENEFICIARY


async def test_health_status(cluster: Cluster) -> None:
    await cluster.start(*two_node_specs())
    alice = cluster.nodes[ALICE]
    peer = alice.gateway.directory.get(BOB)
    assert peer is not None
    state = await alice.gateway.client.health(peer)
    assert state.status == api_pb2.ServiceState.HEALTHY
    assert env.parse_timestamp(state.not_after) > env.parse_timestamp(state.not_before)


async def test_exact_duplicate_gets_the_stored_reply_byte_for_byte(cluster: Cluster) -> None:
    alice_spec, bob_spec = two_node_specs()
    # Ten copies at once: duplicates, not admission, are under test here.
    roomy = {"trisa": {"per_peer_streams": 64, "max_inflight_work": 64}}
    await cluster.start(alice_spec, dataclasses.replace(bob_spec, extra=roomy))
    alice, bob = cluster.nodes[ALICE], cluster.nodes[BOB]
    prepared = await alice.gateway.outbound.prepare(
        BOB, envelope_id=env.new_envelope_id(), state=api_pb2.STARTED, payload=transfer_payload()
    )
    peer = prepared.peer
    first = await alice.gateway.client.transfer(peer, prepared.envelope)
    before = len(await _envelopes(bob))
    replies = await asyncio.gather(
        *(alice.gateway.client.transfer(peer, prepared.envelope) for _ in range(10))
    )
    assert all(r.SerializeToString() == first.SerializeToString() for r in replies)
    assert len(await _envelopes(bob)) == before


async def test_logical_duplicate_gets_a_fresh_echo_without_effects(cluster: Cluster) -> None:
    await cluster.start(*two_node_specs())
    alice, bob = cluster.nodes[ALICE], cluster.nodes[BOB]
    envelope_id = env.new_envelope_id()
    payload = transfer_payload()
    first = await alice.gateway.outbound.send(
        BOB, envelope_id=envelope_id, state=api_pb2.STARTED, payload=payload
    )
    second = await alice.gateway.outbound.send(
        BOB, envelope_id=envelope_id, state=api_pb2.STARTED, payload=payload
    )
    assert second.reply.transfer_state == first.reply.transfer_state == api_pb2.ACCEPTED
    assert second.reply.hmac != first.reply.hmac
    assert second.parts is not None
    assert first.parts is not None
    assert second.parts.identity == first.parts.identity
    assert await _conversation_states(bob) == [(ALICE, "beneficiary", "ACCEPTED")]


async def test_same_id_from_another_peer_is_another_conversation(cluster: Cluster) -> None:
    from support.nodes import NodeSpec, person

    carol = NodeSpec(
        "carol.example",
        "Carol VASP",
        [{"id": "c", "addresses": ["bc1qcarol"], "person": person("Carol", "C")}],
    )
    await cluster.start(*two_node_specs(), carol)
    envelope_id = env.new_envelope_id()
    for sender in (ALICE, "carol.example"):
        result = await cluster.nodes[sender].gateway.outbound.send(
            BOB, envelope_id=envelope_id, state=api_pb2.STARTED, payload=transfer_payload()
        )
        assert result.outcome is Outcome.ACCEPTED
    rows = await _conversation_states(cluster.nodes[BOB])
    assert rows == [
        (ALICE, "beneficiary", "ACCEPTED"),
        ("carol.example", "beneficiary", "ACCEPTED"),
    ]


async def test_transfer_stream_answers_many_envelopes_in_order(cluster: Cluster) -> None:
    await cluster.start(*two_node_specs())
    alice = cluster.nodes[ALICE]
    peer = alice.gateway.directory.get(BOB)
    assert peer is not None
    key = await alice.gateway.client.sealing_key(peer)
    requests = []
    for index in range(40):
        address = BOB_ADDRESS if index % 3 else "bc1qnobody"
        requests.append(env.seal(transfer_payload(beneficiary_address=address), key))
    requests.insert(5, api_pb2.SecureEnvelope(id="not-a-uuid", timestamp=env.format_timestamp()))
    stub = alice.gateway.client.stub(peer)
    call = stub.TransferStream(iter(requests), timeout=60)
    replies = [reply async for reply in call]
    assert len(replies) == len(requests)
    for request, reply in zip(requests, replies, strict=True):
        assert reply.id == request.id
    assert replies[5].error.code == Code.BAD_REQUEST
    codes = [r.error.code for i, r in enumerate(replies) if i != 5]
    assert codes.count(Code.UNKNOWN_WALLET_ADDRESS) == 14
    assert sum(1 for r in replies if r.transfer_state == api_pb2.ACCEPTED) == 26


async def test_key_rotation_mid_transfer_is_learned_again(cluster: Cluster) -> None:
    """Bob restarts with a new key between ACCEPTED and COMPLETED; Alice still holds the
    old one, gets INVALID_KEY (retry), exchanges keys again and resends once (7.5)."""
    await cluster.start(*two_node_specs())
    alice = cluster.nodes[ALICE]
    envelope_id = env.new_envelope_id()
    accepted = await alice.gateway.outbound.send(
        BOB, envelope_id=envelope_id, state=api_pb2.STARTED, payload=transfer_payload()
    )
    assert accepted.outcome is Outcome.ACCEPTED
    assert accepted.parts is not None
    peer = alice.gateway.directory.get(BOB)
    assert peer is not None
    old_key = alice.gateway.keys.get(BOB)
    assert old_key is not None
    bob = await cluster.restart(BOB, rotate_key=True)
    assert env.public_key_signature(
        bob.gateway.credentials.sealing_key
    ) != env.public_key_signature(old_key)
    completed = await alice.gateway.outbound.send(
        BOB,
        envelope_id=envelope_id,
        state=api_pb2.COMPLETED,
        payload=_with_txid(accepted.parts.payload, "0xfeed"),
    )
    assert completed.outcome is Outcome.COMPLETED
    learned = alice.gateway.keys.get(BOB)
    assert learned is not None
    assert env.public_key_signature(learned) == env.public_key_signature(
        bob.gateway.credentials.sealing_key
    )
    sent = [(e.direction, e.transfer_state, e.error_code) for e in await _envelopes(alice)]
    assert sent == [
        ("out", "STARTED", None),
        ("in", "ACCEPTED", None),
        ("out", "COMPLETED", None),
        ("in", "REPAIR", Code.INVALID_KEY),
        ("out", "COMPLETED", None),
        ("in", "COMPLETED", None),
    ]
