"""Cases about a valid exchange: the reply, its sealing, its payload, duplicates, streams,
and how the peer reports failures (TRISA envelope ids, replies,
error envelopes and transfer protocol)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import grpc

from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2
from travelgate.conformance._craft import flip_bit
from travelgate.conformance._expect import (
    AS_STATUS,
    error_envelope_problems,
    expect_error,
    expect_status,
    expected_error,
)
from travelgate.conformance._model import Case, Finding, failed, passed
from travelgate.conformance._payloads import valid_payload
from travelgate.conformance._probe import Probe, Skip
from travelgate.conformance._wire import (
    Answer,
    clip,
    code_label,
    describe,
    describe_envelope,
    state_label,
    stream,
)
from travelgate.errors import BadRequestError, Code, TrisaError

# Failures of a correctly sealed envelope that say the peer could not read it.
_READ_FAILURES = frozenset(
    {
        Code.NO_SIGNING_KEY,
        Code.INVALID_SIGNATURE,
        Code.ENVELOPE_DECODE_FAIL,
        Code.UNHANDLED_ALGORITHM,
        Code.BAD_REQUEST,
    }
)
# Answers that come before the key is looked up (early TRISA receive checks) say nothing of it.
_BEFORE_KEY = frozenset({Code.BAD_REQUEST, Code.FORBIDDEN, Code.UNHANDLED_ALGORITHM})


def _reply_code(answer: Answer[api_pb2.SecureEnvelope]) -> int | None:
    """The TRISA code of a reply: from its error envelope, or from a legacy gRPC status."""
    if answer.message is not None:
        return int(answer.message.error.code) if env.has_error(answer.message) else None
    return int(answer.legacy.code) if answer.legacy is not None else None


async def _same_id(probe: Probe) -> Finding:
    exchange = await probe.valid_exchange()
    answer = exchange.answer
    if answer.message is None:
        detail = AS_STATUS if answer.legacy is not None else ""
        return failed(answer.status_text(), detail)
    reply = answer.message
    actual = f"reply id {reply.id!r} ({describe_envelope(reply)})"
    if reply.id != exchange.request.id:
        return failed(actual, f"the request id was {exchange.request.id!r}")
    return passed(actual)


async def _reply_structure(probe: Probe) -> Finding:
    reply = await probe.sealed_reply()
    problems = []
    try:
        env.check_structure(reply)
    except BadRequestError as exc:
        problems.append(exc.message)
    if not reply.sealed:
        problems.append("sealed is false: the key and secret would travel in clear")
    if not reply.public_key_signature:
        problems.append("public_key_signature is empty")
    for name, wanted in (
        ("encryption_algorithm", env.AES_ALGORITHM),
        ("hmac_algorithm", env.HMAC_ALGORITHM),
    ):
        value = getattr(reply, name)
        if value and value != wanted:
            problems.append(f"{name} is {value!r}, not {wanted!r}")
    actual = describe_envelope(reply)
    return failed(actual, "; ".join(problems)) if problems else passed(actual)


async def _decrypts(probe: Probe) -> Finding:
    exchange = await probe.valid_exchange()
    code = _reply_code(exchange.answer)
    if exchange.answer.message is None and code is None:
        raise Skip(f"no reply envelope ({exchange.answer.status_text()}); see transfer.same_id")
    actual = describe(exchange.answer)
    if code in _READ_FAILURES:
        return failed(actual, "the peer could not read a correctly sealed envelope")
    return passed(actual)


async def _signature(probe: Probe) -> Finding:
    exchange = await probe.valid_exchange()
    code = _reply_code(exchange.answer)
    if exchange.answer.message is None and code is None:
        raise Skip(f"no reply envelope ({exchange.answer.status_text()}); see transfer.same_id")
    actual = describe(exchange.answer)
    if code == Code.INVALID_KEY:
        return failed(
            actual,
            f"we sealed to the exchanged key and named it {exchange.request.public_key_signature}",
        )
    if code in _BEFORE_KEY:
        raise Skip(f"the peer stopped before looking up the key ({actual})")
    return passed(actual)


async def _sealed_to_us(probe: Probe) -> Finding:
    reply = await probe.sealed_reply()
    pks = reply.public_key_signature
    actual = f"sealed={str(reply.sealed).lower()}, public_key_signature {pks!r}"
    if not reply.sealed:
        return failed(actual, "a payload reply must be sealed")
    try:
        probe.credentials.keyring.find(pks)
    except TrisaError:
        return failed(actual, f"our sealing key is {probe.our_pks}")
    return passed(actual)


async def _opens(probe: Probe) -> Finding:
    try:
        opened = await probe.opened_reply()
    except TrisaError as exc:
        return failed(f"{exc.code_name}: {exc.message}")
    parts = opened.parts
    return passed(f"a Payload with an IdentityPayload and a {parts.kind.value}")


async def _state(probe: Probe) -> Finding:
    reply = await probe.sealed_reply()
    state = reply.transfer_state
    actual = f"transfer_state {state_label(state)}"
    try:
        opened = await probe.opened_reply()
    except TrisaError:
        opened = None
    if opened is not None:
        actual += f" with a {opened.parts.kind.value}"
    if state == api_pb2.UNSPECIFIED:
        return passed(
            actual, "a pre-v1.1 peer: the state is read from the payload type (TRISA TransferState)"
        )
    if state not in (api_pb2.ACCEPTED, api_pb2.PENDING):
        return failed(actual, "a reply to STARTED accepts (ACCEPTED) or defers (PENDING)")
    if opened is not None:
        waits = opened.parts.kind in (
            env.TransactionKind.PENDING,
            env.TransactionKind.CONFIRMATION_RECEIPT,
        )
        if waits != (state == api_pb2.PENDING):
            return failed(actual, "PENDING goes with a Pending, ACCEPTED with a Transaction")
    return passed(actual)


async def _echo(probe: Probe) -> Finding:
    exchange = await probe.valid_exchange()
    try:
        opened = await probe.opened_reply()
    except TrisaError as exc:
        raise Skip(
            f"the reply does not open with our key ({exc.code_name}); see transfer.opens"
        ) from None
    sent = env.check_payload(exchange.payload)
    got = opened.parts
    problems = []
    if got.payload.sent_at != exchange.payload.sent_at:
        problems.append(
            f"sent_at {got.payload.sent_at!r} is not ours ({exchange.payload.sent_at!r})"
        )
    if not got.payload.received_at:
        problems.append("received_at is not set")
    elif not env.is_timestamp(got.payload.received_at):
        problems.append(f"received_at {got.payload.received_at!r} is not RFC 3339")
    if got.identity.originator != sent.identity.originator:
        problems.append("the originator differs from the one we sent")
    ours, theirs = sent.underlying_transaction, got.underlying_transaction
    pending_without_copy = got.kind is env.TransactionKind.PENDING and not (
        isinstance(got.transaction, transaction_pb2.Pending)
        and got.transaction.HasField("transaction")
    )
    if not pending_without_copy:
        for name in ("originator", "beneficiary", "amount", "network"):
            if getattr(theirs, name) != getattr(ours, name):
                problems.append(f"transaction {name} differs from the one we sent")
    actual = (
        f"sent_at {got.payload.sent_at!r}, received_at {got.payload.received_at!r}, "
        f"{got.kind.value}"
    )
    return failed(actual, "; ".join(problems)) if problems else passed(actual)


async def _duplicate(probe: Probe) -> Finding:
    exchange = await probe.valid_exchange()
    first = exchange.answer.message
    if first is None:
        raise Skip(f"no reply to the first copy ({exchange.answer.status_text()})")
    answer = await probe.transfer(exchange.request, observe=False)
    if answer.message is None:
        return failed(answer.status_text())
    again = answer.message
    if again.SerializeToString() == first.SerializeToString():
        return passed(f"the stored reply, byte for byte ({describe_envelope(again)})")
    differing = [
        field.name
        for field in api_pb2.SecureEnvelope.DESCRIPTOR.fields
        if getattr(again, field.name) != getattr(first, field.name)
    ]
    return failed(f"a different reply ({describe_envelope(again)})", f"differs in {differing}")


async def _review(probe: Probe) -> Finding:
    exchange = await probe.valid_exchange()
    reply = await probe.valid_reply()
    if not env.has_error(reply) or not reply.error.retry:
        raise Skip("the valid transfer was not answered with a repair request (retry=true)")
    crafted = await probe.craft(
        exchange.payload, transfer_state=api_pb2.REVIEW, envelope_id=exchange.request.id
    )
    answer = await probe.transfer(crafted.envelope)
    if answer.message is None:
        return failed(answer.status_text())
    again = answer.message
    actual = f"reply id {again.id!r}, {describe_envelope(again)}"
    if again.id != exchange.request.id:
        return failed(actual, f"the id is not ours ({exchange.request.id!r})")
    if env.has_error(again):
        if again.error.code in _READ_FAILURES:
            return failed(actual, "an exchange waiting for a repair must take the repaired payload")
        return passed(actual, "asking again or refusing is the peer's decision")
    if again.transfer_state not in (api_pb2.PENDING, api_pb2.ACCEPTED):
        return failed(actual, "a reply to REVIEW is PENDING, or ACCEPTED if decided at once")
    try:
        await probe.open(again)
    except TrisaError as exc:
        return failed(actual, f"the reply does not open with our key ({exc.code_name})")
    probe.accepted(exchange.request.id, exchange.payload, answer)
    return passed(actual)


async def _completed(probe: Probe) -> Finding:
    await probe.valid_exchange()
    acceptance = probe.acceptance
    if acceptance is None:
        raise Skip("no transfer of ours was ACCEPTED; COMPLETED follows an acceptance (TRISA)")
    try:
        base = (await probe.open(acceptance.reply)).parts
    except TrisaError:
        base = env.check_payload(acceptance.sent)
    done = transaction_pb2.Transaction()
    done.CopyFrom(base.underlying_transaction)
    done.txid = secrets.token_hex(32)
    done.timestamp = env.format_timestamp_seconds(datetime.now(UTC))
    payload = env.make_payload(
        base.identity,
        done,
        sent_at=acceptance.sent.sent_at,
        received_at=base.payload.received_at or env.format_timestamp(),
    )
    crafted = await probe.craft(
        payload, transfer_state=api_pb2.COMPLETED, envelope_id=acceptance.envelope_id
    )
    answer = await probe.transfer(crafted.envelope)
    if answer.message is None:
        return failed(answer.status_text())
    echo = answer.message
    actual = f"reply id {echo.id!r}, {describe_envelope(echo)}"
    problems = []
    if echo.id != acceptance.envelope_id:
        problems.append(f"the id is not ours ({acceptance.envelope_id!r})")
    if env.has_error(echo):
        problems.append("the COMPLETED message was refused")
    elif echo.transfer_state != api_pb2.COMPLETED:
        problems.append("the echo of COMPLETED is COMPLETED (TRISA TransferState)")
    if not env.has_error(echo):
        try:
            opened = await probe.open(echo)
            if opened.parts.underlying_transaction.txid != done.txid:
                problems.append("the echo does not carry our txid")
        except TrisaError as exc:
            problems.append(f"the echo does not open with our key ({exc.code_name})")
    if problems:
        return failed(actual, "; ".join(problems))
    probe.closed = (acceptance.envelope_id, payload)
    return passed(actual)


async def _closed(probe: Probe) -> Finding:
    await probe.valid_exchange()
    if probe.closed is None:
        raise Skip("no exchange of ours was closed by the peer (rejected, or completed)")
    envelope_id, payload = probe.closed
    crafted = await probe.craft(payload, transfer_state=api_pb2.REVIEW, envelope_id=envelope_id)
    return await expect_error(probe, crafted.envelope, (Code.BAD_REQUEST,), retry=False)


async def _stream_order(probe: Probe) -> Finding:
    await probe.require_reachable()
    tampered = (await probe.craft()).copy()
    tampered.payload = flip_bit(tampered.payload, len(tampered.payload) // 2)
    requests = [
        (await probe.craft(valid_payload(probe.parties))).envelope,
        tampered,
        (await probe.craft()).envelope,
        (await probe.craft(valid_payload(probe.parties))).envelope,
    ]
    answer = await stream(probe.wire.network(), requests, deadline=probe.timeout * 2)
    actual = f"{len(answer.replies)} replies to {len(requests)} requests, ended {answer.code.name}"
    problems = []
    if answer.code != grpc.StatusCode.OK:
        problems.append(f"the stream ended with {answer.code.name}: {clip(answer.details)}")
    if len(answer.replies) != len(requests):
        problems.append("exactly one reply per request is required")
    for index, (request, reply) in enumerate(zip(requests, answer.replies, strict=False)):
        if reply.id != request.id:
            problems.append(f"reply {index + 1} has id {reply.id!r} for request id {request.id!r}")
    if len(answer.replies) > 1 and not env.has_error(answer.replies[1]):
        problems.append("the tampered envelope (request 2) was not answered with an error")
    return failed(actual, "; ".join(problems)) if problems else passed(actual)


async def _as_envelopes(probe: Probe) -> Finding:
    await probe.require_reachable()
    crafted = await probe.craft()
    answer = await probe.transfer(crafted.envelope)
    if answer.message is None:
        return failed(answer.status_text(), AS_STATUS)
    if not env.has_error(answer.message):
        raise Skip(
            f"the peer accepted a transfer to an address nobody controls "
            f"({describe_envelope(answer.message)}); no compliance failure to observe"
        )
    return passed(describe_envelope(answer.message))


async def _unknown_conversation(probe: Probe) -> Finding:
    await probe.require_reachable()
    envelope = api_pb2.SecureEnvelope(
        id=env.new_envelope_id(),
        timestamp=env.format_timestamp(),
        error=errors_pb2.Error(
            code=Code.COMPLIANCE_CHECK_FAIL,
            message="conformance: a rejection for an exchange that never started",
            retry=False,
        ),
        transfer_state=api_pb2.REJECTED,
    )
    answer = await probe.transfer(envelope)
    return expect_status(answer, grpc.StatusCode.NOT_FOUND)


def _observed(probe: Probe) -> None:
    if not probe.observations:
        raise Skip(
            "no error envelope came back in this run (select cases that provoke errors, "
            "e.g. tamper.*)"
        )


async def _errors_same_id(probe: Probe) -> Finding:
    _observed(probe)
    wrong = [o for o in probe.observations if o.reply.id != o.request_id]
    actual = f"{len(probe.observations) - len(wrong)} of {len(probe.observations)} echo the id"
    if wrong:
        listed = "; ".join(f"{o.case}: {o.reply.id!r} for {o.request_id!r}" for o in wrong[:5])
        return failed(actual, listed)
    return passed(actual)


async def _errors_well_formed(probe: Probe) -> Finding:
    _observed(probe)
    bad = [(o, error_envelope_problems(o.reply)) for o in probe.observations]
    bad = [(o, problems) for o, problems in bad if problems]
    count = len(probe.observations)
    actual = f"{count - len(bad)} of {count} error envelopes well formed"
    if bad:
        listed = "; ".join(
            f"{o.case} ({code_label(o.reply.error.code)}): {', '.join(problems)}"
            for o, problems in bad[:5]
        )
        return failed(actual, listed)
    return passed(actual)


TRANSFER = (
    Case(
        "transfer.same_id",
        "a valid sealed transfer is answered by an envelope that echoes its id",
        "an envelope with the request's id, byte for byte, gRPC OK",
        "4.10, 7.4, 6.4",
        _same_id,
    ),
    Case(
        "transfer.decrypts",
        "the peer reads a correctly sealed transfer (no structural or crypto refusal)",
        "no NO_SIGNING_KEY, INVALID_SIGNATURE, ENVELOPE_DECODE_FAIL, UNHANDLED_ALGORITHM "
        "or BAD_REQUEST",
        "6.1 steps 3-18, 5.4",
        _decrypts,
    ),
    Case(
        "keys.signature",
        "the peer finds its key by the SHA256 public_key_signature we computed",
        "not INVALID_KEY (106) for an envelope sealed to the exchanged key",
        "4.6, 6.1 step 12",
        _signature,
    ),
    Case(
        "transfer.reply_structure",
        "the sealed reply has a valid structure, sealed=true, a PKS and the standard algorithms",
        "sealed reply passing 6.1 steps 2-6, with AES256-GCM and HMAC-SHA256",
        "4.7, 4.8, 4.12",
        _reply_structure,
    ),
    Case(
        "transfer.sealed_to_us",
        "the reply is sealed to our key (the requester's), named by its PKS",
        "public_key_signature of our sealing key",
        "4.12, 4.6",
        _sealed_to_us,
    ),
    Case(
        "transfer.opens",
        "the reply opens with our private key and its payload follows the payload rules",
        "unseal, HMAC, AES-GCM, Payload and 6.3 rules all pass",
        "4.12, 6.1 steps 10-20, 6.3",
        _opens,
    ),
    Case(
        "transfer.state",
        "the reply's transfer_state fits its payload",
        "ACCEPTED with a Transaction or PENDING with a Pending (UNSPECIFIED from old peers)",
        "7.1, 7.2, 7.3",
        _state,
    ),
    Case(
        "transfer.echo",
        "the reply keeps our sent_at, originator and transaction, and sets received_at",
        "sent_at unchanged, received_at RFC 3339, originator and transaction unchanged",
        "4.11, 4.12, 7.2, 7.3",
        _echo,
    ),
    Case(
        "duplicate.exact",
        "the exact bytes of the valid transfer, sent again",
        "the stored reply to the first copy, byte-identical",
        "7.7 R3",
        _duplicate,
    ),
    Case(
        "exchange.review",
        "after a repair request, the payload resent as REVIEW under the same id is taken up",
        "an envelope with our id: PENDING or ACCEPTED sealed to us, or another decision",
        "7.3, 7.1, 6.2",
        _review,
    ),
    Case(
        "exchange.completed",
        "after an ACCEPTED reply, COMPLETED with a txid under the same id is echoed",
        "a sealed COMPLETED echo with our id and txid",
        "7.1, 7.2",
        _completed,
    ),
    Case(
        "exchange.closed",
        "a new message (REVIEW) for an exchange the peer already closed",
        expected_error((Code.BAD_REQUEST,), False),
        "7.7 R4",
        _closed,
    ),
    Case(
        "stream.order",
        "TransferStream answers several envelopes (one tampered) one by one, in order",
        "one reply per request, in order, ids matching, an error for the tampered one, "
        "stream ends OK",
        "7.6, 7.4",
        _stream_order,
    ),
    Case(
        "errors.as_envelopes",
        "a compliance failure (an address the peer does not control) is an error envelope",
        "an error envelope with gRPC OK, not a gRPC status",
        "6.4, 6.2, 3.3",
        _as_envelopes,
    ),
    Case(
        "errors.unknown_conversation",
        "a valid error envelope for an exchange that never started",
        "gRPC NOT_FOUND",
        "6.2, 6.4, 7.7",
        _unknown_conversation,
    ),
)

AGGREGATE = (
    Case(
        "errors.same_id",
        "every error envelope received in this run echoes the id of its request",
        "reply id equal to the request id for every error envelope",
        "4.10, 6.2",
        _errors_same_id,
    ),
    Case(
        "errors.well_formed",
        "every error envelope received in this run is a proper error-only envelope",
        "defined non-zero code, a message, no crypto fields, REPAIR if retry else REJECTED",
        "6.2, 3.3",
        _errors_well_formed,
    ),
)
