"""Validation profiles as data: one table `check -> severity per profile` (validation profiles).

A *check* is a finer name than a rule: several checks report under one rule id with
different severities (e.g. `CARDINALITY.town` is the townName row of the profile table).
Severity letters: E error, W warning, N silently normalised, - not checked. For the checks
that describe a tolerated quirk, "accepted" (W or N) also switches the normalisation on, so a
custom profile changes behaviour and severity together and never touches the checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Profile = Literal["strict", "standard", "interop"]
Severity = Literal["E", "W", "N", "-"]

# Rule ids in the order of the IVMS101 constraints (used to order violations at one path).
RULES: tuple[str, ...] = (
    "PARSE",
    "DIALECT",
    "TYPE",
    "UNKNOWN_FIELD",
    "DUPLICATE_FIELD",
    "CARDINALITY",
    "ONE_OF",
    *(f"C{n}" for n in range(1, 13)),
    "LENGTH",
    "CHARSET",
    "ENUM",
    "EDITION",
    "FORMAT.DATE",
    "FORMAT.COUNTRY",
    "FORMAT.RA",
    "FORMAT.LEI",
    "FORMAT.LEI_CHECKSUM",
    "FORMAT.NUMBER",
    "TRANSLIT",
    "RA.COUNTRY",
)
RULE_ORDER: dict[str, int] = {rule: index for index, rule in enumerate(RULES)}


@dataclass(frozen=True)
class Check:
    rule: str
    strict: Severity
    standard: Severity
    interop: Severity
    code: int | None  # TRISA error code when reported as an error (validator codes)


def _c(rule: str, levels: str, code: int | None) -> Check:
    strict, standard, interop = levels.split()
    return Check(rule, strict, standard, interop, code)  # type: ignore[arg-type]


CHECKS: Mapping[str, Check] = MappingProxyType(
    {
        "PARSE": _c("PARSE", "E E E", 151),
        "PARSE.bom": _c("PARSE", "E E W", 151),  # Q29
        "DIALECT": _c("DIALECT", "E E W", 151),  # Q7, Q8a, mixed documents
        "TYPE": _c("TYPE", "E E E", 151),
        "TYPE.null": _c("TYPE", "E E W", 151),  # Q12
        "TYPE.shape": _c("TYPE", "E E W", 151),  # Q13, one item only
        "TYPE.bare_array": _c("TYPE", "E E W", 151),  # Q4
        "UNKNOWN_FIELD": _c("UNKNOWN_FIELD", "E E W", 151),  # also Q1-Q3, Q5, Q6, Q19, Q25
        "UNKNOWN_FIELD.rekey": _c("UNKNOWN_FIELD", "W W W", 151),  # rekey=True mappings
        "DUPLICATE_FIELD": _c("DUPLICATE_FIELD", "E E E", 151),
        "CARDINALITY": _c("CARDINALITY", "E E E", 153),
        "CARDINALITY.party": _c("CARDINALITY", "E E E", 154),
        "CARDINALITY.max": _c("CARDINALITY", "E E E", 155),
        "CARDINALITY.town": _c("CARDINALITY", "E W -", 153),  # 2.6 #2
        "CARDINALITY.zero": _c("CARDINALITY", "E E W", 153),  # Q9
        "CARDINALITY.pj_type": _c("CARDINALITY", "E E W", 153),  # 3.6, protobuf type unset
        "CARDINALITY.version": _c("CARDINALITY", "E E W", 153),  # 3.8 step 5
        "CARDINALITY.empty_object": _c("CARDINALITY", "- - W", 153),  # 3.6, `{}` in IVMS JSON
        "ONE_OF": _c("ONE_OF", "E E E", 155),
        "C1": _c("C1", "E E E", 155),
        "C2": _c("C2", "E E E", 155),
        "C3": _c("C3", "E E E", 155),
        "C3.xk": _c("C3", "E E W", 155),  # Q16
        "C4": _c("C4", "E E E", 155),
        "C5": _c("C5", "E E E", 155),
        "C6": _c("C6", "E E E", 155),
        "C7": _c("C7", "E E W", 155),
        "C8": _c("C8", "E E E", 155),
        "C9": _c("C9", "E E W", 155),
        "C10": _c("C10", "E E W", 155),
        "C11": _c("C11", "E E E", 155),
        "C11.case": _c("C11", "E E W", 155),  # Q15
        "C12": _c("C12", "E E W", 155),
        "C12.order": _c("C12", "E W -", 155),
        "LENGTH": _c("LENGTH", "E E E", 155),
        "LENGTH.empty": _c("LENGTH", "E E W", 155),  # Q11
        "LENGTH.bytes": _c("LENGTH", "W W W", 155),  # emission to byte-counting peers
        "CHARSET.forbidden": _c("CHARSET", "E E E", 155),
        "CHARSET.ascii": _c("CHARSET", "E E W", 155),  # Q17
        "CHARSET.class2020": _c("CHARSET", "E - -", 155),  # strict, 2020 character class
        "ENUM": _c("ENUM", "E E E", 155),
        "ENUM.case": _c("ENUM", "E W N", 155),  # Q8b
        "ENUM.misc": _c("ENUM", "E E W", 155),  # Q10
        "ENUM.version_printed": _c("ENUM", "E W W", 155),  # Q18
        "EDITION": _c("EDITION", "E W -", 155),
        "FORMAT.DATE": _c("FORMAT.DATE", "E E E", 155),
        "FORMAT.COUNTRY": _c("FORMAT.COUNTRY", "E E E", 155),
        "FORMAT.COUNTRY.case": _c("FORMAT.COUNTRY", "E E W", 155),  # Q15
        "FORMAT.RA": _c("FORMAT.RA", "E E E", 155),
        "FORMAT.LEI": _c("FORMAT.LEI", "E W W", 155),
        "FORMAT.LEI_CHECKSUM": _c("FORMAT.LEI_CHECKSUM", "E W W", 155),
        "FORMAT.NUMBER": _c("FORMAT.NUMBER", "E E E", 155),
        "FORMAT.NUMBER.lenient": _c("FORMAT.NUMBER", "E E W", 155),  # Q14
        "TRANSLIT": _c("TRANSLIT", "W W -", None),
        "RA.COUNTRY": _c("RA.COUNTRY", "W - -", None),
    }
)


@dataclass(frozen=True)
class ProfileTable:
    """Severity of every check under one profile."""

    name: str
    severities: Mapping[str, Severity]

    def severity(self, check: str) -> Severity:
        return self.severities[check]

    def accepts(self, check: str) -> bool:
        """True when the profile tolerates (and normalises) what `check` describes."""
        return self.severities[check] in ("W", "N")

    def checks(self, check: str) -> bool:
        return self.severities[check] != "-"


def _builtin(name: Profile) -> ProfileTable:
    return ProfileTable(
        name, MappingProxyType({check: getattr(row, name) for check, row in CHECKS.items()})
    )


BUILTIN_PROFILES: Mapping[str, ProfileTable] = MappingProxyType(
    {name: _builtin(name) for name in ("strict", "standard", "interop")}
)


def custom_profile(name: str, base: Profile, overrides: Mapping[str, Severity]) -> ProfileTable:
    """A copy of a built-in profile with some severities changed (validation profiles).

    An override key is a check id (`"CARDINALITY.town"`) or a rule id (`"C7"`), which then
    applies to every check reported under that rule.
    """
    if name in BUILTIN_PROFILES:
        raise ValueError(f"the built-in profile {name!r} cannot be redefined")
    table = dict(BUILTIN_PROFILES[base].severities)
    for key, severity in overrides.items():
        if severity not in ("E", "W", "N", "-"):
            raise ValueError(f"severity for {key!r} must be one of E, W, N, -")
        matched = [check for check, row in CHECKS.items() if key in (check, row.rule)]
        if not matched:
            raise ValueError(f"unknown check or rule {key!r}")
        for check in matched:
            table[check] = severity
    return ProfileTable(name, MappingProxyType(table))


def profile_table(profile: str | ProfileTable) -> ProfileTable:
    if isinstance(profile, ProfileTable):
        return profile
    try:
        return BUILTIN_PROFILES[profile]
    except KeyError:
        raise ValueError(
            f"unknown profile {profile!r}: use strict, standard, interop or a ProfileTable"
        ) from None
