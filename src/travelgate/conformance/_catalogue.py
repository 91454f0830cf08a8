"""The ordered list of cases, and selecting some of them by name.

Order matters only for what cases share: the valid exchange comes before the cases that
re-send it or follow it up, and the two cases that judge every error envelope of the run
come last.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from travelgate.conformance._cases_defects import ALGORITHMS, ENVELOPE, PAYLOAD, TAMPER
from travelgate.conformance._cases_peer import HEALTH_AND_KEYS, SERVICE, TLS
from travelgate.conformance._cases_transfer import AGGREGATE, TRANSFER
from travelgate.conformance._levels import with_levels
from travelgate.conformance._model import Case

CASES: tuple[Case, ...] = with_levels(
    (
        *HEALTH_AND_KEYS,
        *TRANSFER,
        *TAMPER,
        *ALGORITHMS,
        *ENVELOPE,
        *PAYLOAD,
        *SERVICE,
        *TLS,
        *AGGREGATE,
    )
)


def _matches(name: str, pattern: str) -> bool:
    """A glob (`tamper.*`), an exact name, or a group name (`tamper`)."""
    return fnmatchcase(name, pattern) or name.startswith(pattern + ".")


def select(patterns: Iterable[str], cases: Iterable[Case] = CASES) -> tuple[Case, ...]:
    """The cases any pattern matches, in catalogue order; ValueError for a pattern that
    matches nothing (most likely a typo the operator wants to hear about)."""
    patterns = [p for p in patterns if p]
    cases = tuple(cases)
    if not patterns:
        return cases
    unmatched = [p for p in patterns if not any(_matches(c.name, p) for c in cases)]
    if unmatched:
        raise ValueError(f"no case matches {', '.join(repr(p) for p in unmatched)}")
    return tuple(c for c in cases if any(_matches(c.name, p) for p in patterns))
