"""The IVMS101 Person of the internal API as JSON Schema, from the ivms101 element tables.

A body the schema admits is one the node accepts: the lengths, character classes and code
lists come from `travelgate.ivms101` itself, and the rules JSON Schema can say (a LEGL name
among the name identifiers, C6/C5; an address with a line or a street and building, C8; an
originator's extra datum, C1/C4) are written as such. Rules it cannot say are left to the
node and named in the descriptions: a date of birth before today (C2; the schema admits dates
of 1900 to 1999), the GLEIF list of registration authorities (C10) and the LEI checksum
(C11), which is why a legal person's national identification and a registration authority
are described in words only.
"""

from __future__ import annotations

from typing import Any

from travelgate.ivms101._codes import (
    ADDRESS_TYPE,
    LEGAL_NAME_TYPE,
    NATIONAL_ID_TYPE,
    NATURAL_NAME_TYPE,
    CodeList,
)
from travelgate.ivms101._countries import COUNTRY_CODES
from travelgate.ivms101._formats import MAX16, MAX35, MAX50, MAX70, MAX100, TextType
from travelgate.ivms101._schema import SPECS

# Printable ASCII, the character class of every IVMS101 text the node checks here.
_PRINTABLE = r"^[ -~]+$"
_NOT_BLANK = r"^[ -~]*[!-~][ -~]*$"
# Calendar dates of the twentieth century: always in the past (C2 wants one before today).
_PAST_DATE = (
    r"^19[0-9]{2}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))$"
)


def _text(kind: TextType, *, blank_allowed: bool = True) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": kind.max,
        "pattern": _PRINTABLE if blank_allowed else _NOT_BLANK,
        "description": f"IVMS101 {kind.name}: printable ASCII",
    }


def _codes(codes: CodeList, only: frozenset[str] | None = None) -> dict[str, Any]:
    return {"type": "string", "enum": sorted(c for c in codes.numbers if only is None or c in only)}


def _spec_text(spec: str, key: str) -> dict[str, Any]:
    """A text element as the ivms101 tables define it (length, blank or not)."""
    field = next(f for f in SPECS[spec].fields if key in f.k2020)
    assert field.text is not None
    return _text(field.text, blank_allowed=not field.blank_is_missing)


def _object(required: list[str], properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
        **extra,
    }


def _one_legl(type_key: str) -> dict[str, Any]:
    return {
        "contains": {
            "type": "object",
            "required": [type_key],
            "properties": {type_key: {"const": "LEGL"}},
        }
    }


COUNTRY = {
    "type": "string",
    "enum": sorted(COUNTRY_CODES),
    "description": "ISO 3166-1 alpha-2 (XX: not known); XK is refused (C3)",
}
ADDRESS = _object(
    ["addressType", "country"],
    {
        "addressType": _codes(ADDRESS_TYPE),
        "department": _text(MAX50),
        "subDepartment": _text(MAX70),
        "streetName": _text(MAX70),
        "buildingNumber": _text(MAX16),
        "buildingName": _text(MAX35),
        "floor": _text(MAX70),
        "postBox": _text(MAX16),
        "room": _text(MAX70),
        "postCode": _text(MAX16),
        "townName": _text(MAX35),
        "townLocationName": _text(MAX35),
        "districtName": _text(MAX35),
        "countrySubDivision": _text(MAX35),
        "addressLine": {"type": "array", "maxItems": 7, "items": _text(MAX70)},
        "country": COUNTRY,
    },
    description="C8: an addressLine, or a streetName with a buildingName or buildingNumber",
    anyOf=[
        {"required": ["addressLine"], "properties": {"addressLine": {"minItems": 1}}},
        {"required": ["streetName", "buildingName"]},
        {"required": ["streetName", "buildingNumber"]},
    ],
)
_ADDRESSES = {"type": "array", "items": ADDRESS}
NATURAL_PERSON = _object(
    ["name"],
    {
        "name": _object(
            ["nameIdentifier"],
            {
                "nameIdentifier": {
                    "type": "array",
                    "minItems": 1,
                    "description": "at least one of type LEGL (C6)",
                    "items": _object(
                        ["primaryIdentifier", "nameIdentifierType"],
                        {
                            "primaryIdentifier": _spec_text(
                                "NaturalPersonNameID", "primaryIdentifier"
                            ),
                            "secondaryIdentifier": _text(MAX100),
                            "nameIdentifierType": _codes(NATURAL_NAME_TYPE),
                        },
                    ),
                    **_one_legl("nameIdentifierType"),
                }
            },
            description="localNameIdentifier and phoneticNameIdentifier are also taken, "
            "with a transliterationMethod where a script needs one",
        ),
        "geographicAddress": _ADDRESSES,
        "nationalIdentification": _object(
            ["nationalIdentifier", "nationalIdentifierType"],
            {
                "nationalIdentifier": _text(MAX35),
                "nationalIdentifierType": _codes(NATIONAL_ID_TYPE),
                "countryOfIssue": COUNTRY,
            },
            description="a registrationAuthority from the GLEIF list is also taken (C10)",
        ),
        "customerIdentification": _text(MAX50),
        "dateAndPlaceOfBirth": _object(
            ["dateOfBirth", "placeOfBirth"],
            {
                "dateOfBirth": {
                    "type": "string",
                    "pattern": _PAST_DATE,
                    "description": "YYYY-MM-DD before today (C2)",
                },
                "placeOfBirth": _text(MAX70),
            },
        ),
        "countryOfResidence": COUNTRY,
    },
)
LEGAL_PERSON = _object(
    ["name"],
    {
        "name": _object(
            ["nameIdentifier"],
            {
                "nameIdentifier": {
                    "type": "array",
                    "minItems": 1,
                    "description": "at least one of type LEGL (C5)",
                    "items": _object(
                        ["legalPersonName", "legalPersonNameIdentifierType"],
                        {
                            "legalPersonName": _spec_text("LegalPersonNameID", "legalPersonName"),
                            "legalPersonNameIdentifierType": _codes(LEGAL_NAME_TYPE),
                        },
                    ),
                    **_one_legl("legalPersonNameIdentifierType"),
                }
            },
        ),
        "geographicAddress": _ADDRESSES,
        "customerNumber": _text(MAX50),
        "countryOfRegistration": COUNTRY,
    },
    description="a nationalIdentification (RAID, MISC or TXID with a registrationAuthority "
    "from the GLEIF list, or LEIX with a valid LEI) is also taken (C7, C9-C11)",
)


def person(*, originator: bool = False) -> dict[str, Any]:
    """An IVMS101 Person: exactly one of naturalPerson and legalPerson.

    As an originator it also carries what C1 (natural) or C4 (legal) asks of one.
    """
    natural: dict[str, Any] = NATURAL_PERSON
    legal: dict[str, Any] = LEGAL_PERSON
    if originator:
        natural = {
            **natural,
            "anyOf": [
                {
                    "required": ["geographicAddress"],
                    "properties": {"geographicAddress": {"minItems": 1}},
                },
                *(
                    {"required": [key]}
                    for key in (
                        "customerIdentification",
                        "nationalIdentification",
                        "dateAndPlaceOfBirth",
                    )
                ),
            ],
        }
        legal = {
            **legal,
            "anyOf": [
                {"required": ["customerNumber"]},
                {
                    "required": ["geographicAddress"],
                    "properties": {
                        "geographicAddress": {
                            "contains": {"properties": {"addressType": {"const": "GEOG"}}}
                        }
                    },
                },
            ],
        }
    return {
        "type": "object",
        "description": "an IVMS101 Person in the standard JSON shape",
        "oneOf": [
            _object(["naturalPerson"], {"naturalPerson": natural}),
            _object(["legalPerson"], {"legalPerson": legal}),
        ],
    }
