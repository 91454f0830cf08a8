"""Shared vocabulary of the inbound and outbound paths: decisions, messages, hooks.

`Decider` answers "what do we reply to this transfer?" on the beneficiary side (the default
matches our customers; robots script it; the policy engine refines it). `ExchangeHooks` is
told, inside the same database transaction that stores the envelopes, what each message
from a peer meant, so withdrawal holds and deposits move atomically with the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from travelgate import envelope as env
from travelgate._pb.ivms101 import ivms101_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2
from travelgate.errors import (
    Code,
    TrisaError,
    trisa_error,
)
from travelgate.store import Conversation, Customer, Tx
from travelgate.transfers import CONVERSATION_FINAL_STATES, ConversationState, Outcome
from travelgate.trisa._directory import Peer
from travelgate.trisa._replies import names_match, person_from_json

ORIGINATOR = "originator"
BENEFICIARY = "beneficiary"
# Kept under their old names for importers of `travelgate.trisa`.
CANCELED = ConversationState.CANCELED
FINAL_STATES = CONVERSATION_FINAL_STATES


# Built once: protobuf's enum wrapper makes a new list on every `values()`.
_STATE_NAMES: dict[int, str] = {int(number): name for name, number in api_pb2.TransferState.items()}


def state_name(state: int) -> str:
    """TransferState name; an unknown number reads as UNSPECIFIED (proto3 default values)."""
    return _STATE_NAMES.get(state, "UNSPECIFIED")


class Action(StrEnum):
    ACCEPT = "accept"
    PENDING = "pending"
    REJECT = "reject"
    REPAIR = "repair"


@dataclass(frozen=True)
class Verdict:
    action: Action
    error: TrisaError | None = None
    rule: str = ""
    reason: str = ""
    message: str = ""

    @classmethod
    def reject(cls, code: int, message: str, *, rule: str, reason: str) -> Verdict:
        return cls(Action.REJECT, trisa_error(code, message, retry=False), rule, reason)

    @classmethod
    def repair(cls, code: int, message: str, *, rule: str, reason: str) -> Verdict:
        return cls(Action.REPAIR, trisa_error(code, message, retry=True), rule, reason)


@dataclass(frozen=True)
class Inbound:
    """A transfer request to decide on, as the beneficiary VASP."""

    peer: Peer
    envelope: api_pb2.SecureEnvelope
    parts: env.PayloadParts
    conversation: Conversation | None
    customer: Customer | None
    address: str
    # The customer's person as protobuf, decoded once per message by whoever has it.
    customer_person: ivms101_pb2.Person | None = None


class Decider(Protocol):
    async def decide(self, inbound: Inbound) -> Verdict: ...


@dataclass(frozen=True)
class PeerMessage:
    """What one envelope from a peer meant for a conversation (request or reply)."""

    outcome: Outcome
    transfer_state: int
    parts: env.PayloadParts | None = None
    error: errors_pb2.Error | None = None
    verdict: Verdict | None = None
    problem: TrisaError | None = None
    """The reply's identity failed IVMS101 validation: never a basis for clearing."""


class ExchangeHooks(Protocol):
    def on_message(self, tx: Tx, conversation: Conversation, message: PeerMessage) -> None:
        """Called in the write transaction that records `message` (no I/O but `tx`)."""


class NoHooks:
    def on_message(self, tx: Tx, conversation: Conversation, message: PeerMessage) -> None:
        return None


def match_customer(inbound: Inbound) -> Verdict | None:
    """The rejection for an address or name that is not our customer's, else None."""
    if inbound.customer is None:
        return Verdict.reject(
            Code.UNKNOWN_WALLET_ADDRESS,
            "the beneficiary address is not controlled by this VASP",
            rule="customer-match",
            reason="POLICY.UNKNOWN_BENEFICIARY",
        )
    given = inbound.parts.identity.beneficiary.beneficiary_persons
    ours = inbound.customer_person or person_from_json(inbound.customer.person)
    if given and not any(names_match(person, ours) for person in given):
        return Verdict.reject(
            Code.UNKOWN_BENEFICIARY,
            "the beneficiary name does not match the holder of the address",
            rule="customer-match",
            reason="POLICY.BENEFICIARY_NAME_MISMATCH",
        )
    return None
