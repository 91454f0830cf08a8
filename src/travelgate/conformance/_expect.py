"""Judging one answer: the error envelope or gRPC status a case expects, and what is wrong
with an error envelope (TRISA error envelopes)."""

from __future__ import annotations

from collections.abc import Collection

import grpc

from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate.conformance._model import Finding, failed, passed
from travelgate.conformance._probe import Probe, Skip
from travelgate.conformance._wire import (
    Answer,
    code_label,
    describe,
    describe_envelope,
    state_label,
)
from travelgate.errors import BadRequestError, Code

AS_STATUS = (
    "a protocol or compliance failure must come back as an error envelope with gRPC OK, "
    "not as a gRPC status (TRISA v1beta1)"
)
_DEFINED_CODES = frozenset(Code.values())


def expected_error(codes: Collection[int], retry: bool | None) -> str:
    names = " or ".join(code_label(code) for code in sorted(codes))
    flag = "" if retry is None else f", retry={'true' if retry else 'false'}"
    return f"error envelope {names}{flag}, gRPC OK"


async def expect_error(
    probe: Probe,
    envelope: api_pb2.SecureEnvelope,
    codes: Collection[int],
    *,
    retry: bool | None,
) -> Finding:
    """Send `envelope`; pass when an error envelope with one of `codes` comes back."""
    answer = await probe.transfer(envelope)
    return judge_error(answer, codes, retry=retry)


def judge_error(
    answer: Answer[api_pb2.SecureEnvelope], codes: Collection[int], *, retry: bool | None
) -> Finding:
    if answer.message is None:
        as_status = answer.legacy is not None or answer.code == grpc.StatusCode.UNKNOWN
        detail = AS_STATUS if as_status else ""
        return failed(answer.status_text(), detail)
    reply = answer.message
    actual = describe_envelope(reply)
    if not env.has_error(reply):
        return failed(actual, "the defect went unnoticed")
    code = reply.error.code
    if code == Code.FORBIDDEN and Code.FORBIDDEN not in codes:
        raise Skip(
            "the peer refuses us as a counterparty (FORBIDDEN: the TRISA receive checks put this "
            "before this check)"
        )
    if code not in codes:
        return failed(actual)
    if retry is not None and reply.error.retry != retry:
        return failed(actual, f"the right code, but retry must be {str(retry).lower()} for it")
    return passed(actual)


def expect_status(answer: Answer[api_pb2.SecureEnvelope], code: grpc.StatusCode) -> Finding:
    if answer.code == code:
        return passed(answer.status_text())
    return failed(describe(answer))


def error_envelope_problems(reply: api_pb2.SecureEnvelope) -> list[str]:
    """What keeps `reply` from being a TRISA error-only envelope."""
    problems = []
    error = reply.error
    if error.code == 0 or error.code not in _DEFINED_CODES:
        problems.append(f"error code {error.code} is not a defined, non-zero code")
    if not error.message:
        problems.append("error message is empty")
    if not reply.payload:
        carried = [
            name
            for name in (
                "encryption_key",
                "hmac",
                "hmac_secret",
                "encryption_algorithm",
                "hmac_algorithm",
                "public_key_signature",
            )
            if getattr(reply, name)
        ]
        if carried:
            problems.append(f"carries {', '.join(carried)} without a payload")
        if reply.sealed:
            problems.append("sealed is true without a payload")
    try:
        env.parse_timestamp(reply.timestamp)
    except BadRequestError as exc:
        problems.append(exc.message)
    state = reply.transfer_state
    wanted = api_pb2.REPAIR if error.retry else api_pb2.REJECTED
    # Pre-v1.1 peers never set transfer_state; TRISA reads their errors by `Error.retry`.
    if state not in (wanted, api_pb2.UNSPECIFIED):
        problems.append(
            f"transfer_state {state_label(state)} with retry={str(error.retry).lower()}; "
            f"expected {state_label(wanted)}"
        )
    return problems
