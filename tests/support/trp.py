"""TRP inquiries as a counterparty's client sends them, for the TRP tests."""

from __future__ import annotations

import json

from support.nodes import BOB_ADDRESS, person


def inquiry_body(callback: str) -> bytes:
    document = {
        "asset": {"dti": "4H95J0R2X", "slip0044": "BTC"},
        "amount": 0.25,
        "callback": callback,
        "IVMS101": {
            "originator": {
                "originatorPersons": [person("Smith", "Alice")],
                "accountNumber": ["bc1qalicewallet"],
            },
            "beneficiary": {
                "beneficiaryPersons": [person("Jones", "Bob", "Manchester")],
                "accountNumber": [BOB_ADDRESS],
            },
            "originatingVASP": {
                "originatingVASP": {
                    "legalPerson": {
                        "name": {
                            "nameIdentifier": [
                                {
                                    "legalPersonName": "Alice VASP Ltd",
                                    "legalPersonNameIdentifierType": "LEGL",
                                }
                            ]
                        },
                        "geographicAddress": [
                            {
                                "addressType": "GEOG",
                                "streetName": "Main Street",
                                "buildingNumber": "1",
                                "townName": "London",
                                "country": "GB",
                            }
                        ],
                        "countryOfRegistration": "GB",
                    }
                }
            },
        },
    }
    return json.dumps(document).encode()
