"""IVMS101 code lists and their protobuf enum spellings (IVMS101 code lists, TRISA enum names).

Each code list maps the IVMS short code to the protobuf enum number; the protobuf value name
is the list's prefix followed by the upper-cased code. `MISC` of AddressTypeCode and
LegalPersonNameTypeCode exists only in the protobuf (value 0), never in IVMS101.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CodeList:
    """One IVMS101 code list with its protobuf enum."""

    name: str
    prefix: str
    numbers: dict[str, int]  # IVMS code -> protobuf number, IVMS101 codes only
    zero: str  # the code the protobuf zero value stands for
    zero_is_ivms: bool  # False when the zero value is not an IVMS101 code
    by_upper: dict[str, str] = field(init=False)
    by_proto_name: dict[str, str] = field(init=False)
    by_number: dict[int, str] = field(init=False)

    def __post_init__(self) -> None:
        every = dict(self.numbers)
        every.setdefault(self.zero, 0)
        object.__setattr__(self, "by_upper", {code.upper(): code for code in self.numbers})
        object.__setattr__(
            self, "by_proto_name", {self.prefix + code.upper(): code for code in every}
        )
        object.__setattr__(self, "by_number", {number: code for code, number in every.items()})

    def proto_name(self, code: str) -> str:
        return self.prefix + code.upper()

    def number(self, code: str | None) -> Any:
        """Protobuf number of a code; an unknown or absent code is the zero value.

        Typed Any because each generated enum has its own `ValueType` (an int at run time).
        """
        if code is None:
            return 0
        return self.numbers.get(code, 0)


NATURAL_NAME_TYPE = CodeList(
    "NaturalPersonNameTypeCode",
    "NATURAL_PERSON_NAME_TYPE_CODE_",
    {"MISC": 0, "ALIA": 1, "BIRT": 2, "MAID": 3, "LEGL": 4},
    zero="MISC",
    zero_is_ivms=True,
)
LEGAL_NAME_TYPE = CodeList(
    "LegalPersonNameTypeCode",
    "LEGAL_PERSON_NAME_TYPE_CODE_",
    {"LEGL": 1, "SHRT": 2, "TRAD": 3},
    zero="MISC",
    zero_is_ivms=False,
)
ADDRESS_TYPE = CodeList(
    "AddressTypeCode",
    "ADDRESS_TYPE_CODE_",
    {"HOME": 1, "BIZZ": 2, "GEOG": 3},
    zero="MISC",
    zero_is_ivms=False,
)
NATIONAL_ID_TYPE = CodeList(
    "NationalIdentifierTypeCode",
    "NATIONAL_IDENTIFIER_TYPE_CODE_",
    {
        "MISC": 0,
        "ARNU": 1,
        "CCPT": 2,
        "RAID": 3,
        "DRLC": 4,
        "FIIN": 5,
        "TXID": 6,
        "SOCS": 7,
        "IDCD": 8,
        "LEIX": 9,
    },
    zero="MISC",
    zero_is_ivms=True,
)
TRANSLITERATION = CodeList(
    "TransliterationMethodCode",
    "TRANSLITERATION_METHOD_CODE_",
    {
        "othr": 0,
        "arab": 1,
        "aran": 2,
        "armn": 3,
        "cyrl": 4,
        "deva": 5,
        "geor": 6,
        "grek": 7,
        "hani": 8,
        "hebr": 9,
        "kana": 10,
        "kore": 11,
        "thai": 12,
    },
    zero="othr",
    zero_is_ivms=True,
)

CODE_LISTS: dict[str, CodeList] = {
    c.name: c
    for c in (NATURAL_NAME_TYPE, LEGAL_NAME_TYPE, ADDRESS_TYPE, NATIONAL_ID_TYPE, TRANSLITERATION)
}
ENUM_PREFIXES: tuple[str, ...] = tuple(c.prefix for c in CODE_LISTS.values())
SHORT_CODES_UPPER: frozenset[str] = frozenset(
    code.upper() for c in CODE_LISTS.values() for code in c.numbers
)

# PayloadVersionCode (2023 only) and the spelling printed in the 2023 examples (Q18).
PAYLOAD_VERSION_2020 = "101"
PAYLOAD_VERSION_2023 = "101.2023"
PAYLOAD_VERSION_PRINTED = "IVMS101.2023"

# C7: national identifier types a legal person may carry.
LEGAL_PERSON_ID_TYPES: frozenset[str] = frozenset({"RAID", "MISC", "LEIX", "TXID"})
