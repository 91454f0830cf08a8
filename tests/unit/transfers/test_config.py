"""The [policy] table: the schema, rule precedence, and every error message."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from decimal import Decimal

import pytest

from travelgate._pb.trisa.api.v1beta1 import errors_pb2
from travelgate.errors import ConfigError
from travelgate.transfers import (
    Action,
    Condition,
    CounterpartyKind,
    Decision,
    Direction,
    EuMode,
    HoldState,
    Reason,
    evaluate,
    parse_policy,
)

from ._build import facts, natural, payload, value

C = errors_pb2.Error
KNOWN = (
    "FATF-R16, EU-TFR, US-BSA, UK-MLR, SG-PSN02, CH-FINMA, CA-PCMLTFR, HK-AMLO, KR-SFTI,"
    " TR-MASAK, JP-APTCP"
)
POLICY_KEYS = (
    "profiles, account_from_transaction, eu_outbound_mode, eu_inbound_mode, valuation_max_age,"
    " fx, name_mismatch, repeat_incomplete_limit, profile, counterparty, rules"
)
PROFILE_KEYS = (
    "confirmed_by, threshold, currency, comparison, below, full, self_hosted_evidence_above,"
    " release_level, inbound_missing, reply_timeout, max_wait, timeout_outbound,"
    " timeout_inbound, retention, retention_basis"
)
WHEN_KEYS = (
    "direction, counterparty, counterparty_name, in_directory, payload_sufficient,"
    " evidence_recorded, applicable, asset, network, value_above, value_at_least, value_below,"
    " currency"
)
RULES = "R-CA | R-EU | R-FATF | R-MIN | R-SG | R-US"
DURATION_HINT = '(use e.g. "30s", "90m", "24h", "5y")'

EXAMPLE = {
    "profiles": ["FATF-R16", "EU-TFR"],
    "account_from_transaction": True,
    "fx": {"EUR": "1.08", "SGD": "0.74"},
    "counterparty": {"bob.example": {"reply_timeout": "2h"}},
    "rules": [
        {
            "name": "big-unhosted",
            "when": {"counterparty": "self-hosted", "value_above": "1000", "currency": "USD"},
            "action": "review",
        },
        {"name": "not-in-directory", "when": {"in_directory": False}, "action": "review"},
        {
            "name": "insufficient-payload",
            "when": {"payload_sufficient": False, "direction": "inbound"},
            "action": "reject",
            "code": "MISSING_FIELDS",
        },
    ],
}


def rule(**fields: object) -> dict[str, object]:
    return {"name": "r", "when": {}, "action": "review", **fields}


def test_example_parses() -> None:
    policy = parse_policy(EXAMPLE)
    assert [p.id for p in policy.profiles] == ["FATF-R16", "EU-TFR"]
    assert dict(policy.fx) == {"EUR": Decimal("1.08"), "SGD": Decimal("0.74")}
    assert policy.counterparty_settings("BOB.example") is not None
    assert policy.counterparty_settings(None) is None
    big, directory, insufficient = policy.rules
    assert big.id == "rule:big-unhosted"
    assert big.when == Condition(
        counterparty=frozenset({CounterpartyKind.SELF_HOSTED}),
        value_above=Decimal(1000),
        currency="USD",
    )
    assert big.code is None
    assert big.reason == "config rule big-unhosted"
    assert directory.when == Condition(in_directory=False)
    assert insufficient.action is Action.REJECT
    assert insufficient.code == C.MISSING_FIELDS
    assert insufficient.when.direction is Direction.INBOUND


TOML = """
[policy]
profiles = ["FATF-R16"]
account_from_transaction = true
fx = { EUR = "1.08", SGD = "0.74" }
[policy.counterparty."bob.example"]
reply_timeout = "2h"
[[policy.rules]]
name = "big-unhosted"
when = { counterparty = "self-hosted", value_above = "1000", currency = "USD" }
action = "review"
[[policy.rules]]
name = "not-in-directory"
when = { in_directory = false }
action = "review"
[[policy.rules]]
name = "insufficient-payload"
when = { payload_sufficient = false }
action = "reject"
code = "MISSING_FIELDS"
"""


def test_brief_toml_through_tomllib() -> None:
    policy = parse_policy(tomllib.loads(TOML)["policy"])
    assert [r.name for r in policy.rules] == [
        "big-unhosted",
        "not-in-directory",
        "insufficient-payload",
    ]
    assert policy.counterparties["bob.example"].reply_timeout == timedelta(hours=2)
    assert policy.rules[2].code == C.MISSING_FIELDS


def test_all_settings_parse() -> None:
    policy = parse_policy(
        {
            "profiles": ["SG-PSN02"],
            "account_from_transaction": False,
            "eu_outbound_mode": "literal",
            "eu_inbound_mode": "any-one",
            "valuation_max_age": "1m30s",
            "name_mismatch": "reject",
            "repeat_incomplete_limit": 2,
            "profile": {
                "SG-PSN02": {
                    "confirmed_by": "  C. Officer ",
                    "threshold": 2000,
                    "currency": "sgd",
                    "comparison": ">=",
                    "below": "none",
                    "full": "R-FATF",
                    "self_hosted_evidence_above": "0",
                    "release_level": "sent",
                    "inbound_missing": "REVIEW",
                    "reply_timeout": "1h",
                    "max_wait": "2h",
                    "timeout_outbound": "EXPIRE",
                    "timeout_inbound": "REJECT_OR_RETURN",
                    "retention": "6y",
                    "retention_basis": "n/a",
                }
            },
            "rules": [
                {
                    "name": "x",
                    "when": {
                        "direction": "inbound",
                        "counterparty": ["vasp", "unknown"],
                        "counterparty_name": ["Bob.Example"],
                        "asset": "btc",
                        "network": ["bitcoin"],
                        "value_at_least": "5",
                        "value_below": "10",
                        "currency": "eur",
                        "applicable": True,
                        "evidence_recorded": False,
                    },
                    "action": "repair",
                    "code": 155,
                    "reason": "try again",
                }
            ],
        }
    )
    (p,) = policy.profiles
    assert p.confirmed_by == "C. Officer"
    assert (p.threshold, p.currency, p.comparison.value, p.below, p.full) == (
        Decimal(2000),
        "SGD",
        ">=",
        None,
        "R-FATF",
    )
    assert p.self_hosted_evidence_above == 0
    assert (p.release_level.value, p.inbound_missing.value) == ("SENT", "REVIEW")
    assert (p.reply_timeout, p.max_wait) == (timedelta(hours=1), timedelta(hours=2))
    assert (p.timeout_outbound.value, p.timeout_inbound.value) == ("EXPIRE", "REJECT_OR_RETURN")
    assert p.overrides[0] == "threshold"
    assert "confirmed_by" not in p.overrides
    assert not policy.account_from_transaction
    assert (policy.eu_outbound_mode, policy.eu_inbound_mode) == (EuMode.LITERAL, EuMode.ANY_ONE)
    assert policy.valuation_max_age == timedelta(seconds=90)
    assert policy.name_mismatch is Action.REJECT
    assert policy.repeat_incomplete_limit == 2
    (r,) = policy.rules
    assert r.when.counterparty_name == frozenset({"bob.example"})
    assert r.when.asset == frozenset({"BTC"})
    assert r.when.network == frozenset({"BITCOIN"})
    assert r.when.currency == "EUR"
    assert (r.action, r.code, r.reason) == (Action.REPAIR, C.VALIDATION_ERROR, "try again")
    assert parse_policy({"rules": [rule(action="repair", when={"direction": "inbound"})]}).rules[
        0
    ].code == (C.INCOMPLETE_IDENTITY)
    assert parse_policy({"rules": [rule(action="reject")]}).rules[0].code == C.REJECTED


def test_evidence_none_override() -> None:
    policy = parse_policy(
        {"profiles": ["EU-TFR"], "profile": {"EU-TFR": {"self_hosted_evidence_above": "none"}}}
    )
    assert policy.profiles[0].self_hosted_evidence_above is None


ERRORS: list[tuple[object, str]] = [
    # the table itself
    (["x"], "policy: expected a table, got array"),
    ({1: 2}, "policy: keys must be strings, got 1"),
    ({"profile_s": []}, f"policy.profile_s: unknown key (expected one of: {POLICY_KEYS})"),
    # profiles
    ({"profiles": "FATF-R16"}, "policy.profiles: expected an array of profile ids, got string"),
    ({"profiles": []}, "policy.profiles: at least one profile must be active"),
    ({"profiles": ["FATF"]}, f'policy.profiles[0]: unknown profile "FATF" (known: {KNOWN})'),
    ({"profiles": [7]}, f"policy.profiles[0]: unknown profile 7 (known: {KNOWN})"),
    (
        {"profiles": ["FATF-R16", "FATF-R16"]},
        "policy.profiles[1]: profile FATF-R16 is listed twice",
    ),
    (
        {"profiles": ["FATF-R16", "UK-MLR"]},
        "policy.profiles[1]: profile UK-MLR ships disabled (confidence Low): set"
        " policy.profile.UK-MLR.confirmed_by to record who confirmed its values",
    ),
    (
        {"profiles": ["SG-PSN02"], "profile": {"SG-PSN02": {"threshold": "1"}}},
        "policy.profiles[0]: profile SG-PSN02 ships disabled (confidence Medium): set"
        " policy.profile.SG-PSN02.confirmed_by to record who confirmed its values",
    ),
    (
        {"profiles": ["JP-APTCP"], "profile": {"JP-APTCP": {"confirmed_by": "me"}}},
        "policy.profile.JP-APTCP.threshold: required: JP-APTCP ships without a threshold"
        " (built-in profile table)",
    ),
    (
        {
            "profiles": ["JP-APTCP"],
            "profile": {"JP-APTCP": {"confirmed_by": "me", "threshold": "1000"}},
        },
        "policy.profile.JP-APTCP.currency: required: JP-APTCP ships without a threshold"
        " currency (built-in profile table)",
    ),
    ({"profile": []}, "policy.profile: expected a table, got array"),
    ({"profile": {"XX": {}}}, f"policy.profile.XX: unknown profile (known: {KNOWN})"),
    (
        {"profile": {"EU-TFR": {}}},
        "policy.profile.EU-TFR: profile is not active: add it to policy.profiles",
    ),
    ({"profile": {"FATF-R16": "x"}}, "policy.profile.FATF-R16: expected a table, got string"),
    (
        {"profile": {"FATF-R16": {"treshold": "1"}}},
        f"policy.profile.FATF-R16.treshold: unknown key (expected one of: {PROFILE_KEYS})",
    ),
    (
        {"profile": {"FATF-R16": {"threshold": "abc"}}},
        'policy.profile.FATF-R16.threshold: not a decimal: "abc"',
    ),
    (
        {"profile": {"FATF-R16": {"threshold": 1000.5}}},
        "policy.profile.FATF-R16.threshold: not a decimal: 1000.5 (write amounts as quoted"
        ' strings, e.g. "1000.50")',
    ),
    (
        {"profile": {"FATF-R16": {"threshold": "-1"}}},
        'policy.profile.FATF-R16.threshold: must not be negative: "-1"',
    ),
    (
        {"profile": {"FATF-R16": {"threshold": "Infinity"}}},
        'policy.profile.FATF-R16.threshold: not a decimal: "Infinity"',
    ),
    (
        {"profile": {"FATF-R16": {"threshold": True}}},
        "policy.profile.FATF-R16.threshold: not a decimal: true",
    ),
    (
        {"profile": {"FATF-R16": {"currency": "dollars"}}},
        'policy.profile.FATF-R16.currency: not an ISO 4217 currency code: "dollars"',
    ),
    (
        {"profile": {"FATF-R16": {"comparison": "=>"}}},
        'policy.profile.FATF-R16.comparison: must be one of >= | >, got "=>"',
    ),
    (
        {"profile": {"FATF-R16": {"below": "R-XX"}}},
        f'policy.profile.FATF-R16.below: must be one of {RULES} | none, got "R-XX"',
    ),
    (
        {"profile": {"FATF-R16": {"full": "none"}}},
        f'policy.profile.FATF-R16.full: must be one of {RULES}, got "none"',
    ),
    (
        {"profile": {"FATF-R16": {"self_hosted_evidence_above": "never"}}},
        'policy.profile.FATF-R16.self_hosted_evidence_above: not a decimal: "never"',
    ),
    (
        {"profile": {"FATF-R16": {"release_level": "RECEIVED"}}},
        'policy.profile.FATF-R16.release_level: must be one of ACCEPTED | SENT, got "RECEIVED"',
    ),
    (
        {"profile": {"FATF-R16": {"inbound_missing": "DROP"}}},
        "policy.profile.FATF-R16.inbound_missing: must be one of HOLD | REVIEW | REJECT,"
        ' got "DROP"',
    ),
    (
        {"profile": {"FATF-R16": {"timeout_outbound": "CLEAR"}}},
        'policy.profile.FATF-R16.timeout_outbound: must be one of REVIEW | EXPIRE, got "CLEAR"',
    ),
    (
        {"profile": {"FATF-R16": {"timeout_inbound": "ACCEPT"}}},
        "policy.profile.FATF-R16.timeout_inbound: must be one of REJECT_OR_RETURN | REVIEW,"
        ' got "ACCEPT"',
    ),
    (
        {"profile": {"FATF-R16": {"reply_timeout": "1 day"}}},
        f'policy.profile.FATF-R16.reply_timeout: not a duration: "1 day" {DURATION_HINT}',
    ),
    (
        {"profile": {"FATF-R16": {"reply_timeout": 3600}}},
        f"policy.profile.FATF-R16.reply_timeout: not a duration: 3600 {DURATION_HINT}",
    ),
    (
        {"profile": {"FATF-R16": {"reply_timeout": "0s"}}},
        'policy.profile.FATF-R16.reply_timeout: must be longer than zero: "0s"',
    ),
    (
        {"profile": {"FATF-R16": {"reply_timeout": "80h"}}},
        "policy.profile.FATF-R16.max_wait: must not be shorter than reply_timeout",
    ),
    (
        {"profile": {"FATF-R16": {"retention": "4y"}}},
        "policy.profile.FATF-R16.retention: must not be shorter than the built-in retention"
        " (5y): retention is a legal minimum",
    ),
    (
        {"profiles": ["EU-TFR"], "profile": {"EU-TFR": {"retention": "6y"}}},
        "policy.profile.EU-TFR.retention: extending EU-TFR beyond its built-in retention needs"
        " policy.profile.EU-TFR.retention_basis citing the national law (EU TFR Art. 26)",
    ),
    (
        {
            "profiles": ["EU-TFR"],
            "profile": {"EU-TFR": {"retention": "11y", "retention_basis": "law"}},
        },
        "policy.profile.EU-TFR.retention: national law may add at most 5 further years"
        " (EU TFR 2023/1113 Art. 26)",
    ),
    (
        {"profile": {"FATF-R16": {"confirmed_by": " "}}},
        "policy.profile.FATF-R16.confirmed_by: must not be empty",
    ),
    (
        {"profile": {"FATF-R16": {"retention_basis": 5}}},
        "policy.profile.FATF-R16.retention_basis: expected a string, got integer",
    ),
    # simple settings
    (
        {"account_from_transaction": "yes"},
        'policy.account_from_transaction: expected true or false, got "yes"',
    ),
    (
        {"eu_outbound_mode": "strict"},
        'policy.eu_outbound_mode: must be one of literal | address-plus | any-one, got "strict"',
    ),
    (
        {"eu_inbound_mode": "LITERAL"},
        'policy.eu_inbound_mode: must be one of literal | address-plus | any-one, got "LITERAL"',
    ),
    (
        {"valuation_max_age": "5 minutes"},
        f'policy.valuation_max_age: not a duration: "5 minutes" {DURATION_HINT}',
    ),
    (
        {"name_mismatch": "accept"},
        'policy.name_mismatch: must be one of review | reject, got "accept"',
    ),
    ({"name_mismatch": 1}, "policy.name_mismatch: must be one of review | reject, got 1"),
    (
        {"name_mismatch": "ignore"},
        'policy.name_mismatch: must be one of review | reject, got "ignore"',
    ),
    (
        {"repeat_incomplete_limit": 0},
        "policy.repeat_incomplete_limit: expected a positive integer, got 0",
    ),
    (
        {"repeat_incomplete_limit": "3"},
        'policy.repeat_incomplete_limit: expected a positive integer, got "3"',
    ),
    # fx
    ({"fx": ["EUR"]}, "policy.fx: expected a table, got array"),
    ({"fx": {"EURO": "1.1"}}, 'policy.fx.EURO: not an ISO 4217 currency code: "EURO"'),
    ({"fx": {"eur": "1.1"}}, "policy.fx.eur: currency codes are written in upper case"),
    ({"fx": {"EUR": "abc"}}, 'policy.fx.EUR: not a decimal: "abc"'),
    (
        {"fx": {"EUR": 1.08}},
        'policy.fx.EUR: not a decimal: 1.08 (write amounts as quoted strings, e.g. "1000.50")',
    ),
    ({"fx": {"EUR": "0"}}, 'policy.fx.EUR: must be greater than zero: "0"'),
    ({"fx": {"USD": "1.1"}}, "policy.fx.USD: rates are in USD, so USD must be 1"),
    # counterparty
    ({"counterparty": "bob"}, "policy.counterparty: expected a table, got string"),
    (
        {"counterparty": {"bob.example": 2}},
        'policy.counterparty."bob.example": expected a table, got integer',
    ),
    (
        {"counterparty": {"bob.example": {"timeout": "1h"}}},
        'policy.counterparty."bob.example".timeout: unknown key (expected one of: reply_timeout,'
        " max_wait)",
    ),
    ({"counterparty": {" ": {}}}, 'policy.counterparty." ": counterparty name must not be empty'),
    (
        {"counterparty": {"bob.example": {}, "BOB.example": {}}},
        'policy.counterparty."BOB.example": listed twice (names are case-insensitive)',
    ),
    (
        {"counterparty": {"bob.example": {"reply_timeout": "2x"}}},
        f'policy.counterparty."bob.example".reply_timeout: not a duration: "2x" {DURATION_HINT}',
    ),
    (
        {"counterparty": {"bob.example": {"reply_timeout": "73h"}}},
        'policy.counterparty."bob.example".reply_timeout: longer than the maximum wait of the'
        " active profiles; set max_wait too",
    ),
    (
        {"counterparty": {"bob.example": {"reply_timeout": "3h", "max_wait": "2h"}}},
        'policy.counterparty."bob.example".reply_timeout: longer than the maximum wait',
    ),
    # rules
    (
        {"rules": {"name": "x"}},
        "policy.rules: expected an array of tables ([[policy.rules]]), got table",
    ),
    ({"rules": ["x"]}, "policy.rules[0]: expected a table, got string"),
    (
        {"rules": [rule(then="review")]},
        "policy.rules[0].then: unknown key (expected one of: name, when, action, code, reason)",
    ),
    ({"rules": [{"when": {}, "action": "review"}]}, "policy.rules[0].name: required"),
    ({"rules": [{"name": "x", "action": "review"}]}, "policy.rules[0].when: required"),
    ({"rules": [{"name": "x", "when": {}}]}, "policy.rules[0].action: required"),
    ({"rules": [rule(name="")]}, "policy.rules[0].name: must not be empty"),
    ({"rules": [rule(), rule()]}, 'policy.rules[1].name: duplicate rule name "r"'),
    ({"rules": [rule(when="always")]}, "policy.rules[0].when: expected a table, got string"),
    (
        {"rules": [rule(), rule(name="s", when={"value_abve": "1"})]},
        f"policy.rules[1].when.value_abve: unknown key (expected one of: {WHEN_KEYS})",
    ),
    (
        {"rules": [rule(), rule(name="s", when={"value_above": "abc", "currency": "USD"})]},
        'policy.rules[1].when.value_above: not a decimal: "abc"',
    ),
    (
        {"rules": [rule(when={"value_above": "1000"})]},
        "policy.rules[0].when.currency: required with value_above, value_at_least or value_below",
    ),
    (
        {"rules": [rule(when={"currency": "USD"})]},
        "policy.rules[0].when.currency: only meaningful with value_above, value_at_least or"
        " value_below",
    ),
    (
        {"rules": [rule(when={"value_above": "1", "value_at_least": "1", "currency": "USD"})]},
        "policy.rules[0].when.value_at_least: use either value_above or value_at_least",
    ),
    (
        {"rules": [rule(when={"value_below": "1", "currency": "US"})]},
        'policy.rules[0].when.currency: not an ISO 4217 currency code: "US"',
    ),
    (
        {"rules": [rule(when={"direction": "out"})]},
        'policy.rules[0].when.direction: must be one of outbound | inbound, got "out"',
    ),
    (
        {"rules": [rule(when={"counterparty": "unhosted"})]},
        'policy.rules[0].when.counterparty: unknown counterparty kind "unhosted" (use vasp |'
        " self-hosted | unknown)",
    ),
    (
        {"rules": [rule(when={"counterparty": []})]},
        "policy.rules[0].when.counterparty: expected a string or a non-empty array of strings,"
        " got an array",
    ),
    (
        {"rules": [rule(when={"counterparty_name": ["bob", 3]})]},
        "policy.rules[0].when.counterparty_name[1]: expected a string, got integer",
    ),
    (
        {"rules": [rule(when={"in_directory": "no"})]},
        'policy.rules[0].when.in_directory: expected true or false, got "no"',
    ),
    (
        {"rules": [rule(when={"payload_sufficient": 0})]},
        "policy.rules[0].when.payload_sufficient: expected true or false, got 0",
    ),
    (
        {"rules": [rule(action="hold")]},
        "policy.rules[0].action: must be one of send | accept | clear | review | reject |"
        ' repair | block, got "hold"',
    ),
    (
        {"rules": [rule(action="send")]},
        'policy.rules[0].action: must be one of review | reject | repair | block, got "send"'
        " (rules may stop or slow a transfer, never let one through)",
    ),
    (
        {"rules": [rule(action="repair")]},
        'policy.rules[0].action: "repair" applies to inbound transfers only: add direction ='
        ' "inbound" to policy.rules[0].when',
    ),
    (
        {"rules": [rule(action="block", when={"direction": "inbound"})]},
        'policy.rules[0].action: "block" applies to outbound transfers only: add direction ='
        ' "outbound" to policy.rules[0].when',
    ),
    (
        {"rules": [rule(code="REJECTED")]},
        "policy.rules[0].code: only meaningful with action reject or repair",
    ),
    (
        {"rules": [rule(action="reject", code="MISSING_FIELD")]},
        'policy.rules[0].code: not a TRISA error code: "MISSING_FIELD"',
    ),
    (
        {"rules": [rule(action="reject", code=77)]},
        "policy.rules[0].code: not a TRISA error code: 77",
    ),
    (
        {"rules": [rule(action="reject", code="INVALID_KEY")]},
        'policy.rules[0].code: "INVALID_KEY" is not a compliance code: use a rejection (50-99)'
        " or a repairable code (150-199)",
    ),
    (
        {"rules": [rule(action="reject", code=True)]},
        "policy.rules[0].code: not a TRISA error code: true",
    ),
    ({"rules": [rule(reason="")]}, "policy.rules[0].reason: must not be empty"),
]


@pytest.mark.parametrize(("table", "message"), ERRORS, ids=[m.split(":")[0] for _, m in ERRORS])
def test_config_errors_name_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_policy(table)
    assert str(info.value) == message


def test_code_aliases_accepted() -> None:
    policy = parse_policy({"rules": [rule(action="reject", code="beneficiary_name_unmatched")]})
    assert policy.rules[0].code == C.UNKOWN_BENEFICIARY


def test_custom_path_prefix() -> None:
    with pytest.raises(ConfigError, match=r"^cfg\.profiles: at least one"):
        parse_policy({"profiles": []}, path="cfg")


# -- rules at work --------------------------------------------------------------------------------


def test_big_unhosted_rule() -> None:
    policy = parse_policy(EXAMPLE)
    identity = payload(bvasp=False)

    def unhosted(amount: str, currency: str = "USD") -> Decision:
        f = facts(
            identity=identity,
            valuation=value(amount, currency),
            kind="self-hosted",
            counterparty=None,
            in_directory=False,
        )
        return evaluate(f, policy)

    over = unhosted("1000.01")
    assert over.action is Action.REVIEW
    assert over.rule == "rule:big-unhosted"
    assert over.reason == "config rule big-unhosted"
    assert over.reasons[0] == "config rule big-unhosted"
    assert Reason.COMPLETE in over.reasons  # what the profiles said, kept for the audit
    at = unhosted("1000")
    assert (at.action, at.rule) == (Action.REVIEW, "rule:not-in-directory")  # next rule wins
    eur = unhosted("926", "EUR")
    assert eur.rule == "rule:big-unhosted"  # 926 EUR = 1000.08 USD


def test_first_matching_rule_wins() -> None:
    policy = parse_policy(
        {
            "rules": [
                rule(name="first", when={"in_directory": False}, reason="one"),
                rule(name="second", when={"in_directory": False}, action="reject"),
            ]
        }
    )
    decision = evaluate(facts(in_directory=False), policy)
    assert (decision.rule, decision.reason, decision.action) == ("rule:first", "one", Action.REVIEW)
    assert decision.reasons == ("one", Reason.COUNTERPARTY_UNREACHABLE)
    untouched = evaluate(facts(), policy)
    assert untouched.rule == "profile:FATF-R16"


def test_insufficient_payload_rule_rejects_with_missing_fields() -> None:
    policy = parse_policy(EXAMPLE)
    thin = payload([natural()])
    decision = evaluate(facts("inbound", identity=thin, valuation=value("5000")), policy)
    assert decision.action is Action.REJECT
    assert decision.rule == "rule:insufficient-payload"
    assert (decision.error_code, decision.retry) == (C.MISSING_FIELDS, False)
    assert Reason.ORIGINATOR_DATA_MISSING in decision.reasons
    assert decision.missing  # still reported


def test_rule_without_direction_applies_outbound_too() -> None:
    policy = parse_policy({"rules": [rule(action="reject", when={"payload_sufficient": False})]})
    decision = evaluate(facts(identity=payload([natural()]), valuation=value("5000")), policy)
    assert decision.action is Action.REJECT
    assert decision.target_state is HoldState.REJECTED
    assert decision.error_code is None  # nothing travels outbound


def test_block_and_repair_rules() -> None:
    policy = parse_policy(
        {
            "rules": [
                rule(name="b", action="block", when={"direction": "outbound", "asset": "xmr"}),
                rule(
                    name="p", action="repair", when={"direction": "inbound", "network": "BITCOIN"}
                ),
            ]
        }
    )
    assert evaluate(facts(), policy).action is Action.SEND
    inbound = evaluate(facts("inbound"), policy)
    assert (inbound.action, inbound.error_code, inbound.retry) == (
        Action.REPAIR,
        C.INCOMPLETE_IDENTITY,
        True,
    )


def test_rules_by_counterparty_name_and_applicability() -> None:
    policy = parse_policy(
        {
            "profiles": ["US-BSA"],
            "rules": [
                rule(name="bob", when={"counterparty_name": "BOB.example"}),
                rule(name="na", when={"applicable": False}, reason="below threshold"),
            ],
        }
    )
    assert evaluate(facts(), policy).rule == "rule:bob"
    other = evaluate(facts(counterparty="carol.example"), policy)
    assert (other.rule, other.reason) == ("rule:na", "below threshold")
    anonymous = evaluate(facts(counterparty=None, valuation=value("5000")), policy)
    assert anonymous.rule.startswith("profile:")


@pytest.mark.parametrize(
    ("when", "amount", "hit"),
    [
        ({"value_above": "1000"}, "1000", False),
        ({"value_above": "1000"}, "1000.01", True),
        ({"value_at_least": "1000"}, "1000", True),
        ({"value_at_least": "1000"}, "999.99", False),
        ({"value_below": "1000"}, "999.99", True),
        ({"value_below": "1000"}, "1000", False),
        ({"value_at_least": "10", "value_below": "20"}, "15", True),
        ({"value_at_least": "10", "value_below": "20"}, "20", False),
    ],
)
def test_value_conditions(when: dict[str, str], amount: str, hit: bool) -> None:
    policy = parse_policy({"rules": [rule(when={**when, "currency": "USD"})]})
    decision = evaluate(facts(valuation=value(amount)), policy)
    assert (decision.rule == "rule:r") is hit


def test_value_condition_with_missing_valuation_fails_safe() -> None:
    above = parse_policy({"rules": [rule(when={"value_above": "1000000", "currency": "USD"})]})
    decision = evaluate(facts(no_valuation=True), above)
    assert decision.rule == "rule:r"
    assert Reason.VALUATION_MISSING in decision.reasons
    below = parse_policy({"rules": [rule(when={"value_below": "1", "currency": "USD"})]})
    assert evaluate(facts(no_valuation=True), below).rule != "rule:r"
    # A currency without a rate is as unknown as a missing value.
    jpy = parse_policy({"rules": [rule(when={"value_above": "1", "currency": "JPY"})]})
    assert evaluate(facts(), jpy).rule == "rule:r"
