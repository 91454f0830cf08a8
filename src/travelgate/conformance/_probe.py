"""What the cases of one run share: our identity, the wire, the peer's key, the valid exchange.

Expensive or stateful steps (the health check, the key exchange, the one valid transfer)
happen once, on first use, so any selection of cases works on its own and the suite as a
whole sends each of them only once. A case that needs something the peer could not give
raises `Skip` through these accessors, with the reason.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from travelgate import envelope as env
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate.conformance._craft import Crafted, craft
from travelgate.conformance._payloads import Parties, unknown_address, valid_payload
from travelgate.conformance._wire import (
    Answer,
    ClientIdentity,
    Wire,
    code_label,
    describe_envelope,
    unary,
)
from travelgate.errors import Code, TrisaError
from travelgate.trisa import Credentials

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024

# Rejections that only say "not our customer": with one of its customers as beneficiary
# the same peer may accept, so the operator is told how to get there.
_CUSTOMER_CODES = frozenset(
    {Code.UNKNOWN_WALLET_ADDRESS, Code.UNKNOWN_IDENTITY, Code.UNKOWN_BENEFICIARY}
)


class Skip(Exception):  # noqa: N818 - it is a verdict, not an error
    """Raised by a case (or the probe) when the case cannot be judged against this peer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Settings:
    """Where the peer is, who it must be, and whom the valid transfer is for."""

    target: str
    peer_name: str
    parties: Parties
    timeout: float = DEFAULT_TIMEOUT
    pinned_key: rsa.RSAPublicKey | None = None
    max_message_bytes: int = DEFAULT_MAX_MESSAGE


@dataclass(frozen=True)
class Exchange:
    """A request we sent, the clear payload inside it, and what came back."""

    request: api_pb2.SecureEnvelope
    payload: api_pb2.Payload
    answer: Answer[api_pb2.SecureEnvelope]


@dataclass(frozen=True)
class Acceptance:
    """A sealed ACCEPTED reply to one of our transfers: the exchange COMPLETED can follow."""

    envelope_id: str
    sent: api_pb2.Payload
    reply: api_pb2.SecureEnvelope


@dataclass(frozen=True)
class Observation:
    """An error envelope the peer sent during the run, for the cases that judge them all."""

    case: str
    request_id: str
    reply: api_pb2.SecureEnvelope


class Probe:
    def __init__(self, settings: Settings, credentials: Credentials) -> None:
        self.settings = settings
        self.credentials = credentials
        self.wire = Wire(
            settings.target,
            settings.peer_name,
            ClientIdentity(credentials.trust_pem, credentials.key_pem, credentials.chain_pem),
            max_message_bytes=settings.max_message_bytes,
        )
        self.case = ""
        self.observations: list[Observation] = []
        self._health: Answer[api_pb2.ServiceState] | None = None
        self._exchange: Answer[api_pb2.SigningKey] | None = None
        self._peer_key: rsa.RSAPublicKey | None = None
        self._key_problem: str | None = None
        self._valid: Exchange | None = None
        self._opened: env.OpenedEnvelope | TrisaError | None = None
        self.acceptance: Acceptance | None = None
        # An exchange of ours the peer has closed (rejected, or completed): id and payload.
        self.closed: tuple[str, api_pb2.Payload] | None = None

    @property
    def timeout(self) -> float:
        return self.settings.timeout

    @property
    def parties(self) -> Parties:
        return self.settings.parties

    @property
    def our_pks(self) -> str:
        return env.public_key_signature(self.credentials.sealing_key)

    async def close(self) -> None:
        await self.wire.close()

    # -- reachability and keys -------------------------------------------------------------

    async def health(self) -> Answer[api_pb2.ServiceState]:
        if self._health is None:
            self._health = await unary(
                self.wire.health().Status, api_pb2.HealthCheck(), deadline=self.timeout
            )
        return self._health

    async def require_reachable(self) -> None:
        """Skip when the peer cannot be reached even with our certificate."""
        answer = await self.health()
        if answer.transport_failure:
            raise Skip(
                f"the target is not reachable with our certificate ({answer.code.name}; "
                "see health.status)"
            )

    async def key_exchange(self) -> Answer[api_pb2.SigningKey]:
        if self._exchange is None:
            await self.require_reachable()
            self._exchange = await unary(
                self.wire.network().KeyExchange,
                self.credentials.signing_key,
                deadline=self.timeout,
            )
        return self._exchange

    async def peer_key(self) -> rsa.RSAPublicKey:
        """The key to seal to: KeyExchange first, the directory's pinned certificate second."""
        if self._peer_key is not None:
            return self._peer_key
        if self._key_problem is None:
            answer = await self.key_exchange()
            if answer.message is None:
                self._key_problem = f"KeyExchange failed ({answer.status_text()})"
            else:
                try:
                    self._peer_key = env.sealing_key_from(answer.message)
                    return self._peer_key
                except env.KeyLoadError as exc:
                    self._key_problem = f"KeyExchange gave an unusable key ({exc.message})"
            if self.settings.pinned_key is not None:
                self._peer_key = self.settings.pinned_key
                return self._peer_key
        raise Skip(f"no sealing key for the peer: {self._key_problem}, and none is pinned")

    # -- sending ---------------------------------------------------------------------------

    async def transfer(
        self, envelope: api_pb2.SecureEnvelope, *, observe: bool = True
    ) -> Answer[api_pb2.SecureEnvelope]:
        """One Transfer; error envelopes that come back are kept for the aggregate cases."""
        answer: Answer[api_pb2.SecureEnvelope] = await unary(
            self.wire.network().Transfer, envelope, deadline=self.timeout
        )
        if observe and answer.message is not None and env.has_error(answer.message):
            self.observations.append(Observation(self.case, envelope.id, answer.message))
        return answer

    async def craft(
        self,
        payload: api_pb2.Payload | bytes | None = None,
        *,
        transfer_state: api_pb2.TransferState.ValueType = api_pb2.STARTED,
        key: bytes | None = None,
        envelope_id: str | None = None,
    ) -> Crafted:
        """A correctly sealed envelope for the peer; by default a transfer nobody can accept.

        Defect cases send to an address no VASP controls, so that a peer which misses the
        defect answers with a rejection rather than starting a real exchange.
        """
        recipient = await self.peer_key()
        if payload is None:
            payload = self.defect_payload()
        plaintext = payload if isinstance(payload, bytes) else payload.SerializeToString()
        return craft(
            plaintext, recipient, transfer_state=transfer_state, key=key, envelope_id=envelope_id
        )

    def defect_payload(self) -> api_pb2.Payload:
        return valid_payload(self.parties, address=unknown_address())

    # -- the valid exchange ----------------------------------------------------------------

    async def valid_exchange(self) -> Exchange:
        """One valid transfer (STARTED) to the operator's beneficiary, sent once per run."""
        if self._valid is None:
            payload = valid_payload(self.parties)
            crafted = await self.craft(payload)
            answer = await self.transfer(crafted.envelope)
            self._valid = Exchange(crafted.envelope, payload, answer)
            self.accepted(self._valid.request.id, payload, answer)
            reply = answer.message
            # A decision against the transfer (50-99, final) closes the exchange; refusals
            # before any decision (crypto, structure, FORBIDDEN) never opened one.
            if (
                reply is not None
                and env.has_error(reply)
                and not reply.error.retry
                and 50 <= reply.error.code < 100
            ):
                self.closed = (crafted.envelope.id, payload)
        return self._valid

    def accepted(
        self, envelope_id: str, sent: api_pb2.Payload, answer: Answer[api_pb2.SecureEnvelope]
    ) -> None:
        """Remember a sealed acceptance of ours (the first one) for the COMPLETED case."""
        reply = answer.message
        if (
            self.acceptance is None
            and reply is not None
            and not env.has_error(reply)
            and reply.transfer_state == api_pb2.ACCEPTED
        ):
            self.acceptance = Acceptance(envelope_id, sent, reply)

    async def valid_reply(self) -> api_pb2.SecureEnvelope:
        """The reply envelope to the valid transfer; Skip when only a status came back."""
        exchange = await self.valid_exchange()
        if exchange.answer.message is None:
            raise Skip(
                f"no reply envelope to the valid transfer ({exchange.answer.status_text()}); "
                "see transfer.same_id"
            )
        return exchange.answer.message

    async def sealed_reply(self) -> api_pb2.SecureEnvelope:
        """The valid transfer's reply when it is a payload; Skip for a (legitimate) error."""
        reply = await self.valid_reply()
        if env.has_error(reply):
            raise Skip(f"the peer answered the valid transfer with {describe_reply(reply)}")
        return reply

    async def opened_reply(self) -> env.OpenedEnvelope:
        """The sealed reply opened with our key; the TrisaError saying why it does not open."""
        if self._opened is None:
            reply = await self.sealed_reply()
            try:
                self._opened = await asyncio.to_thread(
                    env.open_envelope,
                    reply,
                    self.credentials.keyring,
                    accept_confirmation_receipt=True,
                )
            except TrisaError as exc:
                self._opened = exc
        if isinstance(self._opened, TrisaError):
            raise self._opened
        return self._opened

    async def open(self, envelope: api_pb2.SecureEnvelope) -> env.OpenedEnvelope:
        return await asyncio.to_thread(
            env.open_envelope, envelope, self.credentials.keyring, accept_confirmation_receipt=True
        )


def describe_reply(reply: api_pb2.SecureEnvelope) -> str:
    """The reply, and for a rejection of the valid transfer, what the operator can do."""
    text = describe_envelope(reply)
    code = reply.error.code
    if code == Code.FORBIDDEN:
        text += "; the peer does not accept our certificate's name as a counterparty"
    elif code in _CUSTOMER_CODES:
        text += (
            "; pass --beneficiary-address and --beneficiary-name of one of the peer's "
            "customers to test its sealed replies"
        )
    elif code and reply.error.retry:
        text += "; a repair request is a legitimate answer (see exchange.review)"
    elif code:
        text += f"; {code_label(code)} is a legitimate answer, so there is no sealed reply to check"
    return text
