"""Wild-data variants (IVMS101 in the wild), dialect and edition detection (3.7, 3.8, 3.9):
what each profile reports, and what the interop profile normalises to."""

from __future__ import annotations

import json
from typing import Any

import pytest

from travelgate.ivms101 import IdentityPayload, Profile, decode, encode, validate

from ._cases import NOW, errors, example2, found, load, to_protojson, warnings

ORIG = "originator.originatorPersons[0].naturalPerson"
NAME0 = f"{ORIG}.name.nameIdentifier[0]"


def person(doc: dict[str, Any]) -> dict[str, Any]:
    natural: dict[str, Any] = doc["originator"]["originatorPersons"][0]["naturalPerson"]
    return natural


def verdicts(doc: Any) -> dict[str, Any]:
    return {p: validate(doc, profile=p, now=NOW) for p in ("strict", "standard", "interop")}


def assert_quirk(doc: Any, rule: str, path: str, *, standard: str = "E", interop: str = "W") -> Any:
    """strict always E; standard/interop as given (E, W, or N = silently accepted)."""
    results = verdicts(doc)
    assert (rule, path) in errors(results["strict"]), results["strict"].violations
    for profile, level in (("standard", standard), ("interop", interop)):
        result = results[profile]
        if level == "E":
            assert (rule, path) in errors(result), (profile, result.violations)
        elif level == "W":
            assert (rule, path) in warnings(result), (profile, result.violations)
            assert result.valid, (profile, result.violations)
        else:
            assert (rule, path) not in found(result)
            assert result.valid, (profile, result.violations)
    return results["interop"]


def test_q1_flat_vasp_wrapper() -> None:
    doc = load("example1_2020_lei_fixed.json")
    doc["originatingVASP"] = doc["originatingVASP"]["originatingVASP"]
    interop = assert_quirk(doc, "UNKNOWN_FIELD", "originatingVASP.legalPerson", standard="E")
    model = interop.model
    assert isinstance(model, IdentityPayload)
    assert model == validate(load("example1_2020_lei_fixed.json"), now=NOW).model
    # paths inside keep the document as given
    doc["originatingVASP"]["legalPerson"]["countryOfRegistration"] = "ZZ"
    result = validate(doc, profile="interop", now=NOW)
    assert ("C3", "originatingVASP.legalPerson.countryOfRegistration") in errors(result)


def test_q2_pascal_case_root_keys() -> None:
    doc = example2()
    doc["Originator"] = doc.pop("originator")
    interop = assert_quirk(doc, "UNKNOWN_FIELD", "Originator")
    assert interop.model == validate(example2(), now=NOW).model
    assert ("CARDINALITY", "originator") in errors(validate(doc, now=NOW))


def test_q3_outer_ivms101_wrapper() -> None:
    doc = {"ivms101": example2()}
    interop = assert_quirk(doc, "UNKNOWN_FIELD", "ivms101")
    assert interop.model == validate(example2(), now=NOW).model
    wrapped = {"ivms101": example2()}
    wrapped["ivms101"]["originator"]["originatorPersons"][0]["naturalPerson"][
        "countryOfResidence"
    ] = "ZZ"
    result = validate(wrapped, profile="interop", now=NOW)
    assert ("C3", f"ivms101.{ORIG}.countryOfResidence") in errors(result)


def test_q4_bare_transfer_path_array() -> None:
    doc = example2()
    doc["transferPath"] = doc["transferPath"]["transferPath"]
    interop = assert_quirk(doc, "TYPE", "transferPath")
    assert interop.model == validate(example2(), now=NOW).model
    doc["transferPath"][0]["sequence"] = 5
    result = validate(doc, profile="interop", now=NOW)
    assert ("C12", "transferPath[0].sequence") in warnings(result)


def test_q5_plural_account_numbers() -> None:
    doc = example2()
    doc["beneficiary"]["accountNumbers"] = doc["beneficiary"].pop("accountNumber")
    interop = assert_quirk(doc, "UNKNOWN_FIELD", "beneficiary.accountNumbers")
    assert interop.model == validate(example2(), now=NOW).model


def test_q6_customer_number_on_a_natural_person() -> None:
    doc = example2()
    person(doc)["customerNumber"] = "1002390"
    interop = assert_quirk(doc, "UNKNOWN_FIELD", f"{ORIG}.customerNumber")
    model = interop.model
    assert isinstance(model, IdentityPayload)
    assert model.originator is not None
    natural = model.originator.persons[0].natural_person
    assert natural is not None
    assert natural.customer_identification == "1002390"


def test_q7_protojson_names_inside_ivms_json() -> None:
    doc = load("example1_2020_lei_fixed.json")
    doc["originatingVasp"] = doc.pop("originatingVASP")
    doc["originatingVasp"]["originatingVasp"] = doc["originatingVasp"].pop("originatingVASP")
    interop = assert_quirk(doc, "DIALECT", "originatingVasp")
    assert interop.model == validate(load("example1_2020_lei_fixed.json"), now=NOW).model
    assert interop.dialect == "ivms"


def test_q8a_enum_as_protobuf_name_or_number_inside_ivms_json() -> None:
    for value in ("NATURAL_PERSON_NAME_TYPE_CODE_LEGL", 4):
        doc = example2()
        person(doc)["name"]["nameIdentifier"][0]["nameIdentifierType"] = value
        interop = assert_quirk(doc, "DIALECT", f"{NAME0}.nameIdentifierType")
        assert interop.model == validate(example2(), now=NOW).model


def test_q8b_code_in_the_wrong_case() -> None:
    doc = example2()
    person(doc)["name"]["nameIdentifier"][0]["nameIdentifierType"] = "legl"
    interop = assert_quirk(doc, "ENUM", f"{NAME0}.nameIdentifierType", standard="W", interop="N")
    assert interop.model == validate(example2(), now=NOW).model


def test_q9_zero_values_omitted_by_trisa_go_json() -> None:
    doc = example2()
    names = person(doc)["name"]["nameIdentifier"]
    del names[0]["nameIdentifierType"]
    assert "C6" in {v.rule for v in validate(doc, profile="interop", now=NOW).violations}
    names.append({"primaryIdentifier": "Wu", "nameIdentifierType": "LEGL"})
    interop = assert_quirk(doc, "CARDINALITY", f"{NAME0}.nameIdentifierType")
    model = interop.model
    assert isinstance(model, IdentityPayload)
    assert model.originator is not None
    natural = model.originator.persons[0].natural_person
    assert natural is not None
    assert natural.name is not None
    assert natural.name.name_identifiers[0].name_identifier_type == "MISC"
    doc = example2()
    del person(doc)["nationalIdentification"]["nationalIdentifierType"]
    assert_quirk(doc, "CARDINALITY", f"{ORIG}.nationalIdentification.nationalIdentifierType")
    doc = example2()
    del doc["transferPath"]["transferPath"][0]["sequence"]
    interop = assert_quirk(doc, "CARDINALITY", "transferPath.transferPath[0].sequence")
    assert interop.model == validate(example2(), now=NOW).model


def test_q9_in_a_2023_document_spells_the_2023_key() -> None:
    doc = load("example2_2023.json")
    doc["payloadMetadata"]["payloadVersion"] = "101.2023"
    del doc["originator"]["originatorPerson"][0]["naturalPerson"]["name"]["nameIdentifier"][0][
        "nameIdentifierType"
    ]
    path = "originator.originatorPerson[0].naturalPerson.name.nameIdentifier[0]"
    assert ("CARDINALITY", f"{path}.naturalPersonNameIdentifierType") in errors(
        validate(doc, now=NOW)
    )


def test_q10_misc_address_type_and_legal_name_type() -> None:
    doc = example2()
    person(doc)["geographicAddress"] = [
        {"addressType": "MISC", "addressLine": ["1 Main St"], "townName": "Dodoma", "country": "TZ"}
    ]
    assert_quirk(doc, "ENUM", f"{ORIG}.geographicAddress[0].addressType")
    doc = example2()
    names = doc["beneficiary"]["beneficiaryPersons"][0]["legalPerson"]["name"]["nameIdentifier"]
    names[1]["legalPersonNameIdentifierType"] = "MISC"
    path = "beneficiary.beneficiaryPersons[0].legalPerson.name.nameIdentifier[1]"
    assert_quirk(doc, "ENUM", f"{path}.legalPersonNameIdentifierType")
    names[0]["legalPersonNameIdentifierType"] = "MISC"  # MISC never counts as LEGL for C5
    interop = validate(doc, profile="interop", now=NOW)
    assert ("C5", "beneficiary.beneficiaryPersons[0].legalPerson.name.nameIdentifier") in errors(
        interop
    )


def test_q11_empty_string() -> None:
    doc = example2()
    person(doc)["name"]["nameIdentifier"][0]["secondaryIdentifier"] = ""
    interop = assert_quirk(doc, "LENGTH", f"{NAME0}.secondaryIdentifier")
    assert interop.model != validate(example2(), now=NOW).model  # "Xinli" is gone: absent


def test_q12_null() -> None:
    doc = example2()
    person(doc)["name"]["nameIdentifier"][0]["secondaryIdentifier"] = None
    assert_quirk(doc, "TYPE", f"{NAME0}.secondaryIdentifier")


def test_q13_single_object_for_a_list_and_one_item_list_for_a_single() -> None:
    doc = example2()
    name = person(doc)["name"]
    name["nameIdentifier"] = name["nameIdentifier"][0]
    interop = assert_quirk(doc, "TYPE", f"{ORIG}.name.nameIdentifier")
    assert interop.model == validate(example2(), now=NOW).model
    doc = example2()
    person(doc)["countryOfResidence"] = ["TZ"]
    interop = assert_quirk(doc, "TYPE", f"{ORIG}.countryOfResidence")
    assert interop.model == validate(example2(), now=NOW).model
    doc = example2()
    person(doc)["countryOfResidence"] = ["TZ", "KE"]  # two items stay TYPE in every profile
    assert ("TYPE", f"{ORIG}.countryOfResidence") in errors(validate(doc, profile="interop"))


def test_q14_sequence_as_string_or_float() -> None:
    for value in ("0", 0.0):
        doc = example2()
        doc["transferPath"]["transferPath"][0]["sequence"] = value
        interop = assert_quirk(doc, "FORMAT.NUMBER", "transferPath.transferPath[0].sequence")
        assert interop.model == validate(example2(), now=NOW).model
    for value in (-1, 1.5, True, "x", 10**18):
        doc = example2()
        doc["transferPath"]["transferPath"][0]["sequence"] = value
        path = "transferPath.transferPath[0].sequence"
        assert ("FORMAT.NUMBER", path) in errors(validate(doc, profile="interop", now=NOW))


def test_q15_lower_case_country_and_lei_but_never_ra() -> None:
    doc = example2()
    person(doc)["countryOfResidence"] = "tz"
    interop = assert_quirk(doc, "FORMAT.COUNTRY", f"{ORIG}.countryOfResidence")
    assert interop.model == validate(example2(), now=NOW).model
    doc = load("example1_2020_lei_fixed.json")
    vasp = doc["originatingVASP"]["originatingVASP"]["legalPerson"]
    vasp["nationalIdentification"]["nationalIdentifier"] = "3m5e1gqkgl17hi8cpn49"
    path = "originatingVASP.originatingVASP.legalPerson.nationalIdentification.nationalIdentifier"
    interop = assert_quirk(doc, "C11", path)
    assert interop.model == validate(load("example1_2020_lei_fixed.json"), now=NOW).model
    doc = example2()
    person(doc)["nationalIdentification"]["registrationAuthority"] = "ra000553"
    ra = f"{ORIG}.nationalIdentification.registrationAuthority"
    assert ("FORMAT.RA", ra) in errors(validate(doc, profile="interop", now=NOW))


def test_q16_kosovo() -> None:
    doc = example2()
    person(doc)["countryOfResidence"] = "XK"
    assert_quirk(doc, "C3", f"{ORIG}.countryOfResidence")


def test_q17_non_ascii_in_latin_text() -> None:
    doc = example2()
    person(doc)["name"]["nameIdentifier"][0]["primaryIdentifier"] = "Müller"
    assert_quirk(doc, "CHARSET", f"{NAME0}.primaryIdentifier")


def test_q18_payload_version_as_printed() -> None:
    assert_quirk(load("example2_2023.json"), "ENUM", "payloadMetadata.payloadVersion", standard="W")


def test_q19_vendor_keys() -> None:
    doc = example2()
    person(doc)["nationality"] = "TZ"
    interop = assert_quirk(doc, "UNKNOWN_FIELD", f"{ORIG}.nationality")
    assert interop.model == validate(example2(), now=NOW).model


@pytest.mark.parametrize("profile", ["strict", "standard", "interop"])
def test_q20_q21_q22_q26_q27_are_errors_everywhere(profile: Profile) -> None:
    cases: list[tuple[str, str, Any, str]] = [
        ("countryOfResidence", "FORMAT.COUNTRY", "United Kingdom", f"{ORIG}.countryOfResidence"),
        ("countryOfResidence", "FORMAT.COUNTRY", "USA", f"{ORIG}.countryOfResidence"),
    ]
    for key, rule, value, path in cases:
        doc = example2()
        person(doc)[key] = value
        assert (rule, path) in errors(validate(doc, profile=profile, now=NOW))
    doc = example2()
    person(doc)["nationalIdentification"]["registrationAuthority"] = "TEST CODE"
    ra = f"{ORIG}.nationalIdentification.registrationAuthority"
    assert ("FORMAT.RA", ra) in errors(validate(doc, profile=profile, now=NOW))
    doc = example2()
    person(doc)["geographicAddress"] = [
        {
            "addressType": "HOME",
            "streetName": "Grimsby Road",
            "buildingNumber": "7" * 17,
            "townName": "Oxford",
            "country": "GB",
        }
    ]
    length = f"{ORIG}.geographicAddress[0].buildingNumber"
    assert ("LENGTH", length) in errors(validate(doc, profile=profile, now=NOW))
    for day, rule in (
        ("2020-02-30", "FORMAT.DATE"),
        (NOW.date().isoformat(), "C2"),
        ("19900225", "FORMAT.DATE"),
        ("1990-02-25T00:00:00Z", "FORMAT.DATE"),
    ):
        doc = example2()
        person(doc)["dateAndPlaceOfBirth"] = {"dateOfBirth": day, "placeOfBirth": "Dodoma"}
        birth = f"{ORIG}.dateAndPlaceOfBirth.dateOfBirth"
        assert errors(validate(doc, profile=profile, now=NOW)) == {(rule, birth)}


def test_q23_q24_are_valid() -> None:
    doc = example2()
    person(doc)["geographicAddress"] = [
        {
            "addressType": "HOME",
            "streetName": "Main St",
            "buildingNumber": "1",
            "addressLine": ["1 Main St"],
            "townName": "Dodoma",
            "country": "TZ",
        }
    ]
    for result in verdicts(doc).values():
        assert result.valid


def test_q28_duplicate_json_keys() -> None:
    text = json.dumps(example2()).replace(
        '"countryOfResidence": "TZ"', '"countryOfResidence": "TZ", "countryOfResidence": "KE"'
    )
    for result in verdicts(text).values():
        assert ("DUPLICATE_FIELD", f"{ORIG}.countryOfResidence") in errors(result)
    model = validate(text, now=NOW).model
    assert isinstance(model, IdentityPayload)
    assert model.originator is not None
    natural = model.originator.persons[0].natural_person
    assert natural is not None
    assert natural.country_of_residence == "TZ"  # the first value is kept


def test_empty_component_object() -> None:
    doc = example2()
    person(doc)["dateAndPlaceOfBirth"] = {}
    birth = f"{ORIG}.dateAndPlaceOfBirth"
    strict = validate(doc, profile="strict", now=NOW)
    assert errors(strict) == {
        ("CARDINALITY", f"{birth}.dateOfBirth"),
        ("CARDINALITY", f"{birth}.placeOfBirth"),
    }
    interop = validate(doc, profile="interop", now=NOW)
    assert interop.valid
    assert warnings(interop) == {("CARDINALITY", birth)}


def test_town_name_per_profile() -> None:
    doc = example2()
    person(doc)["geographicAddress"] = [
        {"addressType": "GEOG", "addressLine": ["1 Main St"], "country": "TZ"}
    ]
    path = f"{ORIG}.geographicAddress[0].townName"
    assert ("CARDINALITY", path) in errors(validate(doc, profile="strict", now=NOW))
    standard = validate(doc, now=NOW)
    assert standard.valid
    assert warnings(standard) == {("CARDINALITY", path)}
    assert validate(doc, profile="interop", now=NOW).violations == ()


def test_blank_name_is_missing() -> None:
    doc = example2()
    person(doc)["name"]["nameIdentifier"][0]["primaryIdentifier"] = "   "
    for result in verdicts(doc).values():
        assert errors(result) == {("CARDINALITY", f"{NAME0}.primaryIdentifier")}


def test_address_line_limit() -> None:
    doc = example2()
    person(doc)["geographicAddress"] = [
        {"addressType": "GEOG", "addressLine": ["x"] * 8, "townName": "Dodoma", "country": "TZ"}
    ]
    result = validate(doc, now=NOW)
    assert errors(result) == {("CARDINALITY", f"{ORIG}.geographicAddress[0].addressLine")}


def test_transliteration_hint() -> None:
    doc = example2()
    del doc["payloadMetadata"]
    strict = validate(doc, profile="strict", now=NOW)
    assert strict.valid
    assert warnings(strict) == {("TRANSLIT", "payloadMetadata.transliterationMethod")}
    assert "hani" in strict.warnings[0].message
    assert validate(doc, profile="interop", now=NOW).violations == ()
    doc["payloadMetadata"] = {"transliterationMethod": ["othr"]}
    assert warnings(validate(doc, now=NOW)) == {
        ("TRANSLIT", "payloadMetadata.transliterationMethod")
    }


def test_ra_country_hint_in_strict_only() -> None:
    doc = example2()
    person(doc)["nationalIdentification"]["countryOfIssue"] = "KE"  # RA000553 is Tanzanian
    path = f"{ORIG}.nationalIdentification.registrationAuthority"
    strict = validate(doc, profile="strict", now=NOW)
    assert strict.valid
    assert warnings(strict) == {("RA.COUNTRY", path)}
    assert validate(doc, now=NOW).violations == ()


# -- dialects and editions ----------------------------------------------------------------


def test_protojson_with_short_codes_is_enum_error() -> None:
    pj = to_protojson(example2())
    pj["originator"]["originatorPersons"][0]["naturalPerson"]["name"]["nameIdentifier"][0][
        "nameIdentifierType"
    ] = "LEGL"
    result = validate(pj, now=NOW)
    assert result.dialect == "trisa-pj"
    assert ("DIALECT", f"{NAME0}.nameIdentifierType") in errors(result)


def test_protojson_zero_values_and_empty_strings() -> None:
    pj = to_protojson(example2())
    natural = pj["originator"]["originatorPersons"][0]["naturalPerson"]
    del natural["name"]["nameIdentifier"][0]["nameIdentifierType"]  # = MISC
    natural["customerIdentification"] = ""  # = unset
    del pj["transferPath"]["transferPath"][0]["sequence"]  # = 0
    result = validate(pj, profile="strict", now=NOW)
    assert errors(result) == {("C6", f"{ORIG}.name.nameIdentifier")}
    pj["beneficiary"]["beneficiaryPersons"][0]["legalPerson"]["name"]["nameIdentifier"][1][
        "legalPersonNameIdentifierType"
    ] = "LEGAL_PERSON_NAME_TYPE_CODE_MISC"
    path = "beneficiary.beneficiaryPersons[0].legalPerson.name.nameIdentifier[1]"
    result = validate(pj, profile="interop", now=NOW)
    assert ("ENUM", f"{path}.legalPersonNameIdentifierType") in warnings(result)


def test_protojson_proto_names_and_json_names_of_one_field_together() -> None:
    pj = to_protojson(example2())
    natural = pj["originator"]["originatorPersons"][0]["naturalPerson"]
    natural["country_of_residence"] = "TZ"
    result = validate(pj, now=NOW)
    assert ("DUPLICATE_FIELD", f"{ORIG}.country_of_residence") in errors(result)


def test_missing_elements_follow_the_parent_naming_style() -> None:
    pj = json.loads(json.dumps(load("identity_payload.pb.json")))
    del pj["originator"]["originator_persons"][0]["natural_person"]["geographic_addresses"][0][
        "country"
    ]
    result = validate(pj, now=NOW)
    path = "originator.originator_persons[0].natural_person.geographic_addresses[0].country"
    assert ("CARDINALITY", path) in errors(result)


def test_edition_detection() -> None:
    assert validate(example2(), now=NOW).edition == "2020"
    doc = load("example2_2023.json")
    assert validate(doc, now=NOW).edition == "2023"
    del doc["payloadMetadata"]["payloadVersion"]  # markers decide; the version is then missing
    result = validate(doc, now=NOW)
    assert result.edition == "2023"
    assert errors(result) == {("CARDINALITY", "payloadMetadata.payloadVersion")}
    interop = validate(doc, profile="interop", now=NOW)
    assert interop.valid
    assert warnings(interop) == {("CARDINALITY", "payloadMetadata.payloadVersion")}
    v101 = example2()
    v101["payloadMetadata"]["payloadVersion"] = "101"
    assert validate(v101, profile="strict", now=NOW).violations == ()
    bad = example2()
    bad["payloadMetadata"]["payloadVersion"] = "102"
    assert errors(validate(bad, now=NOW)) == {("ENUM", "payloadMetadata.payloadVersion")}
    bad["payloadMetadata"]["payloadVersion"] = 101
    assert errors(validate(bad, now=NOW)) == {("TYPE", "payloadMetadata.payloadVersion")}


def test_cross_edition_keys() -> None:
    doc = example2()
    doc["originator"]["originatorPerson"] = doc["originator"].pop("originatorPersons")
    path = "originator.originatorPerson"
    # the entity-level accountNumber is a 2020 marker, so the document stays 2020
    assert validate(doc, now=NOW).edition == "2020"
    del doc["beneficiary"]["accountNumber"]
    assert validate(doc, now=NOW).edition == "2023"
    forced = {
        p: validate(doc, profile=p, edition="2020", now=NOW)
        for p in ("strict", "standard", "interop")
    }
    assert ("EDITION", path) in errors(forced["strict"])
    assert ("EDITION", path) in warnings(forced["standard"])
    assert forced["standard"].valid
    assert forced["interop"].violations == ()
    expected = example2()
    del expected["beneficiary"]["accountNumber"]
    assert forced["interop"].model == validate(expected, now=NOW).model


def test_forced_edition_against_payload_version() -> None:
    doc = example2()
    doc["payloadMetadata"]["payloadVersion"] = "101.2023"
    result = validate(doc, edition="2020", now=NOW)
    assert ("EDITION", "payloadMetadata.payloadVersion") in warnings(result)


def test_2023_keys_accepted_in_2023_documents() -> None:
    doc = load("example2_2023.json")
    doc["payloadMetadata"]["payloadVersion"] = "101.2023"
    natural = doc["originator"]["originatorPerson"][0]["naturalPerson"]
    item = natural["name"]["nameIdentifier"][0]
    item["naturalPersonNameIdentifierType"] = item.pop("nameIdentifierType")
    doc["beneficiary"]["beneficiaryPerson"][0]["legalPerson"]["customerIdentification"] = "c1"
    assert validate(doc, profile="strict", now=NOW).violations == ()
    item["nameIdentifierType"] = "LEGL"  # both spellings in one object
    path = "originator.originatorPerson[0].naturalPerson.name.nameIdentifier[0]"
    assert ("DUPLICATE_FIELD", f"{path}.nameIdentifierType") in errors(validate(doc, now=NOW))


def test_decode_tolerates_by_default_and_records_what_it_saw() -> None:
    doc = {"ivms101": example2()}
    decoded = decode(doc)
    assert decoded.result.valid
    assert [v.rule for v in decoded.result.warnings] == ["UNKNOWN_FIELD"]
    assert encode(decoded.model) == example2() | {}
