"""The canonical IVMS101 model: one set of frozen dataclasses for both editions and dialects.

Values are normalised (short codes, upper-case countries where a profile normalises them);
absent elements are None or an empty tuple. The model holds both account-number locations
(entity level, 2020; person level, 2023). Each node may carry a `meta` record of how it was
written (keys as given, broken elements); it takes no part in equality, so two documents in
different encodings that say the same thing compare equal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar


class Meta:
    """How one object was written in the input: used for paths and to skip broken elements."""

    __slots__ = ("broken", "index_map", "issues", "keys", "style", "unwrapped", "wrapped")

    def __init__(self, style: str | None = None) -> None:
        self.keys: dict[str, str] = {}  # attribute -> key as given ("" = no key of its own)
        self.broken: set[str] = set()  # present but unusable (TYPE, ENUM, FORMAT.NUMBER ...)
        self.wrapped: set[str] = set()  # a single value given where a list belongs (Q13)
        self.unwrapped: set[str] = set()  # a one-item list given for a single value (Q13)
        self.index_map: dict[str, tuple[int, ...]] = {}  # model index -> index as given
        self.style = style  # "proto" when a protojson object uses proto field names
        # Problems found while building from protobuf, reported by the checker, which knows
        # the path: (check, attribute, list index or None, message).
        self.issues: list[tuple[str, str, int | None, str]] = []


@dataclass(frozen=True)
class NaturalPersonNameId:
    primary_identifier: str | None = None
    secondary_identifier: str | None = None
    name_identifier_type: str | None = None
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class LocalNaturalPersonNameId:
    primary_identifier: str | None = None
    secondary_identifier: str | None = None
    name_identifier_type: str | None = None
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class NaturalPersonName:
    name_identifiers: tuple[NaturalPersonNameId, ...] = ()
    local_name_identifiers: tuple[LocalNaturalPersonNameId, ...] = ()
    phonetic_name_identifiers: tuple[LocalNaturalPersonNameId, ...] = ()
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Address:
    address_type: str | None = None
    department: str | None = None
    sub_department: str | None = None
    street_name: str | None = None
    building_number: str | None = None
    building_name: str | None = None
    floor: str | None = None
    post_box: str | None = None
    room: str | None = None
    post_code: str | None = None
    town_name: str | None = None
    town_location_name: str | None = None
    district_name: str | None = None
    country_sub_division: str | None = None
    address_lines: tuple[str, ...] = ()
    country: str | None = None
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class DateAndPlaceOfBirth:
    date_of_birth: str | None = None
    place_of_birth: str | None = None
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class NationalIdentification:
    national_identifier: str | None = None
    national_identifier_type: str | None = None
    country_of_issue: str | None = None
    registration_authority: str | None = None
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class NaturalPerson:
    name: NaturalPersonName | None = None
    geographic_addresses: tuple[Address, ...] = ()
    national_identification: NationalIdentification | None = None
    customer_identification: str | None = None
    date_and_place_of_birth: DateAndPlaceOfBirth | None = None
    country_of_residence: str | None = None
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class LegalPersonNameId:
    legal_person_name: str | None = None
    legal_person_name_identifier_type: str | None = None
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class LocalLegalPersonNameId:
    legal_person_name: str | None = None
    legal_person_name_identifier_type: str | None = None
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class LegalPersonName:
    name_identifiers: tuple[LegalPersonNameId, ...] = ()
    local_name_identifiers: tuple[LocalLegalPersonNameId, ...] = ()
    phonetic_name_identifiers: tuple[LocalLegalPersonNameId, ...] = ()
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class LegalPerson:
    name: LegalPersonName | None = None
    geographic_addresses: tuple[Address, ...] = ()
    customer_identification: str | None = None  # 2020 `customerNumber`, protobuf customer_number
    national_identification: NationalIdentification | None = None
    country_of_registration: str | None = None
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Person:
    natural_person: NaturalPerson | None = None
    legal_person: LegalPerson | None = None
    account_numbers: tuple[str, ...] = ()  # 2023 person-level accountNumber
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Originator:
    persons: tuple[Person, ...] = ()
    account_numbers: tuple[str, ...] = ()  # 2020 entity-level accountNumber
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Beneficiary:
    persons: tuple[Person, ...] = ()
    account_numbers: tuple[str, ...] = ()
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class OriginatingVasp:
    person: Person | None = None
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class BeneficiaryVasp:
    person: Person | None = None
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class IntermediaryVasp:
    person: Person | None = None
    sequence: int | None = None
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class TransferPath:
    intermediaries: tuple[IntermediaryVasp, ...] = ()
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PayloadMetadata:
    transliteration_methods: tuple[str, ...] = ()
    payload_version: str | None = None  # "101" or "101.2023"
    meta: Meta | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class IdentityPayload:
    originator: Originator | None = None
    beneficiary: Beneficiary | None = None
    originating_vasp: OriginatingVasp | None = None
    beneficiary_vasp: BeneficiaryVasp | None = None
    transfer_path: TransferPath | None = None
    payload_metadata: PayloadMetadata | None = None
    meta: Meta | None = field(default=None, compare=False, repr=False)


Node: TypeAlias = (
    IdentityPayload
    | Originator
    | Beneficiary
    | OriginatingVasp
    | BeneficiaryVasp
    | TransferPath
    | IntermediaryVasp
    | PayloadMetadata
    | Person
    | NaturalPerson
    | NaturalPersonName
    | NaturalPersonNameId
    | LocalNaturalPersonNameId
    | Address
    | DateAndPlaceOfBirth
    | NationalIdentification
    | LegalPerson
    | LegalPersonName
    | LegalPersonNameId
    | LocalLegalPersonNameId
)


_T = TypeVar("_T")
_NAMES: dict[type, tuple[str, ...]] = {}
_new = object.__new__


def build(cls: type[_T], values: tuple[Any, ...]) -> _T:
    """Construct a node from all its field values in order (meta last), bypassing __init__.

    For the protobuf reader's hot path only: a frozen dataclass __init__ pays one
    object.__setattr__ per field, about three times the cost of filling the instance dict.
    """
    node = _new(cls)
    node.__dict__.update(zip(_NAMES[cls], values, strict=False))  # lengths: unit-tested
    return node


_NAMES.update((cls, tuple(f.name for f in dataclasses.fields(cls))) for cls in Node.__args__)
