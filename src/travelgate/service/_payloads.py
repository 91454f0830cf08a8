"""What a withdrawal sends: the IVMS101 identity and the TRISA transaction record."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from travelgate import envelope as env
from travelgate._pb.ivms101 import enum_pb2, identity_pb2, ivms101_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2
from travelgate.service._requests import WithdrawalRequest
from travelgate.trisa import VaspInfo, person_from_json


def beneficiary_person(request: WithdrawalRequest) -> ivms101_pb2.Person:
    if request.beneficiary_person is not None:
        return person_from_json(request.beneficiary_person)
    # A bare name cannot be split reliably into family and given names; IVMS101 puts the
    # whole legal name in primaryIdentifier when it is not structured.
    person = ivms101_pb2.Person()
    person.natural_person.name.name_identifiers.add(
        primary_identifier=request.beneficiary_name or "",
        name_identifier_type=enum_pb2.NATURAL_PERSON_NAME_TYPE_CODE_LEGL,
    )
    return person


def outgoing_identity(
    request: WithdrawalRequest,
    *,
    originator: Mapping[str, Any],
    account: str,
    vasp: VaspInfo,
) -> identity_pb2.IdentityPayload:
    identity = identity_pb2.IdentityPayload()
    identity.originator.originator_persons.add().CopyFrom(person_from_json(originator))
    identity.originator.account_numbers.append(account)
    identity.beneficiary.beneficiary_persons.add().CopyFrom(beneficiary_person(request))
    identity.beneficiary.account_numbers.append(request.address)
    identity.originating_vasp.originating_vasp.CopyFrom(vasp.legal_person())
    return identity


def outgoing_transaction(request: WithdrawalRequest) -> transaction_pb2.Transaction:
    extra: dict[str, Any] = {"amount_exact": str(request.amount)}
    if request.value is not None:
        extra["value"] = {"amount": str(request.value.amount), "currency": request.value.currency}
    return transaction_pb2.Transaction(
        beneficiary=request.address,
        # The protocol carries a double; the exact decimal travels in extra_json (TRISA extra_json).
        amount=float(request.amount),
        network=request.network,
        asset_type=request.asset,
        tag=request.tag or "",
        extra_json=json.dumps(extra, sort_keys=True),
    )


def first_payload(
    identity: identity_pb2.IdentityPayload, transaction: transaction_pb2.Transaction
) -> api_pb2.Payload:
    return env.make_payload(identity, transaction, sent_at=env.format_timestamp())
