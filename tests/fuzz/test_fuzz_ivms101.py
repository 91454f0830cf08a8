"""Fuzz IVMS101 decoding: IVMS JSON (2020 and 2023), TRISA protojson and TRISA protobuf.

`validate` never raises for bad input (a PARSE violation instead) and `decode` raises only
IvmsParseError. A decoded identity can be emitted in every encoding, and emitting then
decoding gives back the same model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import example, given
from hypothesis import strategies as st

from support.paths import IVMS_VECTORS
from travelgate import ivms101
from travelgate._pb.ivms101 import enum_pb2, identity_pb2
from travelgate.ivms101._schema import SPECS

from ._harness import (
    FUZZ,
    json_mutated,
    json_values,
    mutated,
    only,
    seed_ids,
    seeds,
    time_bound,
)

_DATA = Path(__file__).parent.parent / "unit" / "ivms101" / "data"
_IDENTITY_FILES = [
    *sorted(_DATA.glob("*.json")),
    IVMS_VECTORS / "identity_payload.json",
    IVMS_VECTORS / "identity_payload_alt.json",
    IVMS_VECTORS / "identity_payload.pb.json",
]
JSON_CORPUS = [path.read_bytes() for path in _IDENTITY_FILES]
JSON_CORPUS += [p.read_bytes() for p in seeds("ivms101") if p.suffix == ".json"]
_MESSAGES = [
    json_format.Parse(
        (IVMS_VECTORS / "identity_payload.pb.json").read_bytes(), identity_pb2.IdentityPayload()
    )
]
PB_CORPUS = [m.SerializeToString() for m in _MESSAGES]
PB_CORPUS += [p.read_bytes() for p in seeds("ivms101") if p.suffix == ".pb"]
JSON_TARGETS: tuple[ivms101.Target, ...] = ("ivms-2020", "ivms-2023", "trisa-pj")
PROFILES: tuple[ivms101.Profile, ...] = ("strict", "standard", "interop")


def _emit_and_read_back(model: ivms101.Node, *, exact: bool) -> None:
    """Every encoding of a valid identity reads back to the same encoding, and the TRISA
    encodings (protojson, protobuf) give back the very model of a 2020 document.

    The IVMS JSON editions settle after one round: an empty object (a protobuf message that
    is present but empty) reads back as absent, and the 2023 edition moves account numbers.
    An invalid document keeps what could be read of it, which no encoding promises to carry.
    """
    if not isinstance(model, ivms101.IdentityPayload):
        return
    with only(ivms101.IvmsEncodeError):
        for target in JSON_TARGETS:
            once = _round(_round(ivms101.encode(model, target), target), target)
            assert _round(once, target) == once, target
            if target == "trisa-pj" and exact:
                assert ivms101.decode(ivms101.encode(model, target)).model == model
        if exact:
            message = ivms101.to_protobuf(model)
            assert ivms101.decode(message.SerializeToString()).model == model


def _round(emitted: dict[str, Any], target: ivms101.Target) -> dict[str, Any]:
    text = json.dumps(emitted, ensure_ascii=False)
    return ivms101.encode(ivms101.decode(text).model, target)


def _read(document: Any) -> None:
    with time_bound():
        for profile in PROFILES:
            result = ivms101.validate(document, profile=profile)
            assert result.model is not None or result.violations
            ivms101.rejection_for(result)
    with only(ivms101.IvmsParseError):
        decoded = ivms101.decode(document)
        if decoded.result.valid:
            _emit_and_read_back(decoded.model, exact=decoded.edition == "2020")


@FUZZ
@given(mutated(JSON_CORPUS))
@example(b'{"originator": {"originatorPersons": [{"naturalPerson": {"name": "\\ud800"}}]}}')
@example(b'{"originator": ' + b"1" * 5000 + b"}")
def test_ivms_json_bytes(data: bytes) -> None:
    _read(data)


@FUZZ
@given(mutated(PB_CORPUS))
def test_ivms_protobuf_bytes(data: bytes) -> None:
    _read(data)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "originator",
                "beneficiary",
                "originatingVASP",
                "beneficiaryVASP",
                "transferPath",
                "payloadMetadata",
                "naturalPerson",
                "legalPerson",
                "originator_persons",
            ]
        ),
        json_values(),
        max_size=4,
    )
)
def test_ivms_any_json_value(document: dict[str, Any]) -> None:
    _read(document)
    _read(json.dumps(document))


def _parsed(corpus: list[bytes]) -> list[Any]:
    documents = []
    for data in corpus:
        try:
            documents.append(json.loads(data))
        except (ValueError, RecursionError):
            continue
    return documents


# Every key of every spelling the decoder knows, for renames.
KNOWN_KEYS = sorted(
    {
        key
        for spec in SPECS.values()
        for field in spec.fields
        for key in (*field.k2020, *field.k2023, *(field.pj or ()), *(field.k3 or ()))
    }
)


@FUZZ
@given(json_mutated(_parsed(JSON_CORPUS), KNOWN_KEYS))
def test_ivms_json_documents_edited_in_place(document: Any) -> None:
    _read(document)
    _read(json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("path", seeds("ivms101"), ids=seed_ids(seeds("ivms101")))
def test_ivms_corpus(path: Path) -> None:
    _read(path.read_bytes())


# -- protobuf identities built field by field ---------------------------------------------

_TEXT = st.text(max_size=20) | st.sampled_from(["", " ", "A", "\u00e9t\u00e9", "\u0000"])


def _enum(number: int) -> Any:
    """Any number in an enum field: a peer's protobuf may carry values we do not name."""
    return number


@st.composite
def identities(draw: st.DrawFn) -> identity_pb2.IdentityPayload:
    message = identity_pb2.IdentityPayload()
    message.CopyFrom(draw(st.sampled_from(_MESSAGES)))
    for _ in range(draw(st.integers(0, 2))):
        person = message.originator.originator_persons.add()
        natural = person.natural_person
        name = natural.name.name_identifiers.add()
        name.primary_identifier = draw(_TEXT)
        name.secondary_identifier = draw(_TEXT)
        name.name_identifier_type = _enum(draw(st.integers(0, 8)))
        if draw(st.booleans()):
            address = natural.geographic_addresses.add()
            address.address_type = _enum(draw(st.integers(0, 5)))
            address.address_line.extend(draw(st.lists(_TEXT, max_size=3)))
            address.country = draw(_TEXT)
            address.town_name = draw(_TEXT)
        natural.customer_identification = draw(_TEXT)
        natural.country_of_residence = draw(_TEXT)
        if draw(st.booleans()):
            natural.date_and_place_of_birth.date_of_birth = draw(_TEXT)
            natural.date_and_place_of_birth.place_of_birth = draw(_TEXT)
    message.originator.account_numbers.extend(draw(st.lists(_TEXT, max_size=2)))
    if draw(st.booleans()):
        legal = message.beneficiary_vasp.beneficiary_vasp.legal_person
        legal.name.name_identifiers.add(
            legal_person_name=draw(_TEXT),
            legal_person_name_identifier_type=draw(
                st.sampled_from(enum_pb2.LegalPersonNameTypeCode.values())
            ),
        )
        legal.national_identification.national_identifier = draw(_TEXT)
        legal.national_identification.national_identifier_type = _enum(draw(st.integers(0, 10)))
    return message


@FUZZ
@given(identities())
def test_ivms_protobuf_identities(message: identity_pb2.IdentityPayload) -> None:
    _read(message)
    _read(message.SerializeToString())
    _read(json_format.MessageToJson(message))
