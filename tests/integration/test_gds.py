"""The TRISA Global Directory Service as a source of counterparties (trisa.md 5.3, 10).

Our own directory (tests/support/gds.py) serves TRISADirectory over mTLS on loopback; real
nodes look up names that peers.toml does not list, cache the answers, pin what the
directory certifies, and never clear a hold on a directory that cannot answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from support.api import Api, withdrawal
from support.gds import DirectoryEntry, DirectoryServer, directory_identity
from support.nodes import ALICE, BOB, Cluster, NodeSpec, TestPki, two_node_specs, write_config
from support.processes import run_cli
from travelgate import envelope as env
from travelgate import pki
from travelgate._pb.trisa.api.v1beta1 import api_pb2_grpc
from travelgate.trisa import DirectoryUnavailableError, format_pin, spki_digest

CAROL = "carol.example"


@pytest.fixture
async def gds(test_pki: TestPki) -> AsyncIterator[DirectoryServer]:
    server = DirectoryServer(directory_identity(test_pki.identity), test_pki.ca.cert_pem)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def apis() -> AsyncIterator[list[Api]]:
    made: list[Api] = []
    yield made
    for api in made:
        await api.close()


def _with_directory(spec: NodeSpec, **directory: Any) -> NodeSpec:
    return dataclasses.replace(spec, extra={**spec.extra, "directory": directory})


def _entry(cluster: Cluster, name: str, legal_name: str, **options: Any) -> DirectoryEntry:
    """What the directory says of a node of the cluster: its real port and certificate."""
    endpoint = f"127.0.0.1:{cluster.nodes[name].trisa_port}"
    return DirectoryEntry(cluster.pki.identity(name), endpoint, legal_name, **options)


async def _api(cluster: Cluster, apis: list[Api]) -> Api:
    api = await Api.connect(cluster.nodes[ALICE])
    apis.append(api)
    return api


async def _conversations(cluster: Cluster, name: str) -> list[tuple[object, ...]]:
    return await cluster.nodes[name].gateway.db.read(
        lambda tx: [(c.peer, c.state) for c in tx.conversations()]
    )


async def _key_exchange(cluster: Cluster, caller: Any) -> Any:
    channel = cluster.channel(BOB, caller)
    try:
        stub = api_pb2_grpc.TRISANetworkStub(channel)
        return await stub.KeyExchange(env.signing_key_for(caller.certificate), timeout=10)
    finally:
        await channel.close()


# -- outbound and inbound through the directory ---------------------------------------------


async def test_a_withdrawal_to_a_name_only_the_directory_knows_clears_through_a_real_node(
    cluster: Cluster, gds: DirectoryServer, apis: list[Api]
) -> None:
    # Neither node lists the other: each learns the other from the directory alone.
    alice, bob = (_with_directory(s, file="", gds=gds.target) for s in two_node_specs())
    await cluster.start(alice, bob)
    gds.directory.add(_entry(cluster, BOB, "Bob VASP Ltd"))
    gds.directory.add(_entry(cluster, ALICE, "Alice VASP Ltd"))
    api = await _api(cluster, apis)

    status, hold = await api.create(withdrawal())

    assert status == 201, hold
    assert hold["counterparty"] == {
        "kind": "vasp",
        "name": BOB,
        "protocol": "trisa",
        "source": "directory",
    }
    cleared = await api.wait_state(hold["id"], "cleared")
    assert cleared["decision"]["rule"] == "reply:accepted"
    assert cleared["counterparty"]["source"] == "directory"
    # Bob accepted a transfer from a CN it only knows from the directory.
    assert await _conversations(cluster, BOB) == [(ALICE, "ACCEPTED")]
    # Cached: one lookup of each name, however many calls the exchange made.
    assert gds.directory.lookups_of(BOB) == 1
    assert gds.directory.lookups_of(ALICE) == 1


async def test_an_inbound_cn_only_in_the_directory_is_accepted_and_pinned(
    cluster: Cluster, gds: DirectoryServer, test_pki: TestPki
) -> None:
    _alice, bob = two_node_specs()
    await cluster.start(_with_directory(bob, file="", gds=gds.target), also=(ALICE,))
    gds.directory.add(DirectoryEntry(test_pki.identity(ALICE), "127.0.0.1:1", "Alice VASP Ltd"))

    reply = await _key_exchange(cluster, test_pki.identity(ALICE))
    assert reply.data  # accepted: Bob answered with its own sealing key

    pinned = cluster.nodes[BOB].gateway.directory.get(ALICE)
    assert pinned is not None
    assert pinned.source == "directory"
    assert pinned.pins == {spki_digest(test_pki.identity(ALICE).certificate.public_key())}
    # Same CA, same name, another key: the directory's certificate is pinned.
    impostor = test_pki.identity(ALICE, valid_days=90)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _key_exchange(cluster, impostor)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "pinned key" in (caught.value.details() or "")

    # A certified name the directory does not know is refused, and asked about only once.
    for _ in range(3):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _key_exchange(cluster, test_pki.identity(CAROL))
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert gds.directory.lookups_of(CAROL) == 1
    assert gds.directory.lookups_of(ALICE) == 1


async def test_the_peers_file_overrides_the_directory(
    cluster: Cluster, gds: DirectoryServer, apis: list[Api], test_pki: TestPki
) -> None:
    alice, bob = two_node_specs()
    # Alice lists Bob in peers.toml and also has a directory that says otherwise.
    await cluster.start(_with_directory(alice, file="peers.toml", gds=gds.target), bob)
    elsewhere = test_pki.identity(BOB, valid_days=30)  # another key for the same name
    gds.directory.add(DirectoryEntry(elsewhere, "127.0.0.1:1", "Not Bob"))
    api = await _api(cluster, apis)

    status, hold = await api.create(withdrawal())

    assert status == 201, hold
    assert hold["counterparty"] == {"kind": "vasp", "name": BOB, "protocol": "trisa"}
    cleared = await api.wait_state(hold["id"], "cleared")
    assert cleared["decision"]["rule"] == "reply:accepted"
    assert gds.directory.lookups_of(BOB) == 0
    assert cluster.nodes[ALICE].gateway.directory.get(BOB).source == "peers"  # type: ignore[union-attr]


async def test_answers_are_cached_for_gds_ttl_and_not_found_for_less(
    cluster: Cluster, gds: DirectoryServer, test_pki: TestPki
) -> None:
    alice, _bob = two_node_specs()
    spec = _with_directory(alice, file="", gds=gds.target, gds_ttl="1s")
    await cluster.start(spec)
    entry = gds.directory.add(DirectoryEntry(test_pki.identity(BOB), "127.0.0.1:9001", "Bob"))
    directory = cluster.nodes[ALICE].gateway.directory

    first = await asyncio.gather(*(directory.resolve(BOB) for _ in range(5)))
    assert {r.peer.endpoint for r in first if r.peer} == {"127.0.0.1:9001"}
    assert gds.directory.lookups_of(BOB) == 1  # five concurrent callers, one call
    entry.endpoint = "127.0.0.1:9002"  # the VASP moved
    assert (await directory.resolve(BOB)).peer.endpoint == "127.0.0.1:9001"  # type: ignore[union-attr]
    assert gds.directory.lookups_of(BOB) == 1

    assert (await directory.resolve(CAROL)).peer is None
    assert (await directory.resolve(CAROL)).peer is None
    assert gds.directory.lookups_of(CAROL) == 1

    await asyncio.sleep(1.2)
    moved = await directory.resolve(BOB)
    assert moved.peer is not None
    assert moved.peer.endpoint == "127.0.0.1:9002"
    assert gds.directory.lookups_of(BOB) == 2
    await directory.resolve(CAROL)
    assert gds.directory.lookups_of(CAROL) == 2

    # Past the TTL with the directory down: the record is no longer vouched for. A send
    # fails like one to an unreachable peer (the outbox retries it); the last record stays
    # readable for what only displays it.
    await asyncio.sleep(1.2)
    await gds.stop()
    down = await directory.resolve(BOB)
    assert down.peer is None
    assert "TRISA directory" in (down.unavailable or "")
    assert directory.get(BOB) is not None
    with pytest.raises(DirectoryUnavailableError):
        await cluster.nodes[ALICE].gateway.outbound.resolve_peer(BOB)


async def test_a_revoked_directory_record_is_not_a_counterparty(
    cluster: Cluster, gds: DirectoryServer, apis: list[Api], test_pki: TestPki
) -> None:
    alice, _bob = two_node_specs()
    await cluster.start(_with_directory(alice, file="", gds=gds.target))
    revoked = DirectoryEntry(test_pki.identity(BOB), "127.0.0.1:1", "Bob", revoked=True)
    gds.directory.add(revoked)
    api = await _api(cluster, apis)

    status, hold = await api.create(withdrawal())

    assert status == 201, hold
    assert hold["state"] == "review"
    assert hold["counterparty"] == {"kind": "vasp", "name": BOB, "protocol": None}
    assert hold["decision"]["code"] == "POLICY.COUNTERPARTY_UNREACHABLE"
    assert "its identity certificate is revoked" in hold["decision"]["reason"]
    assert await _conversations(cluster, ALICE) == []


# -- a directory that cannot answer ----------------------------------------------------------


@pytest.mark.parametrize("trouble", ["down", "slow"])
async def test_a_directory_that_cannot_answer_never_clears_a_hold(
    cluster: Cluster, gds: DirectoryServer, apis: list[Api], trouble: str
) -> None:
    target = gds.target
    if trouble == "down":
        await gds.stop()
    else:
        gds.directory.delay = 3.0
    specs = (_with_directory(s, file="", gds=target, gds_timeout="0.5s") for s in two_node_specs())
    await cluster.start(*specs)
    if trouble == "slow":
        gds.directory.add(_entry(cluster, BOB, "Bob VASP Ltd"))
    api = await _api(cluster, apis)

    status, hold = await api.create(withdrawal())

    assert status == 201, hold
    assert hold["state"] == "review"
    assert hold["counterparty"] == {"kind": "vasp", "name": BOB, "protocol": None}
    decision = hold["decision"]
    assert decision["code"] == "POLICY.COUNTERPARTY_UNREACHABLE", decision
    assert "TRISA directory" in decision["reason"]
    assert "unreachable counterparty apply" in decision["reason"], decision
    if trouble == "slow":
        assert "did not answer within 0.5s" in decision["reason"]
    assert await _conversations(cluster, ALICE) == []
    assert await _conversations(cluster, BOB) == []

    # Inbound, a caller the directory cannot vouch for is told to retry, not refused.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _key_exchange(cluster, cluster.pki.identity(ALICE))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "TRISA directory" in (caught.value.details() or "")


# -- travelgate directory lookup ----------------------------------------------------------------


def _cli_config(test_pki: TestPki, tmp_path: Path, **directory: Any) -> Path:
    alice, _bob = two_node_specs()
    spec = dataclasses.replace(
        _with_directory(alice, **directory), name="cli.example", legal_name="CLI"
    )
    return write_config(test_pki, spec, database=tmp_path / "cli.db")


async def _cli(*args: str) -> tuple[int, str, str]:
    done = await asyncio.to_thread(run_cli, *args)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


async def test_lookup_prints_the_record_as_json(
    gds: DirectoryServer, test_pki: TestPki, tmp_path: Path
) -> None:
    bob = test_pki.identity(BOB)
    sealing = test_pki.identity("seal.bob.example")
    gds.directory.add(
        DirectoryEntry(bob, "bob.example:443", "Bob VASP Ltd", signing=sealing, der=True)
    )
    config = _cli_config(test_pki, tmp_path, file="", gds=gds.target)

    code, out, err = await _cli("directory", "lookup", "--config", str(config), BOB)

    assert code == 0, err
    record = json.loads(out)
    assert record["name"] == "Bob VASP Ltd"
    assert record["common_name"] == BOB
    assert record["endpoint"] == "bob.example:443"
    assert record["country"] == "GB"
    assert record["registered_directory"] == "testnet.directory"
    assert record["id"]
    assert record["verified_on"]
    assert record["pin"] == format_pin(spki_digest(bob.certificate.public_key()))
    identity = record["identity_certificate"]
    assert identity["subject"] == f"CN={BOB}"
    assert identity["pin"] == record["pin"]
    assert identity["chain"] == ["CN=travelgate test CA"]
    assert len(identity["sha256"]) == 64
    assert record["signing_certificate"]["subject"] == "CN=seal.bob.example"
    assert record["sealing_key"] == {
        "from": "signing_certificate",
        "public_key_signature": env.public_key_signature(sealing.certificate.public_key()),
    }
    assert record["usable"] is True
    assert record["problem"] is None
    assert record["overridden_by_peers_file"] is False
    assert record["raw"]["identity_certificate"]["signature_algorithm"] == "SHA256-RSA"


async def test_lookup_of_an_unknown_name_exits_1(
    gds: DirectoryServer, test_pki: TestPki, tmp_path: Path
) -> None:
    config = _cli_config(test_pki, tmp_path, file="", gds=gds.target)

    code, out, err = await _cli("directory", "lookup", "--config", str(config), CAROL)

    assert code == 1
    assert out == ""
    assert f"{CAROL} is not in the TRISA directory {gds.target}" in err
    assert "Traceback" not in err


async def test_lookup_with_the_directory_down_or_unset_exits_2(
    gds: DirectoryServer, test_pki: TestPki, tmp_path: Path
) -> None:
    target = gds.target
    await gds.stop()
    config = _cli_config(test_pki, tmp_path, file="", gds=target, gds_timeout="2s")

    code, out, err = await _cli("directory", "lookup", "--config", str(config), BOB)

    assert code == 2
    assert out == ""
    assert f"the TRISA directory {target}" in err
    assert "Traceback" not in err

    unset = _cli_config(test_pki, tmp_path, file="")
    code, _out, err = await _cli("directory", "lookup", "--config", str(unset), BOB)
    assert code == 2
    assert "[directory] gds is not set" in err


async def test_lookup_trusts_gds_trust_for_the_directory_server(
    gds: DirectoryServer, test_pki: TestPki, tmp_path: Path
) -> None:
    gds.directory.add(DirectoryEntry(test_pki.identity(BOB), "bob.example:443", "Bob"))
    trusted = _cli_config(
        test_pki, tmp_path, file="", gds=gds.target, gds_trust=str(test_pki.trust)
    )
    code, out, err = await _cli("directory", "lookup", "--config", str(trusted), BOB)
    assert code == 0, err
    assert json.loads(out)["common_name"] == BOB

    other = tmp_path / "other-ca.pem"
    other.write_bytes(pki.make_authority("another CA", key_size=2048).cert_pem)
    config = _cli_config(test_pki, tmp_path, file="", gds=gds.target, gds_trust=str(other))
    code, out, err = await _cli("directory", "lookup", "--config", str(config), BOB)
    assert code == 2
    assert f"the TRISA directory {gds.target} is unavailable" in err
    assert "Traceback" not in err

    missing = _cli_config(test_pki, tmp_path, file="", gds=gds.target, gds_trust="nope.pem")
    code, _out, err = await _cli("directory", "lookup", "--config", str(missing), BOB)
    assert code == 2
    assert "[directory] gds_trust" in err
    assert "not readable" in err
