"""Which cases are `recommended`: the stricter rules of the TRISA v1beta1 documentation
that the reference library does not follow.

Each entry says what the reference (github.com/trisacrypto/trisa v1.7, on which Envoy and
the TestNet nodes are built) does instead, as observed by `make interop` against a peer
assembled from it. Every other case is `required`: the reference passes it, so a peer that
fails it breaks the protocol as the network runs it. docs/interop.md has the full table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from travelgate.conformance._model import Case, Level

RECOMMENDED: dict[str, str] = {
    "duplicate.exact": (
        "answers a resent envelope like a new one, with a freshly encrypted reply "
        "(neither the library nor Envoy deduplicates)"
    ),
    "exchange.closed": (
        "keeps no conversation state, so a message for a closed exchange is handled like any other"
    ),
    "tamper.pks": (
        "does not read public_key_signature; it unseals with its key and the envelope opens "
        "(Envoy checks it)"
    ),
    "tamper.key_length": (
        "accepts any AES key length Go's AES accepts: a 16-byte key opens as AES-128"
    ),
    "envelope.invalid_id": (
        "Envoy answers with a BAD_REQUEST error envelope that echoes the invalid id"
    ),
    "envelope.missing_id": "Envoy answers with a BAD_REQUEST error envelope with an empty id",
    "envelope.unsealed": (
        "ignores the sealed flag and tries to unseal the clear key: INVALID_KEY, retry=true "
        "(Envoy: gRPC INVALID_ARGUMENT)"
    ),
    "payload.missing_identity": "VALIDATION_ERROR (155), retry=false",
    "payload.missing_transaction": "VALIDATION_ERROR (155), retry=false",
    "payload.missing_sent_at": "VALIDATION_ERROR (155), retry=false",
    "payload.sent_at_format": "VALIDATION_ERROR (155), retry=false",
    "payload.identity_type": "does not check the identity's type URL",
    "payload.undecodable_identity": "never unpacks the identity, so it goes unnoticed",
    "payload.invalid_identity": "does not validate IVMS101",
}


def with_levels(cases: Iterable[Case]) -> tuple[Case, ...]:
    """The cases with the level (and the reference's behaviour) this module assigns."""
    return tuple(
        dataclasses.replace(case, level=Level.RECOMMENDED, reference=RECOMMENDED[case.name])
        if case.name in RECOMMENDED
        else case
        for case in cases
    )
