"""How the beneficiary a counterparty returns compares with the one a withdrawal sent."""

from __future__ import annotations

import pytest

from travelgate._pb.ivms101 import enum_pb2, ivms101_pb2
from travelgate.conformance._payloads import legal_person, natural_person
from travelgate.service._payloads import beneficiary_match


def typed(name: str) -> ivms101_pb2.Person:
    """A beneficiary given as one bare name, as `{"beneficiary": {"name": ...}}` sends it."""
    person = ivms101_pb2.Person()
    person.natural_person.name.name_identifiers.add(
        primary_identifier=name,
        name_identifier_type=enum_pb2.NATURAL_PERSON_NAME_TYPE_CODE_LEGL,
    )
    return person


@pytest.mark.parametrize(
    ("sent", "returned", "match"),
    [
        (typed("Bob Jones"), natural_person("Jones", "Bob", complete=True), "exact"),
        (typed("Jones Bob"), natural_person("Jones", "Bob", complete=True), "exact"),
        (
            natural_person("Jones", "Bob", complete=False),
            natural_person("Jones", "Bob", complete=True),
            "exact",
        ),
        (typed("JONES, bob"), natural_person("Jones", "Bob", complete=True), "close"),
        (typed("Zoë Müller"), natural_person("Muller", "Zoe", complete=True), "close"),
        (typed("Bob Jones"), natural_person("Jones", "Bob Alan", complete=True), "close"),
        (typed("Robert Jones"), natural_person("Jones", "Bob", complete=True), "mismatch"),
        (typed("Jones"), natural_person("Jones", "Bob", complete=True), "mismatch"),
        (legal_person("Acme Ltd", "GB"), legal_person("Acme Ltd", "GB"), "exact"),
        (legal_person("ACME LTD.", "GB"), legal_person("Acme Ltd", "GB"), "close"),
    ],
)
def test_match(sent: ivms101_pb2.Person, returned: ivms101_pb2.Person, match: str) -> None:
    assert beneficiary_match(sent, [returned]) == match


def test_nothing_returned_is_a_mismatch() -> None:
    assert beneficiary_match(typed("Bob Jones"), []) == "mismatch"
