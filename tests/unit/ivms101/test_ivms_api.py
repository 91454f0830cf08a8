"""The public surface: result objects, ordering and suppression, paths and pointers, the
TRISA rejection (validator error reports), profiles as data (7)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import travelgate.ivms101 as ivms
from travelgate.errors import IncompleteIdentityError, TrisaError, UnparseableIdentityError
from travelgate.ivms101 import (
    CHECKS,
    RULES,
    ValidationResult,
    Violation,
    custom_profile,
    rejection_for,
    rejection_message,
    validate,
)

from ._cases import NOW, example2, found

ORIG = "originator.originatorPersons[0].naturalPerson"


def test_public_names() -> None:
    for name in (
        "validate",
        "decode",
        "encode",
        "to_protobuf",
        "person_to_protobuf",
        "person_from_protobuf",
        "rejection_for",
        "ValidationResult",
        "Violation",
        "Profile",
        "IvmsParseError",
    ):
        assert name in ivms.__all__
    assert all(hasattr(ivms, name) for name in ivms.__all__)
    assert issubclass(ivms.IvmsParseError, ivms.IvmsError)


def test_result_and_violation_are_frozen() -> None:
    result = validate(example2(), now=NOW)
    assert isinstance(result, ValidationResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.valid = False  # type: ignore[misc]
    violation = Violation("C1", "a", "error", "m", "/a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        violation.rule = "C2"  # type: ignore[misc]


def test_paths_and_pointers() -> None:
    doc = example2()
    doc["originator"]["originatorPersons"][0]["naturalPerson"]["odd key/~"] = 1
    doc["originator"]["originatorPersons"][0]["naturalPerson"]["name"]["nameIdentifier"][0][
        "primaryIdentifier"
    ] = "x" * 101
    result = validate(doc, now=NOW)
    by_rule = {v.rule: v for v in result.violations}
    assert by_rule["UNKNOWN_FIELD"].path == f'{ORIG}["odd key/~"]'
    assert (
        by_rule["UNKNOWN_FIELD"].pointer
        == "/originator/originatorPersons/0/naturalPerson/odd key~1~0"
    )
    assert by_rule["LENGTH"].path == f"{ORIG}.name.nameIdentifier[0].primaryIdentifier"
    assert by_rule["LENGTH"].pointer == (
        "/originator/originatorPersons/0/naturalPerson/name/nameIdentifier/0/primaryIdentifier"
    )
    assert by_rule["LENGTH"].message == "length 101 exceeds maximum 100"


def test_messages_carry_no_personal_data() -> None:
    doc = example2()
    natural = doc["originator"]["originatorPersons"][0]["naturalPerson"]
    natural["name"]["nameIdentifier"][0] = {
        "primaryIdentifier": "Zebediah\t",
        "nameIdentifierType": "ALIA",
    }
    natural["dateAndPlaceOfBirth"] = {"dateOfBirth": "2999-12-31", "placeOfBirth": "Kigoma,\n"}
    natural["nationalIdentification"] = {
        "nationalIdentifier": "zz99secretzz",
        "nationalIdentifierType": "LEIX",
    }
    natural["customerIdentification"] = "cust-" + "9" * 60
    doc["beneficiary"]["accountNumber"] = ["wallet\u00e9"]
    results = [validate(doc, profile=p, now=NOW) for p in ("strict", "standard", "interop")]
    text = " ".join(v.message for r in results for v in r.violations)
    for secret in ("Zebediah", "2999", "Kigoma", "zz99secretzz", "cust-", "wallet"):
        assert secret not in text
    error = rejection_for(results[0])
    assert error is not None
    for secret in ("Zebediah", "2999", "Kigoma", "zz99secretzz", "wallet"):
        assert secret not in error.message


def test_order_is_by_position_then_rule_and_each_pair_once() -> None:
    doc = example2()
    natural = doc["originator"]["originatorPersons"][0]["naturalPerson"]
    natural["countryOfResidence"] = "Müller-land"  # FORMAT.COUNTRY (C3 suppressed)
    natural["name"]["nameIdentifier"][0]["primaryIdentifier"] = "É" * 101  # LENGTH + CHARSET
    doc["beneficiary"]["beneficiaryPersons"] = []
    result = validate(doc, now=NOW)
    assert [(v.rule, v.path) for v in result.violations] == [
        ("LENGTH", f"{ORIG}.name.nameIdentifier[0].primaryIdentifier"),
        ("CHARSET", f"{ORIG}.name.nameIdentifier[0].primaryIdentifier"),
        ("FORMAT.COUNTRY", f"{ORIG}.countryOfResidence"),
        ("CARDINALITY", "beneficiary.beneficiaryPersons"),
    ]
    assert len(found(result)) == len(result.violations)
    again = validate(doc, now=NOW)
    assert again.violations == result.violations


def test_suppression_format_ra_hides_c10_and_c11_hides_checksum() -> None:
    doc = example2()
    doc["originator"]["originatorPersons"][0]["naturalPerson"]["nationalIdentification"][
        "registrationAuthority"
    ] = "RA12"
    assert {v.rule for v in validate(doc, now=NOW).violations} == {"FORMAT.RA"}
    doc = example2()
    doc["beneficiary"]["beneficiaryPersons"][0]["legalPerson"]["nationalIdentification"] = {
        "nationalIdentifier": "3M5E1GQKGL17HI8CPN2X",
        "nationalIdentifierType": "LEIX",
    }
    assert {v.rule for v in validate(doc, profile="strict", now=NOW).violations} == {"C11"}


def test_type_error_stops_the_walk_below_it() -> None:
    doc = example2()
    doc["originator"]["originatorPersons"][0]["naturalPerson"]["name"] = "Wu Xinli"
    result = validate(doc, now=NOW)
    assert [(v.rule, v.path) for v in result.violations] == [("TYPE", f"{ORIG}.name")]


def test_rejection_message_format() -> None:
    doc: dict[str, Any] = {"originator": {"originatorPersons": []}}
    result = validate(doc, profile="strict", now=NOW)
    error = rejection_for(result)
    assert isinstance(error, IncompleteIdentityError)
    assert error.retry
    assert error.message == (
        "IVMS101 strict: 2 error(s): CARDINALITY at originator.originatorPersons; "
        "CARDINALITY at beneficiary"
    )
    assert rejection_message(result) == error.message


def test_rejection_code_order_prefers_151_then_153_then_154_then_155() -> None:
    doc = example2()
    del doc["beneficiary"]  # 154
    natural = doc["originator"]["originatorPersons"][0]["naturalPerson"]
    natural["countryOfResidence"] = "ZZ"  # 155
    assert rejection_for(validate(doc, now=NOW)).code == 154  # type: ignore[union-attr]
    del natural["name"]["nameIdentifier"][0]["primaryIdentifier"]  # 153
    assert rejection_for(validate(doc, now=NOW)).code == 153  # type: ignore[union-attr]
    natural["extra"] = True  # 151
    error = rejection_for(validate(doc, now=NOW))
    assert isinstance(error, UnparseableIdentityError)
    assert isinstance(error, TrisaError)


def test_rejection_lists_ten_items_and_is_capped() -> None:
    doc = example2()
    natural = doc["originator"]["originatorPersons"][0]["naturalPerson"]
    for index in range(40):
        natural[f"vendorKeyNumber{index:02d}" + "x" * 30] = 1
    result = validate(doc, now=NOW)
    error = rejection_for(result)
    assert error is not None
    assert error.message.startswith("IVMS101 standard: 40 error(s): UNKNOWN_FIELD at ")
    assert error.message.count("UNKNOWN_FIELD at") <= 10
    assert len(error.message) <= 1000


def test_warnings_never_reject() -> None:
    result = validate(ivms.decode(example2()).model, profile="strict", now=NOW)
    assert rejection_for(result) is None


def test_profiles_are_data() -> None:
    assert {row.rule for row in CHECKS.values()} <= set(RULES)
    relaxed = custom_profile("no-townname", "strict", {"CARDINALITY.town": "-", "C7": "W"})
    doc = example2()
    doc["originator"]["originatorPersons"][0]["naturalPerson"]["geographicAddress"] = [
        {"addressType": "GEOG", "addressLine": ["1 Main St"], "country": "TZ"}
    ]
    assert not validate(doc, profile="strict", now=NOW).valid
    result = validate(doc, profile=relaxed, now=NOW)
    assert result.valid
    assert result.profile == "no-townname"
    with pytest.raises(ValueError, match="built-in"):
        custom_profile("strict", "strict", {})
    with pytest.raises(ValueError, match="unknown"):
        custom_profile("x", "strict", {"C99": "W"})


def test_protobuf_paths_use_json_names() -> None:
    message = ivms.to_protobuf(example2())
    message.originating_vasp.originating_vasp.legal_person.name.name_identifiers.add(
        legal_person_name="VASP C", legal_person_name_identifier_type=2
    )
    result = validate(message, now=NOW)
    assert [(v.rule, v.path) for v in result.violations] == [
        ("C5", "originatingVasp.originatingVasp.legalPerson.name.nameIdentifier")
    ]
    hop = message.transfer_path.transfer_path[0].intermediary_vasp.legal_person
    hop.name.name_identifiers[0].ClearField("legal_person_name_identifier_type")
    result = validate(message, profile="interop", now=NOW)
    path = "transferPath.transferPath[0].intermediaryVasp.legalPerson.name.nameIdentifier[0]"
    assert ("CARDINALITY", f"{path}.legalPersonNameIdentifierType", "warning") in {
        (v.rule, v.path, v.severity) for v in result.violations
    }
