"""Envelope benchmark: seals/s and opens/s on one core against the raw RSA decrypt bound.

An open costs two RSA-4096 OAEP decrypts (key and HMAC secret are sealed separately), so the
bound for opens is half the raw decrypt rate measured in the same run.
"""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives.asymmetric import rsa

from bench._common import Row, bracketed, print_rows, rate, rsa_decrypts_per_second
from travelgate import envelope as env
from travelgate._pb.ivms101 import identity_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2


def payload_of(size: int) -> api_pb2.Payload:
    """A valid payload whose binary encoding is about `size` bytes."""
    identity = identity_pb2.IdentityPayload()
    person = identity.originator.originator_persons.add().natural_person
    person.name.name_identifiers.add(
        primary_identifier="Smith", secondary_identifier="Alice", name_identifier_type=4
    )
    identity.originator.account_numbers.append("bc1qalice0customer0000000000000000000000")
    transaction = transaction_pb2.Transaction(
        originator="bc1qalice", beneficiary="bc1qbob", amount=0.5, network="BTC", asset_type="BTC"
    )
    payload = env.make_payload(identity, transaction, sent_at=env.format_timestamp())
    padding = max(0, size - len(payload.SerializeToString()) - 4)
    transaction.extra_json = '{"pad": "' + "x" * max(0, padding - 12) + '"}'
    return env.make_payload(identity, transaction, sent_at=payload.sent_at)


def run(seconds: float = 2.0) -> list[Row]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    ring = env.KeyRing.of([key])
    public = key.public_key()
    decrypts = rsa_decrypts_per_second(key, seconds=seconds)
    rows = [Row("envelope", "raw RSA-4096 OAEP-SHA512 decrypts/s (1 core)", decrypts, "ops/s")]
    for label, size in (("1 KiB", 1024), ("64 KiB", 64 * 1024)):
        payload = payload_of(size)
        sealed = env.seal(payload, public)
        rows.append(
            Row(
                "envelope",
                f"seals/s, {label} payload",
                rate(functools.partial(env.seal, payload, public), seconds=seconds),
                "ops/s",
            )
        )
        opens, decrypts_here = bracketed(
            key,
            functools.partial(
                rate, functools.partial(env.open_envelope, sealed, ring), seconds=seconds
            ),
        )
        rows.append(
            Row(
                "envelope",
                f"opens/s, {label} payload",
                opens,
                "ops/s",
                bound=decrypts_here / 2,
                note="bound = decrypts/2, decrypts measured around the figure",
            )
        )
    return rows


def main() -> int:
    print_rows(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
