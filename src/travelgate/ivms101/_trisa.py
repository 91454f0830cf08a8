"""From a validation result to a TRISA rejection (TRISA rejection of an invalid identity)."""

from __future__ import annotations

from travelgate.errors import TrisaError, trisa_error
from travelgate.ivms101._report import ValidationResult

UNPARSEABLE_IDENTITY = 151
_CODE_ORDER = (151, 153, 154, 155)  # the most fundamental problem wins
_MAX_ITEMS = 10
_MAX_MESSAGE = 1000


def rejection_message(result: ValidationResult) -> str:
    """`IVMS101 <profile>: <n> error(s): <rule> at <path>; ...` (at most 10 items, 1,000 chars)."""
    errors = [v for v in result.violations if v.severity == "error"]
    items = "; ".join(f"{v.rule} at {v.path}" for v in errors[:_MAX_ITEMS])
    return f"IVMS101 {result.profile}: {len(errors)} error(s): {items}"[:_MAX_MESSAGE]


def rejection_for(result: ValidationResult) -> TrisaError | None:
    """The TRISA error for a failing result, or None when the result is valid."""
    codes = {v.code for v in result.violations if v.severity == "error"}
    if not codes:
        return None
    code = next((c for c in _CODE_ORDER if c in codes), 155)
    return trisa_error(code, rejection_message(result), retry=True)


def unparseable(reason: str) -> TrisaError:
    """UNPARSEABLE_IDENTITY (151) for an identity payload that cannot be read at all."""
    return trisa_error(
        UNPARSEABLE_IDENTITY,
        f"IVMS101: identity payload cannot be parsed: {reason}"[:_MAX_MESSAGE],
        retry=True,
    )
