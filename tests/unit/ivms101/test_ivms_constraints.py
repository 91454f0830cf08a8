"""C1-C12: for each constraint a minimal valid and a minimal invalid document (IVMS101 constraints C1-C12),
in IVMS JSON, in protojson and as a protobuf message, with the exact rule id and path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf import json_format

from travelgate._pb.ivms101 import identity_pb2
from travelgate.ivms101 import validate

from ._cases import NOW, errors, pj_path, to_protojson

Doc = dict[str, Any]

SMITH = {"primaryIdentifier": "Smith", "nameIdentifierType": "LEGL"}
ORIGINATOR = "originator.originatorPersons[0]"
BENEFICIARY = "beneficiary.beneficiaryPersons[0]"


def base() -> Doc:
    """Minimal valid payload: a natural originator with a customer id, a natural beneficiary."""
    return {
        "originator": {
            "originatorPersons": [
                {
                    "naturalPerson": {
                        "name": {"nameIdentifier": [dict(SMITH)]},
                        "customerIdentification": "1002390",
                    }
                }
            ]
        },
        "beneficiary": {
            "beneficiaryPersons": [{"naturalPerson": {"name": {"nameIdentifier": [dict(SMITH)]}}}]
        },
    }


def _originator(doc: Doc) -> Doc:
    person: Doc = doc["originator"]["originatorPersons"][0]
    return person


def _beneficiary(doc: Doc) -> Doc:
    person: Doc = doc["beneficiary"]["beneficiaryPersons"][0]
    return person


def legal(name: str = "ABC Limited", **extra: Any) -> Doc:
    return {
        "legalPerson": {
            "name": {
                "nameIdentifier": [
                    {"legalPersonName": name, "legalPersonNameIdentifierType": "LEGL"}
                ]
            },
            **extra,
        }
    }


def address(kind: str = "GEOG", **fields: Any) -> Doc:
    return {"addressType": kind, **fields}


def intermediary(name: str, sequence: int) -> Doc:
    return {"intermediaryVASP": legal(name), "sequence": sequence}


def natid(identifier: str, kind: str, **extra: Any) -> Doc:
    return {"nationalIdentifier": identifier, "nationalIdentifierType": kind, **extra}


def _c1_valid(doc: Doc) -> None:
    del doc  # the base already satisfies C1 with its customer identification


def _c1_invalid(doc: Doc) -> None:
    del _originator(doc)["naturalPerson"]["customerIdentification"]


def _dob(day: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        birth = {"dateOfBirth": day, "placeOfBirth": "Walnut"}
        _originator(doc)["naturalPerson"]["dateAndPlaceOfBirth"] = birth

    return change


def _country(code: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        line = address(addressLine=["1 Main St"], townName="Walnut", country=code)
        _originator(doc)["naturalPerson"]["geographicAddress"] = [line]

    return change


def _legal_originator(kind: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        place = address(kind, addressLine=["1 Main St"], townName="Santiago", country="CL")
        doc["originator"]["originatorPersons"] = [legal(geographicAddress=[place])]

    return change


def _legal_names(names: Doc) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        doc["beneficiary"]["beneficiaryPersons"] = [{"legalPerson": {"name": names}}]

    return change


def _natural_type(kind: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        name = {"primaryIdentifier": "Clark", "secondaryIdentifier": "Larry"}
        name["nameIdentifierType"] = kind
        _beneficiary(doc)["naturalPerson"]["name"] = {"nameIdentifier": [name]}

    return change


def _legal_natid(identification: Doc) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        doc["beneficiary"]["beneficiaryPersons"] = [
            legal(nationalIdentification=copy.deepcopy(identification))
        ]

    return change


def _natural_ra(code: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        identification = natid("446005", "RAID", registrationAuthority=code)
        _originator(doc)["naturalPerson"]["nationalIdentification"] = identification

    return change


def _address_of(place: Doc) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        _originator(doc)["naturalPerson"]["geographicAddress"] = [copy.deepcopy(place)]

    return change


def _path(sequences: list[int]) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        hops = [intermediary(f"VASP {chr(69 + i)}", s) for i, s in enumerate(sequences)]
        doc["transferPath"] = {"transferPath": hops}

    return change


LEGAL_NATID = f"{BENEFICIARY}.legalPerson.nationalIdentification"
LEI = "506700T7Z685VUOZL877"

# rule, valid change, invalid change, path of the violation (IVMS JSON spelling)
CASES: list[tuple[str, Callable[[Doc], None], Callable[[Doc], None], str]] = [
    ("C1", _c1_valid, _c1_invalid, f"{ORIGINATOR}.naturalPerson"),
    (
        "C2",
        _dob("1990-02-25"),
        _dob("2999-01-01"),
        f"{ORIGINATOR}.naturalPerson.dateAndPlaceOfBirth.dateOfBirth",
    ),
    (
        "C3",
        _country("XX"),
        _country("ZZ"),
        f"{ORIGINATOR}.naturalPerson.geographicAddress[0].country",
    ),
    ("C4", _legal_originator("GEOG"), _legal_originator("BIZZ"), f"{ORIGINATOR}.legalPerson"),
    (
        "C5",
        _legal_names(
            {
                "nameIdentifier": [
                    {"legalPersonName": "ABC Limited", "legalPersonNameIdentifierType": "LEGL"},
                    {"legalPersonName": "CBA Trading", "legalPersonNameIdentifierType": "TRAD"},
                ]
            }
        ),
        _legal_names(
            {
                "nameIdentifier": [
                    {"legalPersonName": "CBA Trading", "legalPersonNameIdentifierType": "TRAD"}
                ],
                "localNameIdentifier": [
                    {"legalPersonName": "ABC Limited", "legalPersonNameIdentifierType": "LEGL"}
                ],
            }
        ),
        f"{BENEFICIARY}.legalPerson.name.nameIdentifier",
    ),
    (
        "C6",
        _natural_type("LEGL"),
        _natural_type("ALIA"),
        f"{BENEFICIARY}.naturalPerson.name.nameIdentifier",
    ),
    (
        "C7",
        _legal_natid(natid("446005", "RAID", registrationAuthority="RA000553")),
        _legal_natid(natid("P1234567", "CCPT", registrationAuthority="RA000553")),
        f"{LEGAL_NATID}.nationalIdentifierType",
    ),
    (
        "C8",
        _address_of(
            address(
                streetName="Potential Street",
                buildingName="Weathering Views",
                townName="Walnut",
                country="US",
            )
        ),
        _address_of(
            address("HOME", streetName="Potential Street", townName="Walnut", country="US")
        ),
        f"{ORIGINATOR}.naturalPerson.geographicAddress[0]",
    ),
    (
        "C9",
        _legal_natid(natid(LEI, "LEIX")),
        _legal_natid(natid("446005", "RAID")),
        f"{LEGAL_NATID}.registrationAuthority",
    ),
    (
        "C10",
        _natural_ra("RA000553"),
        _natural_ra("RA000000"),
        f"{ORIGINATOR}.naturalPerson.nationalIdentification.registrationAuthority",
    ),
    (
        "C11",
        _legal_natid(natid(LEI, "LEIX")),
        _legal_natid(natid("XXXXXXXXXXXXXXXXXXXX", "LEIX")),
        f"{LEGAL_NATID}.nationalIdentifier",
    ),
    ("C12", _path([0, 1]), _path([1]), "transferPath.transferPath[0].sequence"),
]

ENCODINGS = ("ivms", "protojson", "protobuf")


def _document(change: Callable[[Doc], None], encoding: str) -> Any:
    doc = base()
    change(doc)
    if encoding == "ivms":
        return doc
    pj = to_protojson(doc)
    if encoding == "protojson":
        return pj
    # the standard protobuf JSON parser must accept our protojson: an independent check
    return json_format.Parse(__import__("json").dumps(pj), identity_pb2.IdentityPayload())


def _path_in(encoding: str, path: str) -> str:
    return path if encoding == "ivms" else pj_path(path)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(("rule", "valid", "invalid", "path"), CASES, ids=[c[0] for c in CASES])
def test_constraint_valid_and_invalid(
    rule: str,
    valid: Callable[[Doc], None],
    invalid: Callable[[Doc], None],
    path: str,
    encoding: str,
) -> None:
    good = validate(_document(valid, encoding), now=NOW)
    assert good.valid, good.violations
    assert rule not in {v.rule for v in good.violations}

    bad = validate(_document(invalid, encoding), now=NOW)
    assert not bad.valid
    assert errors(bad) == {(rule, _path_in(encoding, path))}
    expected_dialect = {"ivms": "ivms", "protojson": "trisa-pj", "protobuf": "trisa-pb"}
    assert bad.dialect == expected_dialect[encoding]


def test_c1_applies_to_originators_only() -> None:
    doc = base()
    _c1_invalid(doc)
    # the same person is valid as a beneficiary: swap the parties
    swapped = {
        "originator": {"originatorPersons": [_beneficiary(base())]},
        "beneficiary": {"beneficiaryPersons": [_originator(doc)]},
    }
    swapped["originator"]["originatorPersons"][0]["naturalPerson"]["customerIdentification"] = "1"
    assert validate(swapped, now=NOW).valid


def test_c1_counts_an_invalid_but_present_element() -> None:
    doc = base()
    _originator(doc)["naturalPerson"]["customerIdentification"] = "x" * 51
    result = validate(doc, now=NOW)
    assert errors(result) == {("LENGTH", f"{ORIGINATOR}.naturalPerson.customerIdentification")}


def test_c2_today_fails_and_yesterday_passes() -> None:
    today = NOW.date()
    for day, ok in ((today, False), (today.fromordinal(today.toordinal() - 1), True)):
        doc = base()
        _dob(day.isoformat())(doc)
        assert validate(doc, now=NOW).valid is ok


def test_c4_accepts_customer_number_or_national_identification() -> None:
    doc = base()
    doc["originator"]["originatorPersons"] = [legal(customerNumber="abc1234")]
    assert validate(doc, now=NOW).valid
    doc["originator"]["originatorPersons"] = [legal(nationalIdentification=natid(LEI, "LEIX"))]
    assert validate(doc, now=NOW).valid


def test_c4_does_not_bind_a_legal_beneficiary() -> None:
    doc = base()
    doc["beneficiary"]["beneficiaryPersons"] = [legal()]
    assert validate(doc, now=NOW).valid


def test_c5_c6_skipped_when_name_identifier_is_missing() -> None:
    doc = base()
    _beneficiary(doc)["naturalPerson"]["name"] = {"nameIdentifier": []}
    result = validate(doc, now=NOW)
    assert errors(result) == {("CARDINALITY", f"{BENEFICIARY}.naturalPerson.name.nameIdentifier")}


def test_c7_does_not_restrict_natural_persons() -> None:
    doc = base()
    _originator(doc)["naturalPerson"]["nationalIdentification"] = natid(
        "446005", "RAID", registrationAuthority="RA000553"
    )
    assert validate(doc, now=NOW).valid


def test_c8_accepts_both_forms_together() -> None:
    doc = base()
    _address_of(
        address(
            addressLine=["1 Main St"],
            streetName="Main St",
            buildingNumber="1",
            townName="Walnut",
            country="US",
        )
    )(doc)
    assert validate(doc, now=NOW).valid


def test_c9_reports_each_failing_part() -> None:
    doc = base()
    _legal_natid(natid(LEI, "LEIX", countryOfIssue="US", registrationAuthority="RA000744"))(doc)
    result = validate(doc, now=NOW)
    assert errors(result) == {
        ("C9", f"{LEGAL_NATID}.countryOfIssue"),
        ("C9", f"{LEGAL_NATID}.registrationAuthority"),
    }


def test_c10_special_codes_are_on_the_list() -> None:
    for code in ("RA777777", "RA888888", "RA999999"):
        doc = base()
        _natural_ra(code)(doc)
        assert validate(doc, now=NOW).valid, code


def test_c11_natural_person_lei_is_format_lei() -> None:
    doc = base()
    _originator(doc)["naturalPerson"]["nationalIdentification"] = natid("XXXX", "LEIX")
    path = f"{ORIGINATOR}.naturalPerson.nationalIdentification.nationalIdentifier"
    assert errors(validate(doc, now=NOW, profile="strict")) == {("FORMAT.LEI", path)}
    standard = validate(doc, now=NOW)
    assert standard.valid
    assert {(v.rule, v.path, v.severity) for v in standard.violations} == {
        ("FORMAT.LEI", path, "warning")
    }


@pytest.mark.parametrize(
    ("sequences", "bad"),
    [([0, 0], [1]), ([0, 2], [1]), ([2, 0, 2], [2]), ([3, 4, 5], [0, 1, 2])],
)
def test_c12_reports_each_offending_item(sequences: list[int], bad: list[int]) -> None:
    doc = base()
    _path(sequences)(doc)
    result = validate(doc, now=NOW)
    assert errors(result) == {("C12", f"transferPath.transferPath[{i}].sequence") for i in bad}


def test_c12_order_is_an_error_in_strict_and_a_warning_in_standard() -> None:
    doc = base()
    _path([1, 0])(doc)
    paths = {("C12", f"transferPath.transferPath[{i}].sequence") for i in (0, 1)}
    assert errors(validate(doc, now=NOW, profile="strict")) == paths
    standard = validate(doc, now=NOW)
    assert standard.valid
    assert {(v.rule, v.path) for v in standard.warnings} == paths
    assert validate(doc, now=NOW, profile="interop").violations == ()
