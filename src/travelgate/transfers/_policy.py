"""The validated policy: active profiles, settings and config rules, as frozen values.

`parse_policy` (in `_config`) builds it from the `[policy]` table; tests and callers may
also build one directly from built-in profiles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from types import MappingProxyType

from travelgate.errors import ConfigError
from travelgate.transfers._decision import Action
from travelgate.transfers._facts import CounterpartyKind, Direction
from travelgate.transfers._profiles import Profile, builtin_profile
from travelgate.transfers._read import toml_key
from travelgate.transfers._rules import EuMode

__all__ = ["Condition", "CounterpartySettings", "Policy", "PolicyRule"]


@dataclass(frozen=True)
class CounterpartySettings:
    """Per-counterparty overrides of the profiles' reply window."""

    reply_timeout: timedelta | None = None
    max_wait: timedelta | None = None


@dataclass(frozen=True)
class Condition:
    """The `when` of a config rule: every field that is not None must hold."""

    direction: Direction | None = None
    counterparty: frozenset[CounterpartyKind] | None = None
    counterparty_name: frozenset[str] | None = None
    """Lower-cased names."""
    in_directory: bool | None = None
    payload_sufficient: bool | None = None
    evidence_recorded: bool | None = None
    applicable: bool | None = None
    asset: frozenset[str] | None = None
    """Upper-cased tickers."""
    network: frozenset[str] | None = None
    value_above: Decimal | None = None
    value_at_least: Decimal | None = None
    value_below: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class PolicyRule:
    """One `[[policy.rules]]` entry."""

    name: str
    when: Condition
    action: Action
    code: int | None = None
    """TRISA code for reject/repair (defaults applied by the parser)."""
    reason: str = ""

    @property
    def id(self) -> str:
        return f"rule:{self.name}"


@dataclass(frozen=True)
class Policy:
    """The validated policy: active profiles, settings and config rules."""

    profiles: tuple[Profile, ...]
    account_from_transaction: bool = True
    eu_outbound_mode: EuMode = EuMode.ADDRESS_PLUS
    eu_inbound_mode: EuMode = EuMode.LITERAL
    fx: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    """Value of one unit of each currency in USD."""
    valuation_max_age: timedelta = timedelta(minutes=5)
    name_mismatch: Action = Action.REVIEW
    repeat_incomplete_limit: int | None = None
    counterparties: Mapping[str, CounterpartySettings] = field(
        default_factory=lambda: MappingProxyType({})
    )
    """Keyed by lower-cased counterparty name."""
    rules: tuple[PolicyRule, ...] = ()

    def __post_init__(self) -> None:
        if not self.profiles:
            raise ConfigError("policy.profiles: at least one profile must be active")
        for profile in self.profiles:
            if not profile.loadable:
                where = f"policy.profile.{toml_key(profile.id)}"
                raise ConfigError(f"{where}: threshold and currency must be configured")

    @classmethod
    def default(cls) -> Policy:
        """FATF-R16 alone: the fallback when no jurisdiction profile is configured."""
        return cls(profiles=(builtin_profile("FATF-R16"),))

    def counterparty_settings(self, name: str | None) -> CounterpartySettings | None:
        return None if name is None else self.counterparties.get(name.strip().lower())
