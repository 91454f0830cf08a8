"""Alias keys accepted with `rekey=True` for back-office JSON (IVMS101 as seen in the wild).

Per object type: alias -> model attribute. Aliases are resolved per object (`dob` is the
whole dateAndPlaceOfBirth inside a NaturalPerson, but dateOfBirth inside DateAndPlaceOfBirth).
Never enabled for payloads received from counterparties.
"""

from __future__ import annotations

_NAME_LISTS = {
    "nameIdentifiers": "name_identifiers",
    "name_identifier": "name_identifiers",
    "name_identifiers": "name_identifiers",
    "localNameIdentifiers": "local_name_identifiers",
    "local_name_identifier": "local_name_identifiers",
    "local_name_identifiers": "local_name_identifiers",
    "phoneticNameIdentifiers": "phonetic_name_identifiers",
    "phonetic_name_identifier": "phonetic_name_identifiers",
    "phonetic_name_identifiers": "phonetic_name_identifiers",
}
_ADDRESSES = dict.fromkeys(
    ("geographicAddresses", "geographic_address", "geographic_addresses", "addresses", "address"),
    "geographic_addresses",
)
_ACCOUNTS = dict.fromkeys(
    ("accountNumbers", "account_number", "account_numbers"), "account_numbers"
)
_LEGAL_NAME_ID = {
    "legal_person_name": "legal_person_name",
    "name": "legal_person_name",
    "legal_person_name_identifier_type": "legal_person_name_identifier_type",
}

ALIASES: dict[str, dict[str, str]] = {
    "IdentityPayload": {
        "originators": "originator",
        "beneficiaries": "beneficiary",
        "originating_vasp": "originating_vasp",
        "beneficiary_vasp": "beneficiary_vasp",
        "transfer_path": "transfer_path",
        "payload_metadata": "payload_metadata",
    },
    "Originator": {
        **dict.fromkeys(
            (
                "originatorPerson",
                "originator_persons",
                "originator_person",
                "originator",
                "originators",
            ),
            "persons",
        ),
        **_ACCOUNTS,
    },
    "Beneficiary": {
        **dict.fromkeys(
            (
                "beneficiaryPerson",
                "beneficiary_persons",
                "beneficiary_person",
                "beneficiary",
                "beneficiaries",
            ),
            "persons",
        ),
        **_ACCOUNTS,
    },
    "OriginatingVASP": {"originating_vasp": "person"},
    "BeneficiaryVASP": {"beneficiary_vasp": "person"},
    "IntermediaryVASP": {
        "intermediaryVASPs": "person",
        "intermediary_vasp": "person",
        "intermediary_vasps": "person",
    },
    "TransferPath": {"transfer_path": "intermediaries"},
    "PayloadMetadata": dict.fromkeys(
        ("transliteration_method", "transliterationMethods", "transliteration_methods", "methods"),
        "transliteration_methods",
    ),
    "Person": {"natural_person": "natural_person", "legal_person": "legal_person"},
    "NaturalPerson": {
        "names": "name",
        **_ADDRESSES,
        "national_identification": "national_identification",
        "customer_identification": "customer_identification",
        "date_and_place_of_birth": "date_and_place_of_birth",
        "dob": "date_and_place_of_birth",
        "country_of_residence": "country_of_residence",
        "country": "country_of_residence",
    },
    "NaturalPersonName": dict(_NAME_LISTS),
    "LegalPersonName": dict(_NAME_LISTS),
    "NaturalPersonNameID": {
        **dict.fromkeys(
            ("primary_identifier", "last_name", "lastName", "surname", "family_name", "familyName"),
            "primary_identifier",
        ),
        "secondary_identifier": "secondary_identifier",
        "first_name": "secondary_identifier",
        "firstName": "secondary_identifier",
        "name_identifier_type": "name_identifier_type",
    },
    "LocalNaturalPersonNameID": {
        "primary_identifier": "primary_identifier",
        "secondary_identifier": "secondary_identifier",
        "name_identifier_type": "name_identifier_type",
    },
    "Address": {
        "address_type": "address_type",
        "sub_department": "sub_department",
        "subdepartment": "sub_department",
        "street_name": "street_name",
        "street": "street_name",
        "building_number": "building_number",
        "number": "building_number",
        "building_name": "building_name",
        "building": "building_name",
        "post_box": "post_box",
        "pob": "post_box",
        **dict.fromkeys(
            ("post_code", "postalCode", "postal_code", "zipCode", "zip_code"), "post_code"
        ),
        "town_name": "town_name",
        "town": "town_name",
        "city": "town_name",
        "town_location_name": "town_location_name",
        "locationName": "town_location_name",
        "location_name": "town_location_name",
        "district_name": "district_name",
        "district": "district_name",
        **dict.fromkeys(
            (
                "country_sub_division",
                "country_Subdivision",
                "country_subdivision",
                "state",
                "province",
            ),
            "country_sub_division",
        ),
        **dict.fromkeys(("addressLines", "address_line", "address_lines"), "address_lines"),
    },
    "DateAndPlaceOfBirth": {
        "date_of_birth": "date_of_birth",
        "dob": "date_of_birth",
        "place_of_birth": "place_of_birth",
        "pob": "place_of_birth",
    },
    "NationalIdentification": {
        **dict.fromkeys(
            ("national_identifier", "number", "identifierNumber", "identifier_number"),
            "national_identifier",
        ),
        "national_identifier_type": "national_identifier_type",
        "country_of_issue": "country_of_issue",
        "country": "country_of_issue",
        "registration_authority": "registration_authority",
        "ra": "registration_authority",
    },
    "LegalPerson": {
        "names": "name",
        **_ADDRESSES,
        "customer_number": "customer_identification",
        "national_identification": "national_identification",
        "country_of_registration": "country_of_registration",
        "country": "country_of_registration",
    },
    "LegalPersonNameID": dict(_LEGAL_NAME_ID),
    "LocalLegalPersonNameID": dict(_LEGAL_NAME_ID),
}
