"""Property tests: any payload seals and opens back to itself; any byte flip is caught."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from travelgate import envelope as env
from travelgate._pb.ivms101 import enum_pb2, identity_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate._pb.trisa.data.generic.v1beta1 import transaction_pb2
from travelgate.errors import TrisaError

_text = st.text(max_size=40)
_settings = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@st.composite
def payloads(draw: st.DrawFn) -> api_pb2.Payload:
    identity = identity_pb2.IdentityPayload()
    for _ in range(draw(st.integers(0, 3))):
        person = identity.originator.originator_persons.add()
        name = person.natural_person.name.name_identifiers.add()
        name.primary_identifier = draw(_text)
        name.secondary_identifier = draw(_text)
        name.name_identifier_type = draw(
            st.sampled_from(enum_pb2.NaturalPersonNameTypeCode.values())
        )
    identity.originator.account_numbers.extend(draw(st.lists(_text, max_size=3)))
    if draw(st.booleans()):
        vasp = identity.beneficiary_vasp.beneficiary_vasp.legal_person
        vasp.name.name_identifiers.add(
            legal_person_name=draw(_text),
            legal_person_name_identifier_type=enum_pb2.LEGAL_PERSON_NAME_TYPE_CODE_LEGL,
        )
    transaction = transaction_pb2.Transaction(
        txid=draw(_text),
        originator=draw(_text),
        beneficiary=draw(_text),
        amount=draw(st.floats(allow_nan=False, allow_infinity=False)),
        network=draw(_text),
        extra_json=draw(st.sampled_from(["", '{"a": 1}'])),
        asset_type=draw(_text),
        tag=draw(st.binary(max_size=2000)).hex(),
    )
    return env.make_payload(
        identity,
        transaction,
        sent_at=draw(st.sampled_from(["2022-01-27T08:21:43Z", env.format_timestamp()])),
        received_at=draw(st.sampled_from(["", "2022-03-29T09:16:29.755212-05:00"])),
    )


@pytest.fixture(scope="module")
def keys(rsa4096_pair: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]) -> env.KeyRing:
    return env.KeyRing.of([rsa4096_pair[0]])


@_settings
@given(payload=payloads())
def test_seal_then_open_gives_back_the_payload(keys: env.KeyRing, payload: api_pb2.Payload) -> None:
    recipient = next(iter(keys)).public_key()
    opened = env.open_envelope(env.seal(payload, recipient), keys)
    assert opened.payload == payload


@_settings
@given(payload=payloads(), data=st.data())
def test_any_flipped_byte_is_refused_with_a_trisa_code(
    keys: env.KeyRing, payload: api_pb2.Payload, data: st.DataObject
) -> None:
    recipient = next(iter(keys)).public_key()
    sealed = env.seal(payload, recipient)
    field = data.draw(st.sampled_from(["payload", "hmac", "encryption_key", "hmac_secret"]))
    value = getattr(sealed, field)
    index = data.draw(st.integers(0, len(value) - 1))
    bit = data.draw(st.integers(0, 7))
    setattr(sealed, field, value[:index] + bytes([value[index] ^ (1 << bit)]) + value[index + 1 :])
    with pytest.raises(TrisaError) as caught:
        env.open_envelope(sealed, keys)
    assert caught.value.code_name in {"INVALID_SIGNATURE", "INVALID_KEY"}
