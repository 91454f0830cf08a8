"""The IVMS101 data model and its TRISA protobuf names as data: one ObjectSpec per object type.

Each FieldSpec says, for one element, its model attribute, JSON shape, datatype, the keys an
IVMS JSON document of each edition uses (K1, first one is what the emitter writes), its
protojson JSON and proto names, multiplicity, and the interop aliases (K3) that map onto it.
The decoder, the checker and the emitter all read these tables, so a key is spelled once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

from travelgate.ivms101 import _model as m
from travelgate.ivms101._codes import (
    ADDRESS_TYPE,
    LEGAL_NAME_TYPE,
    NATIONAL_ID_TYPE,
    NATURAL_NAME_TYPE,
    TRANSLITERATION,
    CodeList,
)
from travelgate.ivms101._formats import (
    LOCAL100,
    MAX16,
    MAX35,
    MAX50,
    MAX70,
    MAX100,
    MAX512,
    TextType,
)

Kind = Literal["obj", "objs", "str", "strs", "enum", "enums", "num", "version"]
Format = Literal["text", "country", "date", "ra"]
Need = Literal["optional", "required", "party", "town"]


@dataclass(frozen=True)
class FieldSpec:
    attr: str
    kind: Kind
    k2020: tuple[str, ...]
    k2023: tuple[str, ...]
    pj: tuple[str, str] | None  # (protojson JSON name, proto field name)
    child: str | None = None
    text: TextType | None = None
    fmt: Format = "text"
    codes: CodeList | None = None
    need: Need = "optional"
    max_items: int | None = None
    k3: tuple[str, ...] = ()
    blank_is_missing: bool = False  # an all-space value is CARDINALITY (IVMS101 structural rules)
    row: int = 0

    def emit_key(self, edition: str) -> str:
        keys = (self.k2020 or self.k2023) if edition == "2020" else (self.k2023 or self.k2020)
        return keys[0] if keys else (self.pj[0] if self.pj else self.attr)

    def pj_key(self, proto_style: bool) -> str:
        if self.pj is None:
            return self.emit_key("2020")
        return self.pj[1] if proto_style else self.pj[0]


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    model: type[m.Node]
    fields: tuple[FieldSpec, ...]
    by_attr: dict[str, FieldSpec] = field(init=False)

    def __post_init__(self) -> None:
        rows = tuple(dataclasses.replace(fs, row=row) for row, fs in enumerate(self.fields))
        object.__setattr__(self, "fields", rows)
        object.__setattr__(self, "by_attr", {fs.attr: fs for fs in rows})


def _f(
    attr: str,
    kind: Kind,
    keys: str | tuple[str, ...],
    pj: tuple[str, str] | None,
    **extra: object,
) -> FieldSpec:
    """A field whose IVMS keys are the same in both editions."""
    both = (keys,) if isinstance(keys, str) else keys
    return FieldSpec(attr, kind, both, both, pj, **extra)  # type: ignore[arg-type]


def _text(attr: str, key: str, proto: str, text: TextType, **extra: object) -> FieldSpec:
    return _f(attr, "str", key, (key, proto), text=text, **extra)


def _country(attr: str, key: str, proto: str, **extra: object) -> FieldSpec:
    return _f(attr, "str", key, (key, proto), fmt="country", **extra)


_ADDRESSES = {"child": "Address"}
_ADDR_KEYS = ("geographicAddress", "geographic_addresses")

SPECS: dict[str, ObjectSpec] = {}


def _spec(name: str, model: type[m.Node], *fields: FieldSpec) -> None:
    SPECS[name] = ObjectSpec(name, model, fields)


_spec(
    "IdentityPayload",
    m.IdentityPayload,
    _f(
        "originator",
        "obj",
        "originator",
        ("originator", "originator"),
        child="Originator",
        need="party",
        k3=("Originator",),
    ),
    _f(
        "beneficiary",
        "obj",
        "beneficiary",
        ("beneficiary", "beneficiary"),
        child="Beneficiary",
        need="party",
        k3=("Beneficiary",),
    ),
    _f(
        "originating_vasp",
        "obj",
        "originatingVASP",
        ("originatingVasp", "originating_vasp"),
        child="OriginatingVASP",
        k3=("OriginatingVASP",),
    ),
    _f(
        "beneficiary_vasp",
        "obj",
        "beneficiaryVASP",
        ("beneficiaryVasp", "beneficiary_vasp"),
        child="BeneficiaryVASP",
        k3=("BeneficiaryVASP",),
    ),
    _f(
        "transfer_path",
        "obj",
        "transferPath",
        ("transferPath", "transfer_path"),
        child="TransferPath",
        k3=("TransferPath",),
    ),
    _f(
        "payload_metadata",
        "obj",
        "payloadMetadata",
        ("payloadMetadata", "payload_metadata"),
        child="PayloadMetadata",
        k3=("PayloadMetadata",),
    ),
)
_spec(
    "Originator",
    m.Originator,
    FieldSpec(
        "persons",
        "objs",
        ("originatorPersons",),
        ("originatorPerson",),
        ("originatorPersons", "originator_persons"),
        child="Person",
        need="party",
    ),
    FieldSpec(
        "account_numbers",
        "strs",
        ("accountNumber",),
        (),
        ("accountNumber", "account_numbers"),
        text=MAX100,
        k3=("accountNumbers",),
    ),
)
_spec(
    "Beneficiary",
    m.Beneficiary,
    FieldSpec(
        "persons",
        "objs",
        ("beneficiaryPersons", "beneficiaryPerson"),
        ("beneficiaryPerson",),
        ("beneficiaryPersons", "beneficiary_persons"),
        child="Person",
        need="party",
    ),
    FieldSpec(
        "account_numbers",
        "strs",
        ("accountNumber",),
        (),
        ("accountNumber", "account_numbers"),
        text=MAX100,
        k3=("accountNumbers",),
    ),
)
_spec(
    "OriginatingVASP",
    m.OriginatingVasp,
    _f("person", "obj", "originatingVASP", ("originatingVasp", "originating_vasp"), child="Person"),
)
_spec(
    "BeneficiaryVASP",
    m.BeneficiaryVasp,
    _f("person", "obj", "beneficiaryVASP", ("beneficiaryVasp", "beneficiary_vasp"), child="Person"),
)
_spec(
    "TransferPath",
    m.TransferPath,
    _f(
        "intermediaries",
        "objs",
        "transferPath",
        ("transferPath", "transfer_path"),
        child="IntermediaryVASP",
    ),
)
_spec(
    "IntermediaryVASP",
    m.IntermediaryVasp,
    _f(
        "person",
        "obj",
        "intermediaryVASP",
        ("intermediaryVasp", "intermediary_vasp"),
        child="Person",
        need="required",
    ),
    _f("sequence", "num", "sequence", ("sequence", "sequence"), need="required"),
)
_spec(
    "PayloadMetadata",
    m.PayloadMetadata,
    _f(
        "transliteration_methods",
        "enums",
        "transliterationMethod",
        ("transliterationMethod", "transliteration_method"),
        codes=TRANSLITERATION,
    ),
    _f("payload_version", "version", "payloadVersion", None),
)
_spec(
    "Person",
    m.Person,
    _f(
        "natural_person",
        "obj",
        "naturalPerson",
        ("naturalPerson", "natural_person"),
        child="NaturalPerson",
    ),
    _f("legal_person", "obj", "legalPerson", ("legalPerson", "legal_person"), child="LegalPerson"),
    FieldSpec(
        "account_numbers", "strs", (), ("accountNumber",), None, text=MAX512, k3=("accountNumbers",)
    ),
)
_spec(
    "NaturalPerson",
    m.NaturalPerson,
    _f("name", "obj", "name", ("name", "name"), child="NaturalPersonName", need="required"),
    _f("geographic_addresses", "objs", "geographicAddress", _ADDR_KEYS, **_ADDRESSES),
    _f(
        "national_identification",
        "obj",
        "nationalIdentification",
        ("nationalIdentification", "national_identification"),
        child="NationalIdentification",
    ),
    _text(
        "customer_identification",
        "customerIdentification",
        "customer_identification",
        MAX50,
        k3=("customerNumber",),
    ),
    _f(
        "date_and_place_of_birth",
        "obj",
        "dateAndPlaceOfBirth",
        ("dateAndPlaceOfBirth", "date_and_place_of_birth"),
        child="DateAndPlaceOfBirth",
    ),
    _country("country_of_residence", "countryOfResidence", "country_of_residence"),
)
for _name, _item, _local in (
    ("NaturalPersonName", "NaturalPersonNameID", "LocalNaturalPersonNameID"),
    ("LegalPersonName", "LegalPersonNameID", "LocalLegalPersonNameID"),
):
    _spec(
        _name,
        m.NaturalPersonName if _name == "NaturalPersonName" else m.LegalPersonName,
        _f(
            "name_identifiers",
            "objs",
            "nameIdentifier",
            ("nameIdentifier", "name_identifiers"),
            child=_item,
            need="required",
        ),
        _f(
            "local_name_identifiers",
            "objs",
            "localNameIdentifier",
            ("localNameIdentifier", "local_name_identifiers"),
            child=_local,
        ),
        _f(
            "phonetic_name_identifiers",
            "objs",
            "phoneticNameIdentifier",
            ("phoneticNameIdentifier", "phonetic_name_identifiers"),
            child=_local,
        ),
    )
_spec(
    "NaturalPersonNameID",
    m.NaturalPersonNameId,
    _text(
        "primary_identifier",
        "primaryIdentifier",
        "primary_identifier",
        MAX100,
        need="required",
        blank_is_missing=True,
    ),
    _text("secondary_identifier", "secondaryIdentifier", "secondary_identifier", MAX100),
    FieldSpec(
        "name_identifier_type",
        "enum",
        ("nameIdentifierType", "naturalPersonNameIdentifierType"),
        ("naturalPersonNameIdentifierType", "nameIdentifierType"),
        ("nameIdentifierType", "name_identifier_type"),
        codes=NATURAL_NAME_TYPE,
        need="required",
    ),
)
_spec(
    "LocalNaturalPersonNameID",
    m.LocalNaturalPersonNameId,
    _text(
        "primary_identifier", "primaryIdentifier", "primary_identifier", LOCAL100, need="required"
    ),
    _text("secondary_identifier", "secondaryIdentifier", "secondary_identifier", LOCAL100),
    _f(
        "name_identifier_type",
        "enum",
        "nameIdentifierType",
        ("nameIdentifierType", "name_identifier_type"),
        codes=NATURAL_NAME_TYPE,
        need="required",
    ),
)
_spec(
    "Address",
    m.Address,
    _f(
        "address_type",
        "enum",
        "addressType",
        ("addressType", "address_type"),
        codes=ADDRESS_TYPE,
        need="required",
    ),
    _text("department", "department", "department", MAX50),
    _text("sub_department", "subDepartment", "sub_department", MAX70),
    _text("street_name", "streetName", "street_name", MAX70),
    _text("building_number", "buildingNumber", "building_number", MAX16),
    _text("building_name", "buildingName", "building_name", MAX35),
    _text("floor", "floor", "floor", MAX70),
    _text("post_box", "postBox", "post_box", MAX16),
    _text("room", "room", "room", MAX70),
    _f("post_code", "str", ("postCode", "postcode"), ("postCode", "post_code"), text=MAX16),
    _text("town_name", "townName", "town_name", MAX35, need="town"),
    _text("town_location_name", "townLocationName", "town_location_name", MAX35),
    _text("district_name", "districtName", "district_name", MAX35),
    _text("country_sub_division", "countrySubDivision", "country_sub_division", MAX35),
    _f(
        "address_lines",
        "strs",
        "addressLine",
        ("addressLine", "address_line"),
        text=MAX70,
        max_items=7,
    ),
    _country("country", "country", "country", need="required"),
)
_spec(
    "DateAndPlaceOfBirth",
    m.DateAndPlaceOfBirth,
    _f(
        "date_of_birth",
        "str",
        "dateOfBirth",
        ("dateOfBirth", "date_of_birth"),
        fmt="date",
        need="required",
    ),
    _text("place_of_birth", "placeOfBirth", "place_of_birth", MAX70, need="required"),
)
_spec(
    "NationalIdentification",
    m.NationalIdentification,
    _text(
        "national_identifier", "nationalIdentifier", "national_identifier", MAX35, need="required"
    ),
    _f(
        "national_identifier_type",
        "enum",
        "nationalIdentifierType",
        ("nationalIdentifierType", "national_identifier_type"),
        codes=NATIONAL_ID_TYPE,
        need="required",
    ),
    _country("country_of_issue", "countryOfIssue", "country_of_issue"),
    _f(
        "registration_authority",
        "str",
        "registrationAuthority",
        ("registrationAuthority", "registration_authority"),
        fmt="ra",
    ),
)
_spec(
    "LegalPerson",
    m.LegalPerson,
    _f("name", "obj", "name", ("name", "name"), child="LegalPersonName", need="required"),
    _f("geographic_addresses", "objs", "geographicAddress", _ADDR_KEYS, **_ADDRESSES),
    FieldSpec(
        "customer_identification",
        "str",
        ("customerNumber", "customerIdentification"),
        ("customerIdentification",),
        ("customerNumber", "customer_number"),
        text=MAX50,
    ),
    _f(
        "national_identification",
        "obj",
        "nationalIdentification",
        ("nationalIdentification", "national_identification"),
        child="NationalIdentification",
    ),
    _country("country_of_registration", "countryOfRegistration", "country_of_registration"),
)
_spec(
    "LegalPersonNameID",
    m.LegalPersonNameId,
    _text(
        "legal_person_name",
        "legalPersonName",
        "legal_person_name",
        MAX100,
        need="required",
        blank_is_missing=True,
    ),
    _f(
        "legal_person_name_identifier_type",
        "enum",
        "legalPersonNameIdentifierType",
        ("legalPersonNameIdentifierType", "legal_person_name_identifier_type"),
        codes=LEGAL_NAME_TYPE,
        need="required",
    ),
)
_spec(
    "LocalLegalPersonNameID",
    m.LocalLegalPersonNameId,
    _text("legal_person_name", "legalPersonName", "legal_person_name", LOCAL100, need="required"),
    _f(
        "legal_person_name_identifier_type",
        "enum",
        "legalPersonNameIdentifierType",
        ("legalPersonNameIdentifierType", "legal_person_name_identifier_type"),
        codes=LEGAL_NAME_TYPE,
        need="required",
    ),
)

COMPONENTS: tuple[str, ...] = (
    "IdentityPayload",
    "Person",
    "NaturalPerson",
    "LegalPerson",
    "Address",
    "NationalIdentification",
    "DateAndPlaceOfBirth",
    "IntermediaryVASP",
)
SPEC_OF_MODEL: dict[type[m.Node], ObjectSpec] = {spec.model: spec for spec in SPECS.values()}

# Keys that hold code-list values, in every spelling (for dialect signals, 3.7).
ENUM_KEYS: frozenset[str] = frozenset(
    key
    for spec in SPECS.values()
    for fs in spec.fields
    if fs.kind in ("enum", "enums")
    for key in (*fs.k2020, *fs.k2023, *(fs.pj or ()))
)
# Proto field names with an underscore: a protojson signal (IVMS101 JSON dialects).
PROTO_NAMES: frozenset[str] = frozenset(
    fs.pj[1] for spec in SPECS.values() for fs in spec.fields if fs.pj and "_" in fs.pj[1]
)
PJ_VASP_KEYS = frozenset({"originatingVasp", "beneficiaryVasp", "intermediaryVasp"})
IVMS_VASP_KEYS = frozenset({"originatingVASP", "beneficiaryVASP", "intermediaryVASP"})
# Keys only IVMS JSON uses, wherever they appear (the context-dependent ones are handled by
# the scanner: `customerIdentification` in a legal person, `accountNumber` in a Person).
IVMS_ONLY_KEYS = (
    frozenset(
        {
            "originatorPerson",
            "beneficiaryPerson",
            "postcode",
            "payloadVersion",
            "naturalPersonNameIdentifierType",
        }
    )
    | IVMS_VASP_KEYS
)
