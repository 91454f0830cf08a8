"""Cases that send one deliberate defect each and expect the answer the TRISA receive-side checks
and payload rules prescribe.

Every envelope here is otherwise correct and sealed to the peer's real key, so the defect
named by the case is the only reason to refuse it. They go to an address nobody controls:
a peer that misses the defect then answers with a rejection, not a live exchange.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

import grpc

from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2
from travelgate.conformance._craft import Crafted, flip_bit, other_pks
from travelgate.conformance._expect import expect_error, expect_status, expected_error
from travelgate.conformance._model import Case, Finding, Status, failed
from travelgate.conformance._payloads import invalid_identity, transaction, unknown_address
from travelgate.conformance._probe import Probe
from travelgate.conformance._wire import Answer
from travelgate.errors import Code

Build = Callable[[Probe], Awaitable[api_pb2.SecureEnvelope]]


def _error_case(
    name: str,
    checks: str,
    spec: str,
    build: Build,
    codes: tuple[int, ...],
    *,
    retry: bool | None,
) -> Case:
    async def run(probe: Probe) -> Finding:
        await probe.require_reachable()
        return await expect_error(probe, await build(probe), codes, retry=retry)

    return Case(name, checks, expected_error(codes, retry), spec, run)


def _status_case(
    name: str, checks: str, spec: str, build: Build, code: grpc.StatusCode, hint: str = ""
) -> Case:
    async def run(probe: Probe) -> Finding:
        await probe.require_reachable()
        answer: Answer[api_pb2.SecureEnvelope] = await probe.transfer(await build(probe))
        finding = expect_status(answer, code)
        if hint and finding.status is Status.FAIL and answer.message is not None:
            return failed(finding.actual, hint)
        return finding

    return Case(name, checks, f"gRPC {code.name}", spec, run)


def _mutated(change: Callable[[Crafted], api_pb2.SecureEnvelope]) -> Build:
    async def build(probe: Probe) -> api_pb2.SecureEnvelope:
        return change(await probe.craft())

    return build


def _field(name: str, value: object) -> Callable[[Crafted], api_pb2.SecureEnvelope]:
    def change(crafted: Crafted) -> api_pb2.SecureEnvelope:
        envelope = crafted.copy()
        setattr(envelope, name, value)
        return envelope

    return change


def _flipped(name: str) -> Callable[[Crafted], api_pb2.SecureEnvelope]:
    def change(crafted: Crafted) -> api_pb2.SecureEnvelope:
        envelope = crafted.copy()
        data: bytes = getattr(envelope, name)
        setattr(envelope, name, flip_bit(data, len(data) // 2))
        return envelope

    return change


def _random_hmac(crafted: Crafted) -> api_pb2.SecureEnvelope:
    envelope = crafted.copy()
    envelope.hmac = os.urandom(32)
    return envelope


def _unsealed(crafted: Crafted) -> api_pb2.SecureEnvelope:
    """The same envelope with its key and secret in clear, as local storage keeps it."""
    envelope = crafted.copy()
    envelope.encryption_key = crafted.key
    envelope.hmac_secret = crafted.secret
    envelope.sealed = False
    envelope.public_key_signature = ""
    return envelope


def _pks(crafted: Crafted) -> api_pb2.SecureEnvelope:
    envelope = crafted.copy()
    envelope.public_key_signature = other_pks(envelope.public_key_signature)
    return envelope


def _ciphertext(crafted: Crafted) -> api_pb2.SecureEnvelope:
    """A corrupted ciphertext under a valid HMAC: only the GCM tag can catch it."""
    return crafted.resigned(flip_bit(crafted.envelope.payload, 0))


def _short(crafted: Crafted) -> api_pb2.SecureEnvelope:
    """Fewer bytes than a GCM tag and nonce, under a valid HMAC."""
    return crafted.resigned(crafted.envelope.payload[:20])


async def _short_key(probe: Probe) -> api_pb2.SecureEnvelope:
    """Correctly sealed, but with a 16-byte AES key inside (step 15)."""
    return (await probe.craft(key=os.urandom(16))).envelope


async def _empty(probe: Probe) -> api_pb2.SecureEnvelope:
    return api_pb2.SecureEnvelope(
        id=env.new_envelope_id(), timestamp=env.format_timestamp(), transfer_state=api_pb2.STARTED
    )


async def _invalid_error(probe: Probe) -> api_pb2.SecureEnvelope:
    """An error-only envelope whose error is UNHANDLED (0): never valid (TRISA Error.Code)."""
    return api_pb2.SecureEnvelope(
        id=env.new_envelope_id(),
        timestamp=env.format_timestamp(),
        error=errors_pb2.Error(code=Code.UNHANDLED, message="conformance: an error without a code"),
        transfer_state=api_pb2.REJECTED,
    )


def _payload(change: Callable[[api_pb2.Payload], None]) -> Build:
    async def build(probe: Probe) -> api_pb2.SecureEnvelope:
        payload = probe.defect_payload()
        change(payload)
        return (await probe.craft(payload)).envelope

    return build


def _without(name: str) -> Callable[[api_pb2.Payload], None]:
    def change(payload: api_pb2.Payload) -> None:
        payload.ClearField(name)  # type: ignore[arg-type]

    return change


def _identity_is_a_transaction(payload: api_pb2.Payload) -> None:
    payload.identity.CopyFrom(env.pack(transaction(unknown_address())))


def _transaction_is_trp(payload: api_pb2.Payload) -> None:
    # TRP is a local storage record, never valid in a Transfer (TRISA payload rules).
    trp = transaction_pb2.TRP(envelope_id=env.new_envelope_id())
    payload.transaction.Pack(trp)


def _undecodable_identity(payload: api_pb2.Payload) -> None:
    payload.identity.value = b"\xff\xff\xff\xff\xff"


def _sent_at_without_zone(payload: api_pb2.Payload) -> None:
    payload.sent_at = "2025-07-15 10:46:38"


async def _not_a_payload(probe: Probe) -> api_pb2.SecureEnvelope:
    return (await probe.craft(b"\xff\xff\xff\xff\xff")).envelope


async def _invalid_identity(probe: Probe) -> api_pb2.SecureEnvelope:
    address = unknown_address()
    payload = env.make_payload(
        invalid_identity(probe.parties, address),
        transaction(address),
        sent_at=env.format_timestamp(),
    )
    return (await probe.craft(payload)).envelope


def _payload_rule(
    name: str, checks: str, change: Callable[[api_pb2.Payload], None]
) -> tuple[Case, Case]:
    """A missing payload field: the TRISA documentation's MISSING_FIELDS with retry
    (recommended), and the refusal the protocol requires, which the reference answers with
    VALIDATION_ERROR."""
    build = _payload(change)
    return (
        _error_case(name, checks, "6.3, 6.1 step 19", build, (Code.MISSING_FIELDS,), retry=True),
        _error_case(
            f"{name}.refused",
            f"{checks} is refused",
            "6.3, 6.1 step 19",
            build,
            (Code.MISSING_FIELDS, Code.VALIDATION_ERROR),
            retry=None,
        ),
    )


def _with_id(envelope_id: str) -> Build:
    return _mutated(_field("id", envelope_id))


_BAD_ID_HINT = (
    "Envoy answers an invalid id with a BAD_REQUEST envelope echoing it; TRISA v1beta1 asks for "
    "gRPC INVALID_ARGUMENT, since there is no valid id to answer with"
)
_IVMS_CODES = (
    Code.UNPARSEABLE_IDENTITY,
    Code.MISSING_FIELDS,
    Code.INCOMPLETE_IDENTITY,
    Code.VALIDATION_ERROR,
)

TAMPER = (
    _error_case(
        "tamper.payload_bit",
        "one bit of the encrypted payload flipped: the HMAC no longer matches",
        "6.1 step 16, 11.1",
        _mutated(_flipped("payload")),
        (Code.INVALID_SIGNATURE,),
        retry=False,
    ),
    _error_case(
        "tamper.hmac",
        "the hmac field replaced by 32 random bytes",
        "6.1 step 16, 11.1",
        _mutated(_random_hmac),
        (Code.INVALID_SIGNATURE,),
        retry=False,
    ),
    _error_case(
        "tamper.ciphertext",
        "a corrupted ciphertext under a valid HMAC: the AES-GCM tag must catch it",
        "6.1 step 17, 11.1",
        _mutated(_ciphertext),
        (Code.INVALID_KEY,),
        retry=False,
    ),
    _error_case(
        "tamper.encryption_key",
        "one bit of the RSA-sealed encryption_key flipped: unsealing fails",
        "6.1 step 14, 11.1",
        _mutated(_flipped("encryption_key")),
        (Code.INVALID_KEY,),
        retry=True,
    ),
    _error_case(
        "tamper.hmac_secret",
        "one bit of the RSA-sealed hmac_secret flipped: unsealing fails",
        "6.1 step 14",
        _mutated(_flipped("hmac_secret")),
        (Code.INVALID_KEY,),
        retry=True,
    ),
    _error_case(
        "tamper.pks",
        "one character of public_key_signature changed: no key of the peer matches",
        "6.1 step 12, 4.6, 11.1",
        _mutated(_pks),
        (Code.INVALID_KEY,),
        retry=True,
    ),
    _error_case(
        "tamper.key_length",
        "a correctly sealed 16-byte AES key where 32 bytes are required",
        "6.1 step 15, 4.3",
        _short_key,
        (Code.INVALID_KEY,),
        retry=False,
    ),
    _error_case(
        "tamper.short_payload",
        "a payload shorter than GCM tag plus nonce (28 bytes), under a valid HMAC",
        "6.1 step 17, 4.3",
        _mutated(_short),
        (Code.INVALID_KEY,),
        retry=False,
    ),
    _error_case(
        "tamper.timestamp",
        "an empty envelope timestamp",
        "6.1 step 3, 11.1",
        _mutated(_field("timestamp", "")),
        (Code.BAD_REQUEST,),
        retry=False,
    ),
)

ALGORITHMS = (
    _error_case(
        "algorithms.aes128",
        "encryption_algorithm AES128-GCM (only AES256-GCM is accepted)",
        "6.1 step 11, 4.8, 11.1",
        _mutated(_field("encryption_algorithm", "AES128-GCM")),
        (Code.UNHANDLED_ALGORITHM,),
        retry=False,
    ),
    _error_case(
        "algorithms.hmac_sha1",
        "hmac_algorithm HMAC-SHA1 (only HMAC-SHA256 is accepted)",
        "6.1 step 11, 4.8",
        _mutated(_field("hmac_algorithm", "HMAC-SHA1")),
        (Code.UNHANDLED_ALGORITHM,),
        retry=False,
    ),
)

ENVELOPE = (
    _status_case(
        "envelope.invalid_id",
        "envelope id `not-a-uuid`: there is no valid id to answer with",
        "6.1 step 2, 6.4, 11.1",
        _with_id("not-a-uuid"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    _status_case(
        "envelope.missing_id",
        "an envelope without an id",
        "6.1 step 2, 6.4",
        _with_id(""),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    _error_case(
        "envelope.timestamp_zone",
        "an envelope timestamp without a time zone",
        "6.1 step 3, 4.9",
        _mutated(_field("timestamp", "2025-07-15T10:46:38.123456")),
        (Code.BAD_REQUEST,),
        retry=False,
    ),
    _error_case(
        "envelope.empty",
        "an envelope with neither a payload nor an error",
        "6.1 step 4, 4.7",
        _empty,
        (Code.BAD_REQUEST,),
        retry=False,
    ),
    _error_case(
        "envelope.invalid_error",
        "an error-only envelope whose error code is 0 (UNHANDLED)",
        "6.1 step 5, 3.3",
        _invalid_error,
        (Code.BAD_REQUEST,),
        retry=False,
    ),
    _error_case(
        "envelope.missing_fields",
        "a payload without its hmac",
        "6.1 step 6",
        _mutated(_field("hmac", b"")),
        (Code.BAD_REQUEST,),
        retry=False,
    ),
    _error_case(
        "envelope.unsealed",
        "an unsealed envelope (key and secret in clear, sealed=false)",
        "6.1 step 10, 4.7, 11.1",
        _mutated(_unsealed),
        (Code.BAD_REQUEST,),
        retry=False,
    ),
)

PAYLOAD = (
    _error_case(
        "payload.undecodable",
        "a correctly sealed plaintext that is not a trisa.api.v1beta1.Payload",
        "6.1 step 18",
        _not_a_payload,
        (Code.ENVELOPE_DECODE_FAIL,),
        retry=False,
    ),
    *_payload_rule("payload.missing_identity", "a payload without identity", _without("identity")),
    *_payload_rule(
        "payload.missing_transaction", "a payload without transaction", _without("transaction")
    ),
    *_payload_rule("payload.missing_sent_at", "a payload without sent_at", _without("sent_at")),
    _error_case(
        "payload.identity_type",
        "an identity Any that holds a Transaction instead of an ivms101.IdentityPayload",
        "6.3",
        _payload(_identity_is_a_transaction),
        (Code.UNPARSEABLE_IDENTITY,),
        retry=True,
    ),
    _error_case(
        "payload.unparseable_transaction",
        "a transaction Any of type TRP, which never travels in a Transfer",
        "6.3",
        _payload(_transaction_is_trp),
        (Code.UNPARSEABLE_TRANSACTION,),
        retry=True,
    ),
    _error_case(
        "payload.sent_at_format",
        "a sent_at that is not an RFC 3339 timestamp with a zone",
        "6.3, 4.9",
        _payload(_sent_at_without_zone),
        (Code.VALIDATION_ERROR,),
        retry=True,
    ),
    _error_case(
        "payload.sent_at_format.refused",
        "a sent_at that is not an RFC 3339 timestamp with a zone is refused",
        "6.3, 4.9",
        _payload(_sent_at_without_zone),
        (Code.VALIDATION_ERROR,),
        retry=None,
    ),
    _error_case(
        "payload.undecodable_identity",
        "an identity of the right type whose bytes do not decode",
        "6.1 step 20",
        _payload(_undecodable_identity),
        (Code.UNPARSEABLE_IDENTITY,),
        retry=True,
    ),
    _error_case(
        "payload.invalid_identity",
        "a decodable identity that breaks IVMS101 (country `United Kingdom`)",
        "6.1 step 22, 11.1",
        _invalid_identity,
        _IVMS_CODES,
        retry=True,
    ),
)
