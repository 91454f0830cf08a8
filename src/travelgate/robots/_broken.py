"""How the deliberately broken robots break the protocol (for the conformance suite).

* wrong-id: every reply carries a fresh envelope id instead of echoing the request's.
* wrong-key: payload replies are sealed to a key nobody holds, not to the requester's.
* grpc-errors: compliance outcomes come back as gRPC statuses instead of error envelopes.
"""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives.asymmetric import rsa

from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate.robots._deciders import RobotPolicy
from travelgate.trisa import ReplyHook


@functools.cache
def _stranger_key() -> rsa.RSAPublicKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()


def _wrong_id(
    request: api_pb2.SecureEnvelope,
    reply: api_pb2.SecureEnvelope,
    payload: api_pb2.Payload | None,
) -> api_pb2.SecureEnvelope:
    broken = api_pb2.SecureEnvelope()
    broken.CopyFrom(reply)
    broken.id = env.new_envelope_id()
    return broken


def _wrong_key(
    request: api_pb2.SecureEnvelope,
    reply: api_pb2.SecureEnvelope,
    payload: api_pb2.Payload | None,
) -> api_pb2.SecureEnvelope:
    if payload is None:
        return reply
    return env.seal(
        payload, _stranger_key(), envelope_id=reply.id, transfer_state=reply.transfer_state
    )


def broken_behaviour(policy: RobotPolicy) -> tuple[ReplyHook | None, bool]:
    """(reply hook, errors as gRPC statuses) for a robot policy."""
    if policy is RobotPolicy.WRONG_ID:
        return _wrong_id, False
    if policy is RobotPolicy.WRONG_KEY:
        return _wrong_key, False
    return None, policy is RobotPolicy.GRPC_ERRORS
