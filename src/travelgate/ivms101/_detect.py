"""Dialect and edition detection over a parsed JSON document (IVMS101 dialects and editions).

One walk over the whole document counts the signals of each dialect and notes the edition
markers; the decision is made from the counts, before decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from travelgate.ivms101._codes import ENUM_PREFIXES, SHORT_CODES_UPPER
from travelgate.ivms101._schema import ENUM_KEYS, IVMS_ONLY_KEYS, PJ_VASP_KEYS, PROTO_NAMES

_PERSON_KEYS = frozenset({"naturalPerson", "legalPerson", "natural_person", "legal_person"})
_LEGAL_KEYS = frozenset({"legalPerson", "legal_person"})
_PARTY_KEYS = frozenset({"originator", "beneficiary", "Originator", "Beneficiary"})

# The key a component validated on its own would sit under, for context-dependent signals.
ROOT_CONTEXT: dict[str, str] = {"LegalPerson": "legalPerson"}


@dataclass
class Signals:
    ivms: int = 0
    pj: int = 0
    marker_2023: bool = False
    marker_2020: bool = False
    too_deep: bool = False

    @property
    def mixed(self) -> bool:
        return self.ivms > 0 and self.pj > 0

    @property
    def majority(self) -> str:
        return "trisa-pj" if self.pj > self.ivms else "ivms"


def scan(
    root: dict[str, Any], *, context: str = "", rekey: bool = False, max_depth: int = 32
) -> Signals:
    """Count dialect signals and edition markers in a parsed document, and note whether
    containers nest deeper than `max_depth` (the root object is level 1)."""
    signals = Signals()
    _walk(root, context, signals, rekey, max_depth)
    return signals


def _enum_value(value: Any, signals: Signals) -> None:
    if isinstance(value, str):
        if value.startswith(ENUM_PREFIXES):
            signals.pj += 1
        elif value.upper() in SHORT_CODES_UPPER:
            signals.ivms += 1
    elif isinstance(value, int) and not isinstance(value, bool):
        signals.pj += 1
    elif isinstance(value, list):
        for item in value:
            if not isinstance(item, list):
                _enum_value(item, signals)


def _walk(node: Any, parent: str, signals: Signals, rekey: bool, room: int) -> None:
    """`room`: how many more container levels may open here, counting this one."""
    if room <= 0:
        signals.too_deep = True
        return
    if isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                _walk(item, parent, signals, rekey, room - 1)
        return
    is_person = not _PERSON_KEYS.isdisjoint(node)
    for key, value in node.items():
        if key in PJ_VASP_KEYS:
            signals.pj += 1
        elif key in IVMS_ONLY_KEYS:
            signals.ivms += 1
        elif key in PROTO_NAMES and not rekey:
            signals.pj += 1
        if key in ENUM_KEYS:
            _enum_value(value, signals)
        if key == "originatorPerson":
            signals.marker_2023 = True
        elif key == "originatorPersons":
            signals.marker_2020 = True
        elif key == "customerIdentification" and parent in _LEGAL_KEYS:
            signals.ivms += 1
        elif key == "accountNumber":
            if is_person:
                signals.ivms += 1
                signals.marker_2023 = True
            elif parent in _PARTY_KEYS:
                signals.marker_2020 = True
        if isinstance(value, dict | list):
            _walk(value, key, signals, rekey, room - 1)
