"""Valid TRISA payloads for tests, built with the generated protobuf classes."""

from __future__ import annotations

from support.nodes import ALICE_ADDRESS, BOB_ADDRESS
from travelgate import envelope as env
from travelgate._pb.ivms101 import identity_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2
from travelgate.conformance._payloads import legal_person, natural_person


def identity(
    *,
    beneficiary: tuple[str, str] | None = ("Jones", "Bob"),
    beneficiary_address: str = BOB_ADDRESS,
) -> identity_pb2.IdentityPayload:
    result = identity_pb2.IdentityPayload()
    result.originator.originator_persons.add().CopyFrom(
        natural_person("Smith", "Alice", complete=True)
    )
    result.originator.account_numbers.append(ALICE_ADDRESS)
    if beneficiary is not None:
        result.beneficiary.beneficiary_persons.add().CopyFrom(
            natural_person(*beneficiary, complete=False)
        )
    result.beneficiary.account_numbers.append(beneficiary_address)
    result.originating_vasp.originating_vasp.CopyFrom(legal_person("Alice VASP Ltd", "GB"))
    return result


def transfer_payload(
    *,
    beneficiary_address: str = BOB_ADDRESS,
    beneficiary: tuple[str, str] | None = ("Jones", "Bob"),
    amount: float = 0.5,
) -> api_pb2.Payload:
    transaction = transaction_pb2.Transaction(
        originator=ALICE_ADDRESS,
        beneficiary=beneficiary_address,
        amount=amount,
        network="BTC",
        asset_type="BTC",
    )
    return env.make_payload(
        identity(beneficiary=beneficiary, beneficiary_address=beneficiary_address),
        transaction,
        sent_at=env.format_timestamp(),
    )
