"""IVMS101 persons in words for the console: names, addresses, national ids, birth."""

from __future__ import annotations

from travelgate.console._identity import readable_person


def test_natural_person_reads_field_by_field() -> None:
    person = {
        "naturalPerson": {
            "name": {
                "nameIdentifier": [
                    {
                        "primaryIdentifier": "Weber",
                        "secondaryIdentifier": "Jonas",
                        "nameIdentifierType": "LEGL",
                    },
                    {"primaryIdentifier": "Jo", "nameIdentifierType": "ALIA"},
                ]
            },
            "geographicAddress": [
                {
                    "addressType": "HOME",
                    "streetName": "Invalidenstrasse",
                    "buildingNumber": "12",
                    "postCode": "10115",
                    "townName": "Berlin",
                    "country": "DE",
                }
            ],
            "nationalIdentification": {
                "nationalIdentifier": "C01X00T47",
                "nationalIdentifierType": "CCPT",
                "countryOfIssue": "DE",
            },
            "customerIdentification": "cust-2",
            "dateAndPlaceOfBirth": {"dateOfBirth": "1979-11-02", "placeOfBirth": "Berlin"},
            "countryOfResidence": "DE",
        }
    }
    readable = readable_person(person)
    assert readable.kind == "natural person"
    assert readable.names == ["Jonas Weber (legal name)", "Jo (alias)"]
    assert readable.addresses == ["12, Invalidenstrasse, 10115, Berlin, DE (home)"]
    assert readable.national_ids == ["passport number: C01X00T47, DE"]
    assert readable.birth == "1979-11-02 in Berlin"
    assert readable.residence == "DE"
    assert readable.customer_number == "cust-2"
    assert readable.raw is person


def test_legal_person_and_address_lines() -> None:
    readable = readable_person(
        {
            "legalPerson": {
                "name": {
                    "nameIdentifier": [
                        {
                            "legalPersonName": "Bob VASP Ltd",
                            "legalPersonNameIdentifierType": "LEGL",
                        }
                    ]
                },
                "geographicAddress": [
                    {"addressType": "BIZZ", "addressLine": ["1 Piccadilly"], "country": "GB"}
                ],
                "nationalIdentification": {
                    "nationalIdentifier": "5493001KJTIIGC8Y1R12",
                    "nationalIdentifierType": "LEIX",
                },
                "countryOfRegistration": "GB",
            }
        }
    )
    assert readable.kind == "legal person"
    assert readable.names == ["Bob VASP Ltd (legal name)"]
    assert readable.addresses == ["1 Piccadilly, GB (business)"]
    assert readable.national_ids == ["LEI: 5493001KJTIIGC8Y1R12"]
    assert readable.birth is None


def test_anything_else_is_shown_raw_only() -> None:
    readable = readable_person({"somethingElse": {}})
    assert readable.kind == "unknown"
    assert readable.names == []
