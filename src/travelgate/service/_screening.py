"""The screening step of a transfer: the sanctions lists, then the optional provider.

The provider is asked before the transaction that records the decision (it is a network
call); the lists are read inside it, so a decision and the hit it names agree. What a hit,
a risk or a failure means is `screening_decision`'s (the `[screening]` settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from travelgate.config import ScreeningSection
from travelgate.errors import ConfigError
from travelgate.screening import (
    ProviderAnswer,
    ProviderClient,
    ScreeningDecision,
    screen,
    screening_decision,
)
from travelgate.store import Tx
from travelgate.transfers import DecisionCode, Direction


@dataclass(frozen=True)
class Screened:
    """What screening found for one address and what it means."""

    decision: ScreeningDecision
    record: dict[str, Any]

    @property
    def objects(self) -> bool:
        return self.decision.action is not None

    @property
    def code(self) -> DecisionCode:
        return DecisionCode(self.decision.code or DecisionCode.SCREENING_LISTED)

    @property
    def rule(self) -> str:
        listed = self.decision.detail.get("list")
        return f"screening:{listed}" if listed else "screening:provider"

    @property
    def reason(self) -> str:
        detail = self.decision.detail
        address = self.record["address"]
        if self.decision.code == DecisionCode.SCREENING_LISTED:
            return (
                f"SCREENING.LISTED: {address} is on {detail.get('list')} "
                f"({detail.get('reference')})"
            )[:500]
        if self.decision.code == DecisionCode.SCREENING_PROVIDER_RISK:
            categories = ", ".join(detail.get("categories", [])) or "no category"
            return f"SCREENING.PROVIDER_RISK: {address} rated {detail.get('risk')} ({categories})"
        return f"SCREENING.PROVIDER_FAILED: {detail.get('message')}"[:500]


class ScreeningStep:
    def __init__(self, settings: ScreeningSection, provider: ProviderClient | None = None) -> None:
        self.settings = settings
        self.provider = provider

    @classmethod
    def from_settings(cls, settings: ScreeningSection) -> ScreeningStep:
        provider = None
        if settings.provider_url:
            provider = ProviderClient(
                settings.provider_url,
                _secret(settings.provider_secret_file),
                timeout=settings.provider_timeout,
            )
        return cls(settings, provider)

    async def close(self) -> None:
        if self.provider is not None:
            await self.provider.close()

    async def consult(
        self, address: str, asset: str, network: str, direction: Direction
    ) -> ProviderAnswer | None:
        """The provider's answer (None when none is configured)."""
        if self.provider is None or not address:
            return None
        return await self.provider.assess(address, asset, network, direction)

    def decide(
        self, tx: Tx, address: str, asset: str, network: str, answer: ProviderAnswer | None
    ) -> Screened:
        result = screen(tx, address, asset, network)
        decision = screening_decision(self.settings, result, answer)
        record: dict[str, Any] = {
            **result.to_json(),
            "provider": None if answer is None else answer.to_json(),
            "action": None if decision.action is None else decision.action.value,
            "code": decision.code,
        }
        return Screened(decision, record)


def _secret(path: Path | None) -> bytes:
    if path is None:
        raise ConfigError("[screening] provider_url needs provider_secret_file")
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"[screening] provider_secret_file {path}: {exc.strerror}") from None
    if not secret:
        raise ConfigError(f"[screening] provider_secret_file {path} is empty")
    return secret
