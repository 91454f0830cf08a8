"""Every TRISA fixture and the standard's examples, with the verdict per profile that
TRISA reference IVMS101 test data gives (and the TRISA code of each rejection, 8.6)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from travelgate.ivms101 import Profile, decode, rejection_for, validate

from ._cases import NOW, PROFILES, TRISA, errors, example2, found, load, warnings

CHARSET = "CHARSET"


def check(name: str, profile: Any, **options: Any) -> Any:
    return validate((TRISA / name).read_bytes(), profile=profile, now=NOW, **options)


@pytest.mark.parametrize("profile", PROFILES)
def test_address(profile: Profile) -> None:
    result = check("address.json", profile, component="Address")
    assert result.valid
    assert result.violations == ()


@pytest.mark.parametrize("profile", PROFILES)
def test_national_identification_without_context(profile: Profile) -> None:
    result = check("national_identification.json", profile, component="NationalIdentification")
    assert result.valid
    assert result.violations == ()


@pytest.mark.parametrize("profile", PROFILES)
def test_national_identification_of_a_legal_person(profile: Profile) -> None:
    result = check(
        "national_identification.json",
        profile,
        component="NationalIdentification",
        person_kind="legal",
    )
    expected = {("C7", "nationalIdentifierType"), ("C9", "countryOfIssue")}
    if profile == "interop":
        assert result.valid
        assert warnings(result) == expected
    else:
        assert errors(result) == expected


def test_natural_person() -> None:
    strict = check("natural_person.json", "strict", component="NaturalPerson")
    assert errors(strict) == {
        (CHARSET, "nationalIdentification.nationalIdentifier"),
        (CHARSET, "dateAndPlaceOfBirth.placeOfBirth"),
    }
    for profile in ("standard", "interop"):
        result = check("natural_person.json", profile, component="NaturalPerson")
        assert result.valid
        assert result.violations == ()


def test_legal_person() -> None:
    strict = check("legal_person.json", "strict", component="LegalPerson")
    assert errors(strict) == {(CHARSET, "name.nameIdentifier[0].legalPersonName")}
    for profile in ("standard", "interop"):
        result = check("legal_person.json", profile, component="LegalPerson")
        assert result.valid
        assert result.violations == ()


def test_person_natural_person() -> None:
    strict = check("person_natural_person.json", "strict", component="Person")
    assert errors(strict) == {
        (CHARSET, "naturalPerson.nationalIdentification.nationalIdentifier"),
        (CHARSET, "naturalPerson.dateAndPlaceOfBirth.placeOfBirth"),
    }
    for profile in ("standard", "interop"):
        result = check("person_natural_person.json", profile, component="Person")
        assert result.valid
        assert result.violations == ()


LEI_PATH = "legalPerson.nationalIdentification.nationalIdentifier"


def test_person_legal_person() -> None:
    strict = check("person_legal_person.json", "strict", component="Person")
    assert errors(strict) == {
        (CHARSET, "legalPerson.name.nameIdentifier[0].legalPersonName"),
        ("FORMAT.LEI_CHECKSUM", LEI_PATH),
    }
    for profile in ("standard", "interop"):
        result = check("person_legal_person.json", profile, component="Person")
        assert result.valid
        assert found(result) == {("FORMAT.LEI_CHECKSUM", LEI_PATH)}
        assert warnings(result) == found(result)


def test_person_both_persons() -> None:
    strict = check("person_both_persons.json", "strict", component="Person")
    assert errors(strict) == {
        ("ONE_OF", ""),
        (CHARSET, "naturalPerson.nationalIdentification.nationalIdentifier"),
        (CHARSET, "naturalPerson.dateAndPlaceOfBirth.placeOfBirth"),
        (CHARSET, "legalPerson.name.nameIdentifier[0].legalPersonName"),
        ("FORMAT.LEI_CHECKSUM", LEI_PATH),
    }
    for profile in ("standard", "interop"):
        result = check("person_both_persons.json", profile, component="Person")
        assert errors(result) == {("ONE_OF", "")}
        assert warnings(result) == {("FORMAT.LEI_CHECKSUM", LEI_PATH)}


PAYLOAD_CHARSET = {
    (CHARSET, "originator.originatorPersons[0].naturalPerson.dateAndPlaceOfBirth.placeOfBirth"),
    (CHARSET, "beneficiary.beneficiaryPersons[0].naturalPerson.dateAndPlaceOfBirth.placeOfBirth"),
    (CHARSET, "originatingVASP.originatingVASP.legalPerson.name.nameIdentifier[0].legalPersonName"),
    (CHARSET, "beneficiaryVASP.beneficiaryVASP.legalPerson.name.nameIdentifier[0].legalPersonName"),
}


def test_identity_payload() -> None:
    strict = check("identity_payload.json", "strict")
    assert errors(strict) == PAYLOAD_CHARSET
    assert found(strict) == PAYLOAD_CHARSET
    error = rejection_for(strict)
    assert error is not None
    assert error.code == 155
    for profile in ("standard", "interop"):
        result = check("identity_payload.json", profile)
        assert result.valid
        assert result.violations == ()
        assert (result.dialect, result.edition) == ("ivms", "2020")


PB_VASP = {
    f"{vasp}.{vasp}.legal_person.national_identification": lei
    for vasp, lei in (("originating_vasp", 0), ("beneficiary_vasp", 1))
}
PB_C9 = {
    ("C9", f"{base}.{leaf}")
    for base in PB_VASP
    for leaf in ("country_of_issue", "registration_authority")
}
PB_CHECKSUM = {("FORMAT.LEI_CHECKSUM", f"{base}.national_identifier") for base in PB_VASP}
PB_COUNTRY = {
    (
        "FORMAT.COUNTRY",
        "beneficiary.beneficiary_persons[0].natural_person.geographic_addresses[0].country",
    )
}


def test_identity_payload_pb_json() -> None:
    standard = check("identity_payload.pb.json", "standard")
    assert (standard.dialect, standard.edition) == ("trisa-pj", "2020")
    assert errors(standard) == PB_COUNTRY | PB_C9
    assert warnings(standard) == PB_CHECKSUM
    interop = check("identity_payload.pb.json", "interop")
    assert errors(interop) == PB_COUNTRY
    assert warnings(interop) == PB_C9 | PB_CHECKSUM
    strict = check("identity_payload.pb.json", "strict")
    charset = {
        (
            CHARSET,
            f"{party}.{party}_persons[0].natural_person.date_and_place_of_birth.place_of_birth",
        )
        for party in ("originator", "beneficiary")
    } | {
        (CHARSET, f"{vasp}.{vasp}.legal_person.name.name_identifiers[0].legal_person_name")
        for vasp in ("originating_vasp", "beneficiary_vasp")
    }
    assert errors(strict) == PB_COUNTRY | PB_C9 | PB_CHECKSUM | charset
    for result in (strict, standard, interop):
        error = rejection_for(result)
        assert error is not None
        assert error.code == 155


ALIASES = [
    "nameIdentifiers",
    "lastName",
    "firstName",
    "surname",
    "geographicAddresses",
    "street",
    "number",
    "postalCode",
    "town",
    "state",
    "ra",
    "dob",
    "pob",
    "zip_code",
    "city",
    "country",
    "country",
    "name",
    "addresses",
]
ALT_CARDINALITY = {
    ("CARDINALITY", "originator.originatorPersons[0].naturalPerson.name.nameIdentifier"),
    (
        "CARDINALITY",
        "originator.originatorPersons[0].naturalPerson.dateAndPlaceOfBirth.dateOfBirth",
    ),
    (
        "CARDINALITY",
        "originator.originatorPersons[0].naturalPerson.dateAndPlaceOfBirth.placeOfBirth",
    ),
    ("CARDINALITY", "beneficiary.beneficiaryPersons[0].naturalPerson.name.nameIdentifier"),
    (
        "CARDINALITY",
        "originatingVASP.originatingVASP.legalPerson.name.name_identifiers[0].legalPersonName",
    ),
    ("CARDINALITY", "beneficiaryVASP.beneficiaryVASP.legalPerson.name.nameIdentifier"),
}


@pytest.mark.parametrize("profile", PROFILES)
def test_identity_payload_alt(profile: Profile) -> None:
    result = check("identity_payload_alt.json", profile)
    unknown = [v.path.rsplit(".", 1)[-1] for v in result.violations if v.rule == "UNKNOWN_FIELD"]
    # every alias spelling is named (some occur more than once in the file)
    assert set(unknown) == set(ALIASES)
    assert unknown.count("country") == 2
    assert errors(result) >= ALT_CARDINALITY
    assert "DIALECT" in {v.rule for v in result.violations}
    error = rejection_for(result)
    assert error is not None
    if profile == "interop":
        assert errors(result) == ALT_CARDINALITY
        assert all(v.severity == "warning" for v in result.violations if v.rule == "UNKNOWN_FIELD")
        assert error.code == 153
    else:
        assert (
            "DIALECT",
            "originator.originatorPersons[0].naturalPerson.country_of_residence",
        ) in errors(result)
        assert error.code == 151


@pytest.mark.parametrize("profile", PROFILES)
def test_identity_payload_alt_with_rekey(profile: Profile) -> None:
    alt = check("identity_payload_alt.json", profile, rekey=True)
    plain = check("identity_payload.json", profile)
    assert alt.model == plain.model
    assert alt.valid == plain.valid
    assert len(errors(alt)) == len(errors(plain))
    assert {v.rule for v in alt.warnings} == {"UNKNOWN_FIELD"}
    assert decode((TRISA / "identity_payload_alt.json").read_bytes(), rekey=True).model == (
        decode((TRISA / "identity_payload.json").read_bytes()).model
    )


# -- 10.2: the standard's examples ----------------------------------------------------------

EX1_LEI = "originatingVASP.originatingVASP.legalPerson.nationalIdentification.nationalIdentifier"


def example(name: str, profile: Any) -> Any:
    return validate(load(name), profile=profile, now=NOW)


def test_example1_2020() -> None:
    assert errors(example("example1_2020.json", "strict")) == {("FORMAT.LEI_CHECKSUM", EX1_LEI)}
    for profile in ("standard", "interop"):
        result = example("example1_2020.json", profile)
        assert result.valid
        assert warnings(result) == {("FORMAT.LEI_CHECKSUM", EX1_LEI)}
        assert found(result) == warnings(result)


@pytest.mark.parametrize("profile", PROFILES)
def test_example1_2020_lei_fixed(profile: Profile) -> None:
    assert example("example1_2020_lei_fixed.json", profile).violations == ()


@pytest.mark.parametrize("profile", PROFILES)
def test_example2_2020(profile: Profile) -> None:
    result = example("example2_2020.json", profile)
    assert result.valid
    assert result.violations == ()


VERSION = ("ENUM", "payloadMetadata.payloadVersion")


def test_example1_2023() -> None:
    strict = example("example1_2023.json", "strict")
    assert strict.edition == "2023"
    assert errors(strict) == {VERSION, ("FORMAT.LEI_CHECKSUM", EX1_LEI)}
    for profile in ("standard", "interop"):
        result = example("example1_2023.json", profile)
        assert result.valid
        assert result.edition == "2023"
        assert warnings(result) == {VERSION, ("FORMAT.LEI_CHECKSUM", EX1_LEI)}


def test_example2_2023() -> None:
    assert errors(example("example2_2023.json", "strict")) == {VERSION}
    for profile in ("standard", "interop"):
        result = example("example2_2023.json", profile)
        assert result.valid
        assert warnings(result) == {VERSION}
    fixed = load("example2_2023.json")
    fixed["payloadMetadata"]["payloadVersion"] = "101.2023"
    for profile in PROFILES:
        result = validate(fixed, profile=profile, now=NOW)
        assert result.violations == ()
        assert result.edition == "2023"


# -- 10.3: single changes to example 2 ------------------------------------------------------

ORIG = "originator.originatorPersons[0].naturalPerson"


def _drop_beneficiary(doc: dict[str, Any]) -> None:
    del doc["beneficiary"]


def _empty_beneficiaries(doc: dict[str, Any]) -> None:
    doc["beneficiary"]["beneficiaryPersons"] = []


def _set(path: list[Any], value: Any) -> Any:
    def change(doc: dict[str, Any]) -> None:
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def _drop_natid(doc: dict[str, Any]) -> None:
    del doc["originator"]["originatorPersons"][0]["naturalPerson"]["nationalIdentification"]


def _both_kinds(doc: dict[str, Any]) -> None:
    doc["beneficiary"]["beneficiaryPersons"][0]["naturalPerson"] = {
        "name": {"nameIdentifier": [{"primaryIdentifier": "Clark", "nameIdentifierType": "LEGL"}]}
    }


def _duplicate_postcode(doc: dict[str, Any]) -> None:
    address = {
        "addressType": "GEOG",
        "addressLine": ["1 Main St"],
        "townName": "Dodoma",
        "postcode": "41101",
        "postCode": "41101",
        "country": "TZ",
    }
    doc["originator"]["originatorPersons"][0]["naturalPerson"]["geographicAddress"] = [address]


NATID = [*["originator", "originatorPersons"], 0, "naturalPerson", "nationalIdentification"]
NAME0 = [*["originator", "originatorPersons"], 0, "naturalPerson", "name", "nameIdentifier", 0]

# change, rule, path, TRISA code, the profiles in which the document is still accepted
NEGATIVES: list[tuple[str, Any, str, str, int, tuple[str, ...]]] = [
    ("no beneficiary", _drop_beneficiary, "CARDINALITY", "beneficiary", 154, ()),
    (
        "empty beneficiaries",
        _empty_beneficiaries,
        "CARDINALITY",
        "beneficiary.beneficiaryPersons",
        154,
        (),
    ),
    (
        "ALIA name",
        _set([*NAME0, "nameIdentifierType"], "ALIA"),
        "C6",
        f"{ORIG}.name.nameIdentifier",
        155,
        (),
    ),
    ("no identifying element", _drop_natid, "C1", ORIG, 155, ()),
    (
        "unknown RA",
        _set([*NATID, "registrationAuthority"], "RA000000"),
        "C10",
        f"{ORIG}.nationalIdentification.registrationAuthority",
        155,
        ("interop",),
    ),
    (
        "malformed RA",
        _set([*NATID, "registrationAuthority"], "RA55"),
        "FORMAT.RA",
        f"{ORIG}.nationalIdentification.registrationAuthority",
        155,
        (),
    ),
    (
        "lower-case country",
        _set(
            [*["originator", "originatorPersons"], 0, "naturalPerson", "countryOfResidence"],
            "tz",
        ),
        "FORMAT.COUNTRY",
        f"{ORIG}.countryOfResidence",
        155,
        ("interop",),
    ),
    (
        "sequence 1",
        _set(["transferPath", "transferPath", 0, "sequence"], 1),
        "C12",
        "transferPath.transferPath[0].sequence",
        155,
        ("interop",),
    ),
    (
        "sequence as a string",
        _set(["transferPath", "transferPath", 0, "sequence"], "0"),
        "FORMAT.NUMBER",
        "transferPath.transferPath[0].sequence",
        155,
        ("interop",),
    ),
    (
        "upper-case transliteration",
        _set(["payloadMetadata", "transliterationMethod"], ["HANI"]),
        "ENUM",
        "payloadMetadata.transliterationMethod[0]",
        155,
        ("standard", "interop"),
    ),
    ("both kinds", _both_kinds, "ONE_OF", "beneficiary.beneficiaryPersons[0]", 155, ()),
    (
        "empty secondary identifier",
        _set([*NAME0, "secondaryIdentifier"], ""),
        "LENGTH",
        f"{ORIG}.name.nameIdentifier[0].secondaryIdentifier",
        155,
        ("interop",),
    ),
    (
        "postcode twice",
        _duplicate_postcode,
        "DUPLICATE_FIELD",
        f"{ORIG}.geographicAddress[0].postCode",
        151,
        (),
    ),
]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(
    ("label", "change", "rule", "path", "code", "accepted"),
    NEGATIVES,
    ids=[n[0] for n in NEGATIVES],
)
def test_minimal_negative_cases(
    label: str,
    change: Any,
    rule: str,
    path: str,
    code: int,
    accepted: tuple[str, ...],
    profile: Profile,
) -> None:
    del label
    doc = example2()
    change(doc)
    result = validate(copy.deepcopy(doc), profile=profile, now=NOW)
    if profile in accepted:
        assert result.valid, result.violations
        if not (rule == "ENUM" and profile == "interop"):  # interop normalises silently
            assert (rule, path) in warnings(result)
        assert rejection_for(result) is None
    else:
        assert errors(result) == {(rule, path)}, result.violations
        error = rejection_for(result)
        assert error is not None
        assert error.code == code
        assert error.retry
