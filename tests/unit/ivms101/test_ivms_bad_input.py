"""Input that is not an IdentityPayload: a PARSE result (never an exception), bounded size and
depth, and JSON that parses but is something else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from travelgate._pb.ivms101 import identity_pb2, ivms101_pb2
from travelgate.ivms101 import IvmsParseError, decode, parse_rejection, rejection_for, validate

from ._cases import NOW, TRISA, errors, example2


def parse_message(document: Any, **options: Any) -> str:
    result = validate(document, now=NOW, **options)
    assert result.model is None
    assert not result.valid
    assert [(v.rule, v.path, v.severity) for v in result.violations] == [("PARSE", "", "error")]
    error = rejection_for(result)
    assert error is not None
    assert error.code == 151
    assert error.retry
    return result.violations[0].message


@pytest.mark.parametrize(
    "document",
    [
        b"",
        b"   ",
        b"not json",
        b"{",
        b'{"originator": }',
        b"\xff\xfe{}",
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        "[1, 2]",
        '"a string"',
        "42",
        "null",
        b'{"a": 1' + b"0" * 5000 + b"}",
        b"\x08\x96\x01\xff",  # protobuf-looking garbage
    ],
)
def test_unparseable_input(document: bytes | str) -> None:
    message = parse_message(document)
    assert message


def test_bom_is_parse_error_except_in_interop() -> None:
    text = b"\xef\xbb\xbf" + json.dumps(example2()).encode()
    assert "byte-order mark" in parse_message(text)
    assert "byte-order mark" in parse_message(text, profile="strict")
    result = validate(text, profile="interop", now=NOW)
    assert result.valid
    assert [(v.rule, v.severity) for v in result.violations] == [("PARSE", "warning")]


def test_size_limit_default_and_configurable() -> None:
    big = json.dumps({"originator": {"x": "a" * (1024 * 1024)}})
    assert "exceeds the limit" in parse_message(big)
    small = json.dumps(example2()).encode()
    assert "exceeds the limit" in parse_message(small, max_size=100)
    assert validate(small, max_size=len(small), now=NOW).valid


def test_size_limit_applies_to_protobuf_bytes() -> None:
    data = identity_pb2.IdentityPayload(
        originator=identity_pb2.Originator(account_numbers=["x" * 2000])
    ).SerializeToString()
    assert "exceeds the limit" in parse_message(data, max_size=1000)


@pytest.mark.parametrize("depth", [33, 200, 100_000])
def test_nesting_deeper_than_32_is_refused(depth: int) -> None:
    deep = '{"originator": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
    assert "deep" in parse_message(deep)


def test_nesting_limit_for_dict_input_and_configurable() -> None:
    node: Any = {}
    for _ in range(40):
        node = {"x": node}
    assert "deeper" in parse_message(node)
    assert "deeper" in parse_message(example2(), max_depth=5)


def test_wrong_type_url_is_parse() -> None:
    doc = {"@type": "type.googleapis.com/trisa.data.generic.v1beta1.Transaction"}
    assert "@type" in parse_message(doc)


def test_type_url_of_an_identity_payload_is_removed() -> None:
    pj = json.loads((TRISA / "identity_payload.pb.json").read_text())
    pj["@type"] = "type.googleapis.com/ivms101.IdentityPayload"
    result = validate(pj, now=NOW)
    assert result.dialect == "trisa-pj"
    assert "UNKNOWN_FIELD" not in {v.rule for v in result.violations}


def test_unsupported_python_type_is_parse() -> None:
    parse_message(12345)
    parse_message(["a list"])


def test_foreign_protobuf_message_is_parse() -> None:
    from travelgate._pb.trisa.api.v1beta1 import errors_pb2

    parse_message(errors_pb2.Error(message="not an identity"))


def test_json_that_is_not_an_identity_payload() -> None:
    result = validate({"hello": "world", "list": [1, 2]}, now=NOW)
    assert errors(result) == {
        ("UNKNOWN_FIELD", "hello"),
        ("UNKNOWN_FIELD", "list"),
        ("CARDINALITY", "originator"),
        ("CARDINALITY", "beneficiary"),
    }
    error = rejection_for(result)
    assert error is not None
    assert error.code == 151


def test_empty_object_lacks_both_parties() -> None:
    result = validate({}, now=NOW)
    assert errors(result) == {("CARDINALITY", "originator"), ("CARDINALITY", "beneficiary")}
    error = rejection_for(result)
    assert error is not None
    assert error.code == 154


@pytest.mark.parametrize(
    "value", [1, 1.5, True, "text", [1], [[]], {"nested": {"deep": [None]}}, None]
)
def test_wrong_json_types_everywhere_never_raise(value: Any) -> None:
    doc = example2()
    paths: list[list[Any]] = []

    def collect(node: Any, path: list[Any]) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                paths.append([*path, key])
                collect(child, [*path, key])
        elif isinstance(node, list):
            for index, child in enumerate(node):
                paths.append([*path, index])
                collect(child, [*path, index])

    collect(doc, [])
    for path in paths:
        mutated = example2()
        parent: Any = mutated
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = value
        for profile in ("strict", "interop"):
            result = validate(json.dumps(mutated), profile=profile, now=NOW)
            assert result.model is not None


def test_lone_surrogates_and_controls_are_charset_errors() -> None:
    doc = example2()
    name = doc["originator"]["originatorPersons"][0]["naturalPerson"]["name"]
    name["nameIdentifier"][0]["primaryIdentifier"] = "Wu\ud800"
    name["localNameIdentifier"][0]["primaryIdentifier"] = "吴\n"
    text = json.dumps(doc)  # \ud800 travels as an escape, as it would on the wire
    result = validate(text, profile="interop", now=NOW)
    base = "originator.originatorPersons[0].naturalPerson.name"
    assert errors(result) == {
        ("CHARSET", f"{base}.nameIdentifier[0].primaryIdentifier"),
        ("CHARSET", f"{base}.localNameIdentifier[0].primaryIdentifier"),
    }


def test_decode_raises_a_parse_error_with_a_trisa_mapping() -> None:
    with pytest.raises(IvmsParseError) as caught:
        decode(b"{nope")
    error = caught.value.to_trisa()
    assert error.code == 151
    assert error.retry
    assert "cannot be parsed" in error.message
    assert parse_rejection(caught.value).code == 151
    assert parse_rejection("bad bytes").code == 151


def test_component_messages_and_bytes() -> None:
    person = ivms101_pb2.Person(natural_person=ivms101_pb2.NaturalPerson())
    result = validate(person, now=NOW)
    assert result.dialect == "trisa-pb"
    assert errors(result) == {("CARDINALITY", "naturalPerson.name")}
    again = validate(person.SerializeToString(), component="Person", now=NOW)
    assert errors(again) == errors(result)


def test_bad_arguments_raise_value_error() -> None:
    with pytest.raises(ValueError, match="profile"):
        validate({}, profile="lenient")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="edition"):
        validate({}, edition="2021")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="component"):
        validate({}, component="Wallet")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="aware"):
        validate({}, now=NOW.replace(tzinfo=None))
