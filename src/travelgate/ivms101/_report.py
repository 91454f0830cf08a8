"""Violations, results and the collector that applies profiles, suppression and ordering (8)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from travelgate.ivms101._model import Node
from travelgate.ivms101._profiles import CHECKS, RULE_ORDER, ProfileTable

Dialect = Literal["ivms", "trisa-pj", "trisa-pb"]
Edition = Literal["2020", "2023"]
Path = tuple[str | int, ...]
Pos = tuple[int, ...]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Violation:
    """One problem found in a document.

    `code` is the TRISA error code the violation maps to when it is an error; hints
    (TRANSLIT, RA.COUNTRY) have none.
    """

    rule: str
    path: str
    severity: Literal["error", "warning"]
    message: str
    pointer: str
    code: int | None = None


@dataclass(frozen=True)
class ValidationResult:
    """All violations of one document under one profile, plus the canonical model."""

    valid: bool
    profile: str
    edition: Edition
    dialect: Dialect
    violations: tuple[Violation, ...]
    model: Node | None

    @property
    def errors(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "error")

    @property
    def warnings(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "warning")


def format_path(path: Path) -> str:
    """Dotted path with `[i]` indices; keys that are not identifiers as `["key"]`."""
    out: list[str] = []
    for segment in path:
        if isinstance(segment, int):
            out.append(f"[{segment}]")
        elif _IDENTIFIER.fullmatch(segment):
            out.append(f".{segment}" if out else segment)
        else:
            out.append(f"[{json.dumps(segment)}]")
    return "".join(out)


def format_pointer(path: Path) -> str:
    """The same location as an RFC 6901 JSON Pointer."""
    return "".join("/" + str(segment).replace("~", "~0").replace("/", "~1") for segment in path)


class Sink:
    """Collects violations: severity from the profile, one per (rule, path), ordered."""

    __slots__ = ("_found", "table")

    def __init__(self, table: ProfileTable) -> None:
        self.table = table
        self._found: dict[tuple[str, Path], tuple[Pos, str, str, int | None]] = {}

    def add(self, check: str, path: Path, pos: Pos, message: str) -> None:
        severity = self.table.severities[check]
        if severity == "-" or severity == "N":
            return
        row = CHECKS[check]
        key = (row.rule, path)
        old = self._found.get(key)
        # Keep the first report of a (rule, path) pair unless a later one is more severe.
        if old is None or (old[1] == "W" and severity == "E"):
            self._found[key] = (pos, severity, message, row.code)

    def accepts(self, check: str) -> bool:
        return self.table.severities[check] in ("W", "N")

    def violations(self) -> tuple[Violation, ...]:
        rows = sorted(
            self._found.items(),
            key=lambda item: (item[1][0], RULE_ORDER[item[0][0]], item[1][2]),
        )
        return tuple(
            Violation(
                rule=rule,
                path=format_path(path),
                severity="error" if severity == "E" else "warning",
                message=message,
                pointer=format_pointer(path),
                code=code,
            )
            for (rule, path), (_pos, severity, message, code) in rows
        )

    def has_errors(self) -> bool:
        return any(entry[1] == "E" for entry in self._found.values())


class KeySink(Sink):
    """Passes on only key-level reports: for the contents of a discarded alias key, whose
    keys are still named (TRISA reference IVMS101 test data) but whose values are not validated."""

    __slots__ = ("_inner",)

    def __init__(self, inner: Sink) -> None:
        super().__init__(inner.table)
        self._inner = inner

    def add(self, check: str, path: Path, pos: Pos, message: str) -> None:
        if check.startswith(("UNKNOWN_FIELD", "DUPLICATE_FIELD")):
            self._inner.add(check, path, pos, message)
