"""Full TRISA exchanges per second between two nodes on loopback, beside the RSA bound.

A full synchronous exchange costs about four RSA-4096 private-key decrypts across both
sides (each side unseals a key and an HMAC secret), so on one core the bound is a quarter
of the raw decrypt rate measured in the same run; both nodes here share the machine, and
RSA runs in thread pools off the event loops, so more than one core can be used.
"""

from __future__ import annotations

import asyncio
import functools
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench._common import ONE_BUSY_PEER, Row, bracketed, print_rows, rsa_decrypts_per_second
from travelgate import envelope as env
from travelgate._pb.ivms101 import enum_pb2, identity_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2
from travelgate.demo import BOB, BOB_ADDRESS, ensure_pki, load_node, running
from travelgate.node import Node
from travelgate.robots import RobotPolicy

ALICE_ADDRESS = "bc1qalice0customer0000000000000000000000"


def payload() -> api_pb2.Payload:
    identity = identity_pb2.IdentityPayload()
    originator = identity.originator.originator_persons.add().natural_person
    originator.name.name_identifiers.add(
        primary_identifier="Smith",
        secondary_identifier="Alice",
        name_identifier_type=enum_pb2.NATURAL_PERSON_NAME_TYPE_CODE_LEGL,
    )
    originator.geographic_addresses.add(
        address_type=enum_pb2.ADDRESS_TYPE_CODE_HOME,
        street_name="Threadneedle Street",
        building_number="12",
        town_name="London",
        country="GB",
    )
    identity.originator.account_numbers.append(ALICE_ADDRESS)
    beneficiary = identity.beneficiary.beneficiary_persons.add().natural_person
    beneficiary.name.name_identifiers.add(
        primary_identifier="Jones",
        secondary_identifier="Bob",
        name_identifier_type=enum_pb2.NATURAL_PERSON_NAME_TYPE_CODE_LEGL,
    )
    identity.beneficiary.account_numbers.append(BOB_ADDRESS)
    vasp = identity.originating_vasp.originating_vasp.legal_person
    vasp.name.name_identifiers.add(
        legal_person_name="Alice VASP Ltd",
        legal_person_name_identifier_type=enum_pb2.LEGAL_PERSON_NAME_TYPE_CODE_LEGL,
    )
    transaction = transaction_pb2.Transaction(
        originator=ALICE_ADDRESS,
        beneficiary=BOB_ADDRESS,
        amount=0.5,
        network="BTC",
        asset_type="BTC",
    )
    return env.make_payload(identity, transaction, sent_at=env.format_timestamp())


async def _measure(root: Path, concurrency: int, seconds: float) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory(prefix="travelgate-bench-") as state:
        alice = load_node(root, "alice", ephemeral=True, state=Path(state))
        bob = load_node(
            root,
            "bob",
            robot=RobotPolicy.SYNC_ACCEPT,
            ephemeral=True,
            state=Path(state),
            settings=ONE_BUSY_PEER,
        )
        async with running(bob, alice):
            return await _drive(alice, concurrency, seconds)


async def _drive(alice: Node, concurrency: int, seconds: float) -> tuple[float, list[float]]:
    outbound = alice.gateway.outbound
    body = payload()
    await outbound.send(BOB, envelope_id=env.new_envelope_id(), state=api_pb2.STARTED, payload=body)
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            result = await outbound.send(
                BOB, envelope_id=env.new_envelope_id(), state=api_pb2.STARTED, payload=body
            )
            if result.reply.transfer_state != api_pb2.ACCEPTED:
                raise RuntimeError(f"unexpected reply {result.reply}")
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return len(latencies) / (time.perf_counter() - began), latencies


def _run_measure(root: Path, clients: int, seconds: float) -> tuple[float, list[float]]:
    return asyncio.run(_measure(root, clients, seconds))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(seconds: float = 8.0, concurrency: tuple[int, ...] = (1, 8, 32)) -> list[Row]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    decrypts = rsa_decrypts_per_second(key, seconds=3)
    cores = os.cpu_count() or 1
    rows = [Row("exchange", "raw RSA-4096 OAEP-SHA512 decrypts/s (1 core)", decrypts, "ops/s")]
    with tempfile.TemporaryDirectory(prefix="travelgate-pki-") as folder:
        ensure_pki(Path(folder))
        measured = [
            bracketed(key, functools.partial(_run_measure, Path(folder), clients, seconds))
            for clients in concurrency
        ]
    for clients, ((rate, latencies), around) in zip(concurrency, measured, strict=True):
        bound = around / 4
        rows.append(
            Row(
                "exchange",
                f"full sync exchanges/s, {clients} concurrent clients",
                rate,
                "ops/s",
                bound=bound,
                note=f"bound = decrypts/4 (1 core); {cores} cores here",
            )
        )
        rows.append(
            Row(
                "exchange",
                f"  p50 latency, {clients} clients",
                statistics.median(latencies) * 1000,
                "ms",
            )
        )
        rows.append(
            Row(
                "exchange",
                f"  p99 latency, {clients} clients",
                _percentile(latencies, 0.99) * 1000,
                "ms",
            )
        )
    return rows


def main() -> int:
    from travelgate.logging import configure

    configure("warning")
    print_rows(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
