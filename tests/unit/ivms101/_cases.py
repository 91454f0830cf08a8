"""Shared material for the IVMS101 tests: paths, documents, and an independent protojson writer.

`to_protojson` is a deliberately small re-implementation of the IVMS JSON -> protojson
mapping of IVMS101 JSON and TRISA protobuf names; IVMS101 JSON and TRISA protobuf enum names (key renames, enum prefixes, sequence as a string), written
apart from the package so the two can check each other.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from travelgate.ivms101 import Profile, ValidationResult

HERE = Path(__file__).parent
DATA = HERE / "data"
TRISA = HERE.parents[1] / "vectors" / "trisa" / "pkg" / "ivms101" / "testdata"
GLEIF = HERE.parents[1] / "vectors" / "trisa" / "pkg" / "gleif" / "testdata"
NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
PROFILES: tuple[Profile, ...] = ("strict", "standard", "interop")


def load(name: str) -> Any:
    path = DATA / name if (DATA / name).exists() else TRISA / name
    return json.loads(path.read_text(encoding="utf-8"))


def example2() -> dict[str, Any]:
    return copy.deepcopy(load("example2_2020.json"))


def found(result: ValidationResult) -> set[tuple[str, str]]:
    return {(v.rule, v.path) for v in result.violations}


def errors(result: ValidationResult) -> set[tuple[str, str]]:
    return {(v.rule, v.path) for v in result.violations if v.severity == "error"}


def warnings(result: ValidationResult) -> set[tuple[str, str]]:
    return {(v.rule, v.path) for v in result.violations if v.severity == "warning"}


def rules(result: ValidationResult) -> list[str]:
    return [v.rule for v in result.violations]


# -- an independent IVMS JSON -> protojson writer -------------------------------------------

_KEYS = {
    "originatingVASP": "originatingVasp",
    "beneficiaryVASP": "beneficiaryVasp",
    "intermediaryVASP": "intermediaryVasp",
    "postcode": "postCode",
    "naturalPersonNameIdentifierType": "nameIdentifierType",
    "originatorPerson": "originatorPersons",
    "beneficiaryPerson": "beneficiaryPersons",
}
_PREFIX = {
    "legalPersonNameIdentifierType": "LEGAL_PERSON_NAME_TYPE_CODE_",
    "addressType": "ADDRESS_TYPE_CODE_",
    "nationalIdentifierType": "NATIONAL_IDENTIFIER_TYPE_CODE_",
    "transliterationMethod": "TRANSLITERATION_METHOD_CODE_",
}
_NATURAL_TYPE_KEYS = ("nameIdentifierType", "naturalPersonNameIdentifierType")


def to_protojson(value: Any, parent: str = "") -> Any:
    """IVMS JSON (2020 keys) -> protojson with JSON names, full enum names, string sequence."""
    if isinstance(value, list):
        return [to_protojson(item, parent) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "payloadVersion":
            continue
        new: str = _KEYS.get(key) or key
        if key == "customerIdentification" and parent == "legalPerson":
            new = "customerNumber"
        if key in _NATURAL_TYPE_KEYS:
            out[new] = "NATURAL_PERSON_NAME_TYPE_CODE_" + item
        elif key in _PREFIX:
            prefix = _PREFIX[key]
            out[new] = (
                [prefix + code.upper() for code in item]
                if isinstance(item, list)
                else prefix + item.upper()
            )
        elif key == "sequence":
            out[new] = str(item)
        else:
            out[new] = to_protojson(item, key)
    return out


def pj_path(path: str) -> str:
    """The protojson spelling of a path into a document written with IVMS 2020 keys."""
    for ivms, pj in (
        ("originatingVASP", "originatingVasp"),
        ("beneficiaryVASP", "beneficiaryVasp"),
        ("intermediaryVASP", "intermediaryVasp"),
    ):
        path = path.replace(ivms, pj)
    return path


def lei_with_check_digits(prefix: str) -> str:
    """Complete an 18-character LEI prefix with its ISO 7064 MOD 97-10 check digits."""
    digits = "".join(str(int(ch, 36)) for ch in prefix + "00")
    return f"{prefix}{98 - int(digits) % 97:02d}"
