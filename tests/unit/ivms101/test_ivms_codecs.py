"""Decoding and emission: round trips between the encodings and editions, emitter options,
protobuf conversion of payloads and persons (IVMS101 emission and conversion, TRISA reference test vectors)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from google.protobuf import json_format

from travelgate._pb.ivms101 import identity_pb2, ivms101_pb2
from travelgate.ivms101 import (
    IdentityPayload,
    IvmsEncodeError,
    IvmsInvalidError,
    IvmsParseError,
    Person,
    decode,
    emission_warnings,
    encode,
    person_from_protobuf,
    person_to_protobuf,
    to_protobuf,
    validate,
)
from travelgate.ivms101 import _model as m
from travelgate.ivms101._schema import SPECS

from ._cases import NOW, TRISA, example2, load

SMITH = {
    "naturalPerson": {
        "name": {
            "nameIdentifier": [
                {
                    "primaryIdentifier": "Smith",
                    "secondaryIdentifier": "Alice",
                    "nameIdentifierType": "LEGL",
                }
            ]
        }
    }
}


def model_of(doc: Any) -> IdentityPayload:
    model = decode(doc).model
    assert isinstance(model, IdentityPayload)
    return model


def test_identity_payload_json_round_trips_to_the_same_json() -> None:
    source = json.loads((TRISA / "identity_payload.json").read_text())
    assert encode(model_of((TRISA / "identity_payload.json").read_bytes())) == source


def test_identity_payload_pb_json_through_protobuf_and_back() -> None:
    text = (TRISA / "identity_payload.pb.json").read_text()
    model = model_of(text)
    assert model_of(to_protobuf(model)) == model
    assert model_of(to_protobuf(model).SerializeToString()) == model
    parsed = json_format.Parse(text, identity_pb2.IdentityPayload())
    assert to_protobuf(model) == parsed
    # IVMS JSON of it decodes to an equal message (TRISA reference test vectors); the empty transferPath and
    # payloadMetadata objects survive under standard (interop reads `{}` as absent, 3.6)
    again = decode(encode(model), profile="standard").model
    assert to_protobuf(again) == parsed


def test_identity_payload_json_and_pb_json_differ() -> None:
    assert model_of((TRISA / "identity_payload.json").read_bytes()) != model_of(
        (TRISA / "identity_payload.pb.json").read_bytes()
    )


def test_protojson_options() -> None:
    model = model_of(example2())
    camel = encode(model, "trisa-pj")
    assert camel["transferPath"]["transferPath"][0] == {
        "intermediaryVasp": {
            "legalPerson": {
                "name": {
                    "nameIdentifier": [
                        {
                            "legalPersonName": "VASP E",
                            "legalPersonNameIdentifierType": "LEGAL_PERSON_NAME_TYPE_CODE_LEGL",
                        }
                    ]
                }
            }
        }
    }  # sequence 0 is a default: omitted
    snake = encode(model, "trisa-pj", proto_names=True)
    assert "originator_persons" in snake["originator"]
    full = encode(model, "trisa-pj", emit_defaults=True)
    assert full["transferPath"]["transferPath"][0]["sequence"] == "0"
    assert model_of(snake) == model_of(full) == model


def test_ivms_emission_spellings_and_options() -> None:
    doc = example2()
    doc["beneficiary"]["beneficiaryPersons"][0]["legalPerson"]["customerIdentification"] = "c1"
    doc["originator"]["originatorPersons"][0]["naturalPerson"]["geographicAddress"] = [
        {
            "addressType": "GEOG",
            "addressLine": ["x"],
            "townName": "D",
            "postcode": "1",
            "country": "TZ",
        }
    ]
    model = model_of(doc)
    out = encode(model)
    natural = out["originator"]["originatorPersons"][0]["naturalPerson"]
    assert natural["geographicAddress"][0]["postCode"] == "1"
    assert out["beneficiary"]["beneficiaryPersons"][0]["legalPerson"]["customerNumber"] == "c1"
    assert list(natural) == [
        "name",
        "geographicAddress",
        "nationalIdentification",
        "countryOfResidence",
    ]
    other = encode(model, postcode_key="postcode", legal_customer_key_2020="customerIdentification")
    assert (
        other["originator"]["originatorPersons"][0]["naturalPerson"]["geographicAddress"][0][
            "postcode"
        ]
        == "1"
    )
    legal = other["beneficiary"]["beneficiaryPersons"][0]["legalPerson"]
    assert legal["customerIdentification"] == "c1"
    assert model_of(other) == model


def test_2020_to_2023_and_back() -> None:
    model = model_of(example2())
    out = encode(model, "ivms-2023")
    assert out["payloadMetadata"] == {
        "transliterationMethod": ["hani"],
        "payloadVersion": "101.2023",
    }
    assert out["beneficiary"]["beneficiaryPerson"][0]["accountNumber"] == ["00010190CBATRAD"]
    assert "accountNumber" not in out["beneficiary"]
    item = out["originator"]["originatorPerson"][0]["naturalPerson"]["name"]["nameIdentifier"][0]
    assert item["naturalPersonNameIdentifierType"] == "LEGL"
    local = out["originator"]["originatorPerson"][0]["naturalPerson"]["name"]["localNameIdentifier"]
    assert local[0]["nameIdentifierType"] == "LEGL"  # local names keep the 2020 key
    assert validate(out, profile="strict", now=NOW).violations == ()
    assert encode(model_of(out)) == example2()


def test_2023_to_2020_merges_person_accounts() -> None:
    doc = load("example1_2023.json")
    doc["payloadMetadata"]["payloadVersion"] = "101.2023"
    second = json.loads(json.dumps(doc["beneficiary"]["beneficiaryPerson"][0]))
    second["accountNumber"] = ["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "second"]
    doc["beneficiary"]["beneficiaryPerson"].append(second)
    out = encode(model_of(doc))
    assert out["beneficiary"]["accountNumber"] == ["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "second"]
    assert all("accountNumber" not in p for p in out["beneficiary"]["beneficiaryPersons"])
    assert "payloadMetadata" not in out  # nothing left once the version is dropped
    pb = to_protobuf(model_of(doc))
    assert list(pb.beneficiary.account_numbers) == out["beneficiary"]["accountNumber"]


def test_2023_account_longer_than_100_cannot_be_emitted_as_2020() -> None:
    doc = load("example1_2023.json")
    doc["originator"]["originatorPerson"][0]["accountNumber"] = ["a" * 101]
    model = model_of(doc)
    with pytest.raises(IvmsEncodeError, match="100"):
        encode(model)
    assert encode(model, "ivms-2023")["originator"]["originatorPerson"][0]["accountNumber"] == [
        "a" * 101
    ]


def test_emission_warnings() -> None:
    doc = example2()
    extra = json.loads(json.dumps(doc["beneficiary"]["beneficiaryPersons"][0]))
    doc["beneficiary"]["beneficiaryPersons"].append(extra)
    model = model_of(doc)
    assert [(v.rule, v.path) for v in emission_warnings(model, "ivms-2023")] == [
        ("EDITION", "beneficiary.accountNumber")
    ]
    assert emission_warnings(model, "ivms-2020") == ()
    cjk = model_of(example2())
    noted = emission_warnings(cjk, "ivms-2020", byte_counting=True)
    assert noted == ()
    long = example2()
    names = long["originator"]["originatorPersons"][0]["naturalPerson"]["name"]
    names["localNameIdentifier"][0]["primaryIdentifier"] = "吴" * 40  # 40 chars, 120 bytes
    noted = emission_warnings(model_of(long), "ivms-2020", byte_counting=True)
    path = "originator.originatorPersons[0].naturalPerson.name.localNameIdentifier[0].primaryIdentifier"
    assert [(v.rule, v.path, v.severity) for v in noted] == [("LENGTH", path, "warning")]


def test_person_to_protobuf_and_back() -> None:
    message = person_to_protobuf(SMITH)
    assert isinstance(message, ivms101_pb2.Person)
    name = message.natural_person.name.name_identifiers[0]
    assert (name.primary_identifier, name.secondary_identifier, name.name_identifier_type) == (
        "Smith",
        "Alice",
        4,
    )
    assert person_from_protobuf(message) == SMITH
    assert person_to_protobuf(json.dumps(SMITH)) == message
    model = validate(SMITH, component="Person").model
    assert isinstance(model, Person)
    assert person_to_protobuf(model) == message


def test_person_to_protobuf_refuses_invalid_or_unreadable_persons() -> None:
    with pytest.raises(IvmsInvalidError) as caught:
        person_to_protobuf({"naturalPerson": {"name": {"nameIdentifier": []}}})
    assert not caught.value.result.valid
    both = {**SMITH, **json.loads(json.dumps(load("person_legal_person.json")))}
    with pytest.raises(IvmsInvalidError):
        person_to_protobuf(both)
    with pytest.raises(IvmsEncodeError):
        person_to_protobuf(both, check=False)
    with pytest.raises(IvmsParseError):
        person_to_protobuf(b"{")


def test_to_protobuf_maps_codes_and_zero_values() -> None:
    message = to_protobuf(example2())
    natural = message.originator.originator_persons[0].natural_person
    assert natural.name.local_name_identifiers[0].primary_identifier == "吴"
    assert natural.national_identification.national_identifier_type == 3  # RAID
    assert list(message.payload_metadata.transliteration_method) == [8]  # hani
    hop = message.transfer_path.transfer_path[0]
    assert hop.sequence == 0
    assert hop.intermediary_vasp.legal_person.name.name_identifiers[0].legal_person_name == "VASP E"


def test_encode_accepts_messages_and_decoded_documents() -> None:
    message = to_protobuf(example2())
    assert encode(message) == example2()
    assert encode(decode(example2())) == example2()
    with pytest.raises(ValueError, match="to_protobuf"):
        encode(message, "trisa-pb")  # type: ignore[arg-type]


def test_models_are_frozen_and_compare_without_meta() -> None:
    model = model_of(example2())
    with pytest.raises(AttributeError):
        model.originator = None  # type: ignore[misc]
    assert model == model_of(json.dumps(to_protobuf(model) and encode(model, "trisa-pj")))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_fast_construction_sets_every_field(name: str) -> None:
    cls: Any = SPECS[name].model
    fields = [f.name for f in dataclasses.fields(cls)]
    assert fields[-1] == "meta"
    built = m.build(cls, tuple(None for _ in fields))
    assert built == cls(*(None for _ in fields[:-1]))
    assert [getattr(built, f) for f in fields] == [None] * len(fields)
