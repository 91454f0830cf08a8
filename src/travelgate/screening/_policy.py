"""What a screening outcome means for a transfer: no objection, a person's review, or rejection.

Pure functions of the `[screening]` settings. A list hit uses `on_hit`; a provider verdict
uses `risk_actions` (a level not named there is no objection); a provider failure sends the
transfer to review unless `fail_open` is set. The strictest of the outcomes wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from travelgate.config import ScreeningSection
from travelgate.screening._provider import ProviderAnswer, ProviderFailure
from travelgate.screening._screen import ScreeningResult
from travelgate.transfers import Action

LISTED = "SCREENING.LISTED"
PROVIDER_RISK = "SCREENING.PROVIDER_RISK"
PROVIDER_FAILED = "SCREENING.PROVIDER_FAILED"

_SEVERITY = {None: 0, Action.REVIEW: 1, Action.REJECT: 2}


@dataclass(frozen=True)
class ScreeningDecision:
    action: Action | None  # None: screening has no objection
    code: str | None
    detail: dict[str, Any]


def screening_decision(
    settings: ScreeningSection,
    result: ScreeningResult,
    provider: ProviderAnswer | None = None,
) -> ScreeningDecision:
    candidates = [ScreeningDecision(None, None, {})]
    if result.listed:
        first = result.hits[0]
        candidates.append(
            ScreeningDecision(
                Action(settings.on_hit),
                LISTED,
                {"list": first.list, "reference": first.reference, **result.to_json()},
            )
        )
    if isinstance(provider, ProviderFailure):
        if not settings.fail_open:
            candidates.append(ScreeningDecision(Action.REVIEW, PROVIDER_FAILED, provider.to_json()))
    elif provider is not None:
        action = settings.risk_actions.get(provider.risk.value, "allow")
        if action != "allow":
            candidates.append(ScreeningDecision(Action(action), PROVIDER_RISK, provider.to_json()))
    return max(candidates, key=lambda decision: _SEVERITY[decision.action])
