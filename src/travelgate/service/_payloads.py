"""What a withdrawal sends, the IVMS101 identity and the TRISA transaction record, and how the
beneficiary the counterparty returns compares with the one we sent."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from travelgate import envelope as env
from travelgate._pb.ivms101 import enum_pb2, identity_pb2, ivms101_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2
from travelgate.service._requests import WithdrawalRequest
from travelgate.trisa import VaspInfo, person_from_json
from travelgate.trisa._replies import natural_names

# IVMS101 account numbers are Max100Text.
IVMS101_ACCOUNT_LENGTH = 100


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
    # Over TRP the deposit address comes with the approval: until then the Travel Address
    # is the beneficiary's account reference, when IVMS101 can hold it. A longer one is left
    # out (the accountNumber is optional and TRP routes by the URL, not by this field).
    account = request.address or request.travel_address or ""
    if request.address or len(account) <= IVMS101_ACCOUNT_LENGTH:
        identity.beneficiary.account_numbers.append(account)
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


def beneficiary_json(beneficiary: identity_pb2.Beneficiary) -> dict[str, Any]:
    """The IVMS101 JSON of a Beneficiary component as the counterparty returned it."""
    from travelgate import ivms101

    return {
        "beneficiaryPersons": [
            ivms101.person_from_protobuf(person) for person in beneficiary.beneficiary_persons
        ],
        "accountNumber": list(beneficiary.account_numbers),
    }


def _spelled(person: ivms101_pb2.Person) -> set[str]:
    """A person's names exactly as written (only spacing normalized), in both orders."""
    names: set[str] = set()
    if person.HasField("natural_person"):
        for name in person.natural_person.name.name_identifiers:
            given, family = name.secondary_identifier, name.primary_identifier
            names.add(" ".join(f"{given} {family}".split()))
            names.add(" ".join(f"{family} {given}".split()))
    elif person.HasField("legal_person"):
        for legal in person.legal_person.name.name_identifiers:
            names.add(" ".join(legal.legal_person_name.split()))
    names.discard("")
    return names


def beneficiary_match(sent: ivms101_pb2.Person, returned: Sequence[ivms101_pb2.Person]) -> str:
    """`exact`, `close` or `mismatch`: the returned beneficiary against the one we sent.

    exact: the same name as written (given and family name in either order); close: the
    same once case, accents and punctuation are set aside, or one name's words all within
    the other's (a middle name left out); mismatch: anything else, or no person returned.
    """
    if any(_spelled(sent) & _spelled(person) for person in returned):
        return "exact"
    ours = natural_names(sent)
    for person in returned:
        theirs = natural_names(person)
        if ours & theirs:
            return "close"
        for mine in ours:
            for other in theirs:
                a, b = set(mine.split()), set(other.split())
                if min(len(a), len(b)) >= 2 and (a <= b or b <= a):
                    return "close"
    return "mismatch"
