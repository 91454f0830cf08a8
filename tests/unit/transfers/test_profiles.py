"""The built-in profiles carry exactly the values of built-in profile table."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from travelgate.errors import ConfigError
from travelgate.transfers import (
    BUILTIN_PROFILES,
    RULE_IDS,
    Comparison,
    Confidence,
    InboundMissing,
    Policy,
    ReleaseLevel,
    TimeoutInbound,
    TimeoutOutbound,
    builtin_profile,
    parse_policy,
)

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
GE, GT = Comparison.AT_LEAST, Comparison.ABOVE
RR, RV = TimeoutInbound.REJECT_OR_RETURN, TimeoutInbound.REVIEW
HOLD, REVIEW = InboundMissing.HOLD, InboundMissing.REVIEW

# id, confidence, enabled, currency, threshold, comparison, below, full, evidence,
# inbound missing, inbound timeout, delete after retention
TABLE = [
    ("FATF-R16", H, True, "USD", "1000", GE, "R-MIN", "R-FATF", None, HOLD, RV, False),
    ("EU-TFR", H, True, "EUR", "0", GE, None, "R-EU", "1000", HOLD, RR, True),
    ("US-BSA", H, True, "USD", "3000", GE, None, "R-US", None, REVIEW, RV, False),
    ("UK-MLR", L, False, "EUR", "1000", GE, "R-MIN", "R-FATF", None, HOLD, RV, False),
    ("SG-PSN02", M, False, "SGD", "1500", GT, "R-MIN", "R-SG", None, HOLD, RV, False),
    ("CH-FINMA", L, False, "CHF", "0", GE, None, "R-FATF", "0", HOLD, RV, False),
    ("CA-PCMLTFR", L, False, "CAD", "1000", GE, None, "R-CA", None, HOLD, RV, False),
    ("HK-AMLO", L, False, "HKD", "8000", GE, "R-MIN", "R-FATF", None, HOLD, RV, False),
    ("KR-SFTI", L, False, "KRW", "1000000", GE, "R-MIN", "R-FATF", None, HOLD, RV, False),
    ("TR-MASAK", L, False, "TRY", "15000", GE, "R-MIN", "R-FATF", None, HOLD, RV, False),
    ("JP-APTCP", L, False, "", None, GE, None, "R-FATF", None, HOLD, RV, False),
]


def test_all_rows_present_in_table_order() -> None:
    assert [p.id for p in BUILTIN_PROFILES] == [row[0] for row in TABLE]


@pytest.mark.parametrize("row", TABLE, ids=[row[0] for row in TABLE])
def test_builtin_values(row: tuple[object, ...]) -> None:
    pid, conf, enabled, cur, thr, comp, below, full, evid, inbound, t_in, delete = row
    p = builtin_profile(str(pid))
    assert p.confidence is conf
    assert p.enabled is enabled
    assert p.enabled is (conf is H)  # only High ships enabled
    assert p.currency == cur
    assert p.threshold == (None if thr is None else Decimal(str(thr)))
    assert p.comparison is comp
    assert p.below == below
    assert p.full == full
    assert p.self_hosted_evidence_above == (None if evid is None else Decimal(str(evid)))
    assert p.release_level is ReleaseLevel.ACCEPTED
    assert p.inbound_missing is inbound
    assert p.timeout_inbound is t_in
    assert p.timeout_outbound is TimeoutOutbound.REVIEW
    assert p.reply_timeout == timedelta(hours=24)
    assert p.max_wait == timedelta(hours=72)
    assert p.retention >= timedelta(days=5 * 365 + 2)  # at least five calendar years
    assert p.delete_after_retention is delete
    assert p.basis
    assert p.full in RULE_IDS
    assert p.below is None or p.below in RULE_IDS
    assert isinstance(p.threshold, Decimal | None)


def test_every_enabled_builtin_loads_by_config() -> None:
    for p in BUILTIN_PROFILES:
        if p.enabled:
            policy = parse_policy({"profiles": [p.id]})
            assert policy.profiles == (p,)


@pytest.mark.parametrize("pid", [p.id for p in BUILTIN_PROFILES if not p.enabled and p.loadable])
def test_every_disabled_builtin_loads_with_confirmation(pid: str) -> None:
    policy = parse_policy({"profiles": [pid], "profile": {pid: {"confirmed_by": "C. Officer"}}})
    (p,) = policy.profiles
    assert p.confirmed_by == "C. Officer"
    assert p.overrides == ()
    assert p.threshold == builtin_profile(pid).threshold


def test_jp_loads_only_with_threshold_and_currency() -> None:
    assert not builtin_profile("JP-APTCP").loadable
    with pytest.raises(ConfigError, match="threshold and currency must be configured"):
        Policy(profiles=(builtin_profile("JP-APTCP"),))
    policy = parse_policy(
        {
            "profiles": ["JP-APTCP"],
            "profile": {
                "JP-APTCP": {"confirmed_by": "C. Officer", "threshold": "150000", "currency": "JPY"}
            },
        }
    )
    (p,) = policy.profiles
    assert (p.threshold, p.currency) == (Decimal(150000), "JPY")
    assert p.overrides == ("threshold", "currency")
    assert p.label.endswith("+config")


def test_default_policy_is_fatf_alone() -> None:
    assert parse_policy(None) == Policy.default()
    assert parse_policy({}) == Policy.default()
    assert [p.id for p in Policy.default().profiles] == ["FATF-R16"]


def test_comparison_edges() -> None:
    assert GE.meets(Decimal("1000"), Decimal("1000"))
    assert not GT.meets(Decimal("1000"), Decimal("1000"))
    assert GT.meets(Decimal("1000.01"), Decimal("1000"))
    assert not GE.meets(Decimal("999.99"), Decimal("1000"))
