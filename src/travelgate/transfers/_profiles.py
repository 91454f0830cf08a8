"""Built-in jurisdiction profiles (built-in profiles; built-in profile table).

Values are copied from the 8.3 table, row by row; a change here is a compliance change and
must cite the spec. Profiles below High confidence ship disabled (`enabled=False`) and can
only be activated by configuration that names who confirmed them (`confirmed_by`, checked by
the config parser). `JP-APTCP` ships without threshold and currency: no values may be
shipped for it, so it cannot be loaded until configuration provides both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum

from travelgate.durations import parse_duration

__all__ = [
    "BUILTIN_PROFILES",
    "Comparison",
    "Confidence",
    "InboundMissing",
    "Profile",
    "ReleaseLevel",
    "TimeoutInbound",
    "TimeoutOutbound",
    "builtin_profile",
]


class Confidence(StrEnum):
    HIGH = "High"
    MEDIUM = "Medium"
    LOW = "Low"


class Comparison(StrEnum):
    """How the threshold is applied: at-or-above or strictly above."""

    AT_LEAST = ">="
    ABOVE = ">"

    def meets(self, value: Decimal, threshold: Decimal) -> bool:
        return value >= threshold if self is Comparison.AT_LEAST else value > threshold


class ReleaseLevel(StrEnum):
    """When an outbound hold may clear (EU TFR Art. 14-16)."""

    ACCEPTED = "ACCEPTED"
    SENT = "SENT"


class InboundMissing(StrEnum):
    """First action on an incoming transfer with missing data."""

    HOLD = "HOLD"
    REVIEW = "REVIEW"
    REJECT = "REJECT"


class TimeoutOutbound(StrEnum):
    REVIEW = "REVIEW"
    EXPIRE = "EXPIRE"


class TimeoutInbound(StrEnum):
    REJECT_OR_RETURN = "REJECT_OR_RETURN"
    REVIEW = "REVIEW"


@dataclass(frozen=True)
class Profile:
    """One jurisdiction profile (built-in profiles)."""

    id: str
    basis: str
    confidence: Confidence
    enabled: bool
    currency: str
    """ISO 4217 code of the threshold; empty only for an unconfigured JP-APTCP."""
    threshold: Decimal | None
    """0 means "always full data"; None only for an unconfigured JP-APTCP."""
    comparison: Comparison
    below: str | None
    """Data rule below the threshold; None: the profile does not apply below it."""
    full: str
    self_hosted_evidence_above: Decimal | None
    """Ownership evidence needed above this value (0: always; None: never)."""
    release_level: ReleaseLevel
    inbound_missing: InboundMissing
    reply_timeout: timedelta
    max_wait: timedelta
    timeout_outbound: TimeoutOutbound
    timeout_inbound: TimeoutInbound
    retention: timedelta
    delete_after_retention: bool
    confirmed_by: str | None = None
    """Who confirmed a disabled profile's values before it was switched on."""
    retention_basis: str | None = None
    """National law cited when an EU retention is extended beyond 5 years (EU TFR Art. 26)."""
    overrides: tuple[str, ...] = ()
    """Fields changed by configuration, for the audit trail."""
    version: str = "builtin-1"
    """Version of the built-in values, recorded with every decision; changes with them."""

    @property
    def loadable(self) -> bool:
        """False while a required value (JP-APTCP's threshold and currency) is unset."""
        return self.threshold is not None and bool(self.currency)

    @property
    def label(self) -> str:
        """`id@version`, with `+config` when configuration changed a value."""
        return f"{self.id}@{self.version}{'+config' if self.overrides else ''}"


_DAY = parse_duration("24h")
_MAX = parse_duration("72h")
_FIVE_YEARS = parse_duration("5y")


def _p(
    id_: str,
    basis: str,
    confidence: Confidence,
    currency: str,
    threshold: str | None,
    comparison: Comparison,
    below: str | None,
    full: str,
    *,
    evidence: str | None = None,
    inbound: InboundMissing = InboundMissing.HOLD,
    timeout_inbound: TimeoutInbound = TimeoutInbound.REVIEW,
    delete: bool = False,
) -> Profile:
    return Profile(
        id=id_,
        basis=basis,
        confidence=confidence,
        enabled=confidence is Confidence.HIGH,
        currency=currency,
        threshold=None if threshold is None else Decimal(threshold),
        comparison=comparison,
        below=below,
        full=full,
        self_hosted_evidence_above=None if evidence is None else Decimal(evidence),
        release_level=ReleaseLevel.ACCEPTED,
        inbound_missing=inbound,
        reply_timeout=_DAY,
        max_wait=_MAX,
        timeout_outbound=TimeoutOutbound.REVIEW,
        timeout_inbound=timeout_inbound,
        retention=_FIVE_YEARS,
        delete_after_retention=delete,
    )


_H, _M, _L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
_GE, _GT = Comparison.AT_LEAST, Comparison.ABOVE

BUILTIN_PROFILES: tuple[Profile, ...] = (
    _p(
        "FATF-R16",
        "FATF Recommendation 15 (INR.15 para. 7(b)), Recommendation 16, Recommendation 11",
        _H, "USD", "1000", _GE, "R-MIN", "R-FATF",
    ),
    _p(
        "EU-TFR",
        "Regulation (EU) 2023/1113 (recast Transfer of Funds Regulation), Arts. 14, 16, 17, 26",
        _H, "EUR", "0", _GE, None, "R-EU",
        evidence="1000", timeout_inbound=TimeoutInbound.REJECT_OR_RETURN, delete=True,
    ),
    _p(
        "US-BSA",
        "Bank Secrecy Act, FinCEN Travel Rule, 31 CFR 1010.410(f)",
        _H, "USD", "3000", _GE, None, "R-US", inbound=InboundMissing.REVIEW,
    ),
    _p(
        "UK-MLR",
        "Money Laundering, Terrorist Financing and Transfer of Funds (Information on the Payer)"
        " Regulations 2017, Part 7A",
        _L, "EUR", "1000", _GE, "R-MIN", "R-FATF",
    ),
    _p("SG-PSN02", "MAS Notice PSN02, section 13", _M, "SGD", "1500", _GT, "R-MIN", "R-SG"),
    _p("CH-FINMA", "FINMA supervisory practice", _L, "CHF", "0", _GE, None, "R-FATF", evidence="0"),
    _p(
        "CA-PCMLTFR",
        "Proceeds of Crime (Money Laundering) and Terrorist Financing Act and Regulations"
        " (FINTRAC travel-rule guidance)",
        _L, "CAD", "1000", _GE, None, "R-CA",
    ),
    _p("HK-AMLO", "AMLO (Cap. 615)", _L, "HKD", "8000", _GE, "R-MIN", "R-FATF"),
    _p(
        "KR-SFTI",
        "Act on Reporting and Using Specified Financial Transaction Information",
        _L, "KRW", "1000000", _GE, "R-MIN", "R-FATF",
    ),
    _p("TR-MASAK", "MASAK regulations", _L, "TRY", "15000", _GE, "R-MIN", "R-FATF"),
    _p(
        "JP-APTCP",
        "Act on Prevention of Transfer of Criminal Proceeds (amended), FSA guidelines",
        _L, "", None, _GE, None, "R-FATF",
    ),
)  # fmt: skip

_BY_ID = {p.id: p for p in BUILTIN_PROFILES}


def builtin_profile(profile_id: str) -> Profile:
    """The shipped profile `profile_id` (KeyError if there is none)."""
    return _BY_ID[profile_id]
