"""The `[policy]` table of the TOML configuration, validated into a frozen `Policy`.

The lead parses the file with `tomllib` and passes the `[policy]` table (a plain dict).
Every mistake raises `travelgate.errors.ConfigError` whose message starts with the key path,
e.g. `policy.rules[1].when.value_above: not a decimal: "abc"`. Unknown keys are errors too:
a misspelt key must not silently weaken a compliance setting.

Schema (every key optional; defaults in brackets)::

    [policy]
    profiles = ["FATF-R16"]            # active built-in profiles, in order [["FATF-R16"]]
    account_from_transaction = true    # on-chain addresses satisfy ACCOUNT (O5) [true]
    eu_outbound_mode = "address-plus"  # TFR 14(1)(d) reading: literal|address-plus|any-one
    eu_inbound_mode = "literal"        #   (EU TFR Art. 14(1)(d), O1) [address-plus / literal]
    valuation_max_age = "5m"           # older valuations count as missing ["5m"]
    fx = { EUR = "1.08", SGD = "0.74" }  # value of 1 unit in USD (decimal strings)
    name_mismatch = "review"           # inbound name mismatch: review | reject (code 54)
    repeat_incomplete_limit = 3        # EU: warnings before a counterparty is rejected [off]

    [policy.profile."SG-PSN02"]        # per-profile settings; only for active profiles
    confirmed_by = "J. Doe, compliance, 2025-01-10"  # required to activate a disabled profile
    # overrides, recorded in Profile.overrides: threshold, currency, comparison (">=" | ">"),
    # below (rule id | "none"), full, self_hosted_evidence_above (decimal | "none"),
    # release_level (ACCEPTED | SENT), inbound_missing (HOLD | REVIEW | REJECT),
    # reply_timeout, max_wait, timeout_outbound (REVIEW | EXPIRE),
    # timeout_inbound (REJECT_OR_RETURN | REVIEW), retention (only longer than built-in),
    # retention_basis (national law; required to extend a delete-after-retention profile,
    # at most twice its built-in retention)

    [policy.profile."JP-APTCP"]        # ships without values: threshold and currency required
    confirmed_by = "..."
    threshold = "150000"
    currency = "JPY"

    [policy.counterparty."bob.example"]  # by counterparty name, case-insensitive
    reply_timeout = "2h"               # replaces the profiles' reply timeout
    max_wait = "24h"                   # replaces the profiles' maximum wait

    [[policy.rules]]                   # evaluated in order; the first match decides
    name = "big-unhosted"              # unique; recorded as rule "rule:big-unhosted"
    when = { counterparty = "self-hosted", value_above = "1000", currency = "USD" }
    action = "review"                  # review | reject | repair (inbound) | block (outbound)
    code = "MISSING_FIELDS"            # reject/repair only: TRISA code name or number,
                                       # 50-99 or 150-199 [REJECTED / INCOMPLETE_IDENTITY]
    reason = "large unhosted withdrawal"   # text recorded as the decision reason

`when` keys (all given keys must hold): `direction` ("outbound" | "inbound"),
`counterparty` (kind or list of kinds: "vasp", "self-hosted", "unknown"),
`counterparty_name` (name or list), `in_directory`, `payload_sufficient`,
`evidence_recorded`, `applicable` (booleans), `asset`, `network` (ticker or list,
case-insensitive), `value_above` (>) or `value_at_least` (>=), `value_below` (<), with
`currency` (required with any value key). A missing or stale valuation matches
`value_above`/`value_at_least` and never `value_below` (fail safe). `when = {}` matches
every transfer. `payload_sufficient` is false when the payload misses data an applicable
profile requires (outbound: our own customer's data). `code` only travels inbound: an
outbound reject just stops the withdrawal.

Rules can only stop or slow a transfer (review, reject, repair, block), never let one
through that the profiles stop: the profiles encode legal duties, rules add risk controls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from types import MappingProxyType

from travelgate._pb.trisa.api.v1beta1 import errors_pb2
from travelgate.transfers._decision import Action
from travelgate.transfers._facts import CounterpartyKind, Direction
from travelgate.transfers._policy import Condition, CounterpartySettings, Policy, PolicyRule
from travelgate.transfers._profiles import (
    BUILTIN_PROFILES,
    Comparison,
    InboundMissing,
    Profile,
    ReleaseLevel,
    TimeoutInbound,
    TimeoutOutbound,
    builtin_profile,
)
from travelgate.transfers._read import (
    fail,
    kind_of,
    read_bool,
    read_currency,
    read_decimal,
    read_duration,
    read_enum,
    read_str,
    read_str_set,
    read_table,
    show,
    sub,
)
from travelgate.transfers._rules import RULE_IDS, EuMode

__all__ = ["parse_policy"]

_Code = errors_pb2.Error.Code
_CODE_NAMES = frozenset(_Code.keys())
_EMPTY: Mapping[str, object] = MappingProxyType({})


# -- profiles --------------------------------------------------------------------------------

_PROFILE_KEYS = (
    "confirmed_by",
    "threshold",
    "currency",
    "comparison",
    "below",
    "full",
    "self_hosted_evidence_above",
    "release_level",
    "inbound_missing",
    "reply_timeout",
    "max_wait",
    "timeout_outbound",
    "timeout_inbound",
    "retention",
    "retention_basis",
)
_KNOWN_PROFILES = tuple(p.id for p in BUILTIN_PROFILES)


def _rule_id(value: object, path: str, *, none_ok: bool) -> str | None:
    if none_ok and value == "none":
        return None
    if isinstance(value, str) and value in RULE_IDS:
        return value
    choices = sorted(RULE_IDS) + (["none"] if none_ok else [])
    raise fail(path, f"must be one of {' | '.join(choices)}, got {show(value)}")


def _configure_profile(
    base: Profile, table: Mapping[str, object], path: str, active_path: str
) -> Profile:
    changes: dict[str, object] = {}
    overrides: list[str] = []
    for key, value in table.items():
        where = sub(path, key)
        if key == "confirmed_by":
            changes[key] = read_str(value, where)
            continue
        if key == "retention_basis":
            changes[key] = read_str(value, where)
            continue
        overrides.append(key)
        if key in ("threshold",):
            changes[key] = read_decimal(value, where)
        elif key == "self_hosted_evidence_above":
            changes[key] = None if value == "none" else read_decimal(value, where)
        elif key == "currency":
            changes[key] = read_currency(value, where)
        elif key == "comparison":
            changes[key] = read_enum(value, Comparison, where)
        elif key == "below":
            changes[key] = _rule_id(value, where, none_ok=True)
        elif key == "full":
            changes[key] = _rule_id(value, where, none_ok=False)
        elif key == "release_level":
            changes[key] = read_enum(value, ReleaseLevel, where, upper=True)
        elif key == "inbound_missing":
            changes[key] = read_enum(value, InboundMissing, where, upper=True)
        elif key == "timeout_outbound":
            changes[key] = read_enum(value, TimeoutOutbound, where, upper=True)
        elif key == "timeout_inbound":
            changes[key] = read_enum(value, TimeoutInbound, where, upper=True)
        else:  # reply_timeout, max_wait, retention
            changes[key] = read_duration(value, where)
    profile = replace(base, overrides=tuple(overrides), **changes)  # type: ignore[arg-type]

    if not profile.enabled and not profile.confirmed_by:
        raise fail(
            active_path,
            f"profile {profile.id} ships disabled (confidence {profile.confidence.value}):"
            f" set {sub(path, 'confirmed_by')} to record who confirmed its values",
        )
    if profile.threshold is None:
        raise fail(
            sub(path, "threshold"),
            f"required: {profile.id} ships without a threshold (built-in profile table)",
        )
    if not profile.currency:
        raise fail(
            sub(path, "currency"),
            f"required: {profile.id} ships without a threshold currency (built-in profile table)",
        )
    if profile.max_wait < profile.reply_timeout:
        raise fail(sub(path, "max_wait"), "must not be shorter than reply_timeout")
    if profile.retention < base.retention:
        raise fail(
            sub(path, "retention"),
            "must not be shorter than the built-in retention (5y): retention is a legal minimum",
        )
    if profile.delete_after_retention and profile.retention > base.retention:
        if not profile.retention_basis:
            raise fail(
                sub(path, "retention"),
                f"extending {profile.id} beyond its built-in retention needs"
                f" {sub(path, 'retention_basis')} citing the national law (EU TFR Art. 26)",
            )
        if profile.retention > 2 * base.retention:
            raise fail(
                sub(path, "retention"),
                "national law may add at most 5 further years (EU TFR 2023/1113 Art. 26)",
            )
    return profile


def _profiles(policy: Mapping[str, object], path: str) -> tuple[Profile, ...]:
    names_path = sub(path, "profiles")
    raw_names = policy.get("profiles", ["FATF-R16"])
    if not isinstance(raw_names, list):
        raise fail(names_path, f"expected an array of profile ids, got {kind_of(raw_names)}")
    if not raw_names:
        raise fail(names_path, "at least one profile must be active")
    settings_path = sub(path, "profile")
    settings = read_table(policy.get("profile", _EMPTY), settings_path)
    names: list[str] = []
    for index, name in enumerate(raw_names):
        where = f"{names_path}[{index}]"
        if not isinstance(name, str) or name not in _KNOWN_PROFILES:
            raise fail(where, f"unknown profile {show(name)} (known: {', '.join(_KNOWN_PROFILES)})")
        if name in names:
            raise fail(where, f"profile {name} is listed twice")
        names.append(name)
    for name in settings:
        if name not in _KNOWN_PROFILES:
            raise fail(
                sub(settings_path, name),
                f"unknown profile (known: {', '.join(_KNOWN_PROFILES)})",
            )
        if name not in names:
            raise fail(sub(settings_path, name), f"profile is not active: add it to {names_path}")
    profiles = []
    for index, name in enumerate(names):
        where = sub(settings_path, name)
        table = read_table(settings.get(name, _EMPTY), where, _PROFILE_KEYS)
        profiles.append(
            _configure_profile(builtin_profile(name), table, where, f"{names_path}[{index}]")
        )
    return tuple(profiles)


# -- rules -----------------------------------------------------------------------------------

_WHEN_KEYS = (
    "direction",
    "counterparty",
    "counterparty_name",
    "in_directory",
    "payload_sufficient",
    "evidence_recorded",
    "applicable",
    "asset",
    "network",
    "value_above",
    "value_at_least",
    "value_below",
    "currency",
)
_RULE_KEYS = ("name", "when", "action", "code", "reason")
_RULE_ACTIONS = (Action.REVIEW, Action.REJECT, Action.REPAIR, Action.BLOCK)
_ONLY_FOR: dict[Action, Direction] = {
    Action.REPAIR: Direction.INBOUND,
    Action.BLOCK: Direction.OUTBOUND,
}
_DEFAULT_CODE: dict[Action, int] = {
    Action.REJECT: _Code.REJECTED,
    Action.REPAIR: _Code.INCOMPLETE_IDENTITY,
}


def _condition(value: object, path: str) -> Condition:
    table = read_table(value, path, _WHEN_KEYS)
    c: dict[str, object] = {}
    for key, raw in table.items():
        where = sub(path, key)
        if key == "direction":
            c[key] = read_enum(raw, Direction, where)
        elif key == "counterparty":
            kinds = read_str_set(raw, where)
            known = {k.value for k in CounterpartyKind}
            for kind in kinds:
                if kind not in known:
                    raise fail(
                        where,
                        f"unknown counterparty kind {show(kind)} (use vasp | self-hosted"
                        " | unknown)",
                    )
            c[key] = frozenset(CounterpartyKind(k) for k in kinds)
        elif key == "counterparty_name":
            c[key] = read_str_set(raw, where)
        elif key in ("asset", "network"):
            c[key] = read_str_set(raw, where, upper=True)
        elif key in ("value_above", "value_at_least", "value_below"):
            c[key] = read_decimal(raw, where)
        elif key == "currency":
            c[key] = read_currency(raw, where)
        else:
            c[key] = read_bool(raw, where)
    has_value = any(k in c for k in ("value_above", "value_at_least", "value_below"))
    if has_value and "currency" not in c:
        raise fail(
            sub(path, "currency"), "required with value_above, value_at_least or value_below"
        )
    if "currency" in c and not has_value:
        raise fail(
            sub(path, "currency"),
            "only meaningful with value_above, value_at_least or value_below",
        )
    if "value_above" in c and "value_at_least" in c:
        raise fail(sub(path, "value_at_least"), "use either value_above or value_at_least")
    return Condition(**c)  # type: ignore[arg-type]


def _code(value: object, path: str) -> int:
    number: int | None = None
    if isinstance(value, str):
        name = value.strip().upper()
        if name in _CODE_NAMES:
            number = _Code.Value(name)
    elif isinstance(value, int) and not isinstance(value, bool) and value in _Code.values():
        number = value
    if number is None:
        raise fail(path, f"not a TRISA error code: {show(value)}")
    if not (50 <= number <= 99 or 150 <= number <= 199):
        raise fail(
            path,
            f"{show(value)} is not a compliance code: use a rejection (50-99) or a repairable"
            " code (150-199)",
        )
    return number


def _rule(value: object, path: str, seen: set[str]) -> PolicyRule:
    table = read_table(value, path, _RULE_KEYS)
    for key in ("name", "when", "action"):
        if key not in table:
            raise fail(sub(path, key), "required")
    name = read_str(table["name"], sub(path, "name"))
    if name in seen:
        raise fail(sub(path, "name"), f"duplicate rule name {show(name)}")
    seen.add(name)
    when = _condition(table["when"], sub(path, "when"))
    action_path = sub(path, "action")
    action = read_enum(table["action"], Action, action_path)
    if action not in _RULE_ACTIONS:
        raise fail(
            action_path,
            f"must be one of {' | '.join(a.value for a in _RULE_ACTIONS)},"
            f" got {show(action.value)}"
            " (rules may stop or slow a transfer, never let one through)",
        )
    only = _ONLY_FOR.get(action)
    if only is not None and when.direction is not only:
        raise fail(
            action_path,
            f"{show(action.value)} applies to {only.value} transfers only:"
            f' add direction = "{only.value}" to {sub(path, "when")}',
        )
    code: int | None = _DEFAULT_CODE.get(action)
    if "code" in table:
        if action not in _DEFAULT_CODE:
            raise fail(sub(path, "code"), "only meaningful with action reject or repair")
        code = _code(table["code"], sub(path, "code"))
    reason = (
        read_str(table["reason"], sub(path, "reason"))
        if "reason" in table
        else f"config rule {name}"
    )
    return PolicyRule(name=name, when=when, action=action, code=code, reason=reason)


# -- the table -------------------------------------------------------------------------------

_POLICY_KEYS = (
    "profiles",
    "account_from_transaction",
    "eu_outbound_mode",
    "eu_inbound_mode",
    "valuation_max_age",
    "fx",
    "name_mismatch",
    "repeat_incomplete_limit",
    "profile",
    "counterparty",
    "rules",
)


def parse_policy(table: Mapping[str, object] | None, *, path: str = "policy") -> Policy:
    """Validate the `[policy]` table (None or {} gives `Policy.default()`)."""
    policy = read_table({} if table is None else table, path, _POLICY_KEYS)
    profiles = _profiles(policy, path)

    fx: dict[str, Decimal] = {}
    fx_path = sub(path, "fx")
    for currency, rate in read_table(policy.get("fx", _EMPTY), fx_path).items():
        where = sub(fx_path, currency)
        code = read_currency(currency, where)
        if code != currency:
            raise fail(where, "currency codes are written in upper case")
        fx[code] = read_decimal(rate, where, positive=True)
        if code == "USD" and fx[code] != 1:
            raise fail(where, "rates are in USD, so USD must be 1")

    name_mismatch = Action.REVIEW
    if "name_mismatch" in policy:
        where = sub(path, "name_mismatch")
        raw_mismatch = policy["name_mismatch"]
        if raw_mismatch not in (Action.REVIEW.value, Action.REJECT.value):
            raise fail(where, f"must be one of review | reject, got {show(raw_mismatch)}")
        name_mismatch = Action(raw_mismatch)

    limit: int | None = None
    if "repeat_incomplete_limit" in policy:
        where = sub(path, "repeat_incomplete_limit")
        raw = policy["repeat_incomplete_limit"]
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            raise fail(where, f"expected a positive integer, got {show(raw)}")
        limit = raw

    shortest_wait = min(p.max_wait for p in profiles)
    counterparties: dict[str, CounterpartySettings] = {}
    cp_path = sub(path, "counterparty")
    for name, raw in read_table(policy.get("counterparty", _EMPTY), cp_path).items():
        where = sub(cp_path, name)
        settings = read_table(raw, where, ("reply_timeout", "max_wait"))
        key = name.strip().lower()
        if not key:
            raise fail(where, "counterparty name must not be empty")
        if key in counterparties:
            raise fail(where, "listed twice (names are case-insensitive)")
        timeout = (
            read_duration(settings["reply_timeout"], sub(where, "reply_timeout"))
            if "reply_timeout" in settings
            else None
        )
        wait = (
            read_duration(settings["max_wait"], sub(where, "max_wait"))
            if "max_wait" in settings
            else None
        )
        if timeout is not None and timeout > (wait or shortest_wait):
            raise fail(
                sub(where, "reply_timeout"),
                "longer than the maximum wait"
                + ("" if wait else " of the active profiles; set max_wait too"),
            )
        counterparties[key] = CounterpartySettings(reply_timeout=timeout, max_wait=wait)

    rules_path = sub(path, "rules")
    raw_rules = policy.get("rules", [])
    if not isinstance(raw_rules, list):
        raise fail(
            rules_path, f"expected an array of tables ([[policy.rules]]), got {kind_of(raw_rules)}"
        )
    seen: set[str] = set()
    rules = tuple(_rule(r, f"{rules_path}[{i}]", seen) for i, r in enumerate(raw_rules))

    account = (
        read_bool(policy["account_from_transaction"], sub(path, "account_from_transaction"))
        if "account_from_transaction" in policy
        else True
    )
    eu_out = (
        read_enum(policy["eu_outbound_mode"], EuMode, sub(path, "eu_outbound_mode"))
        if "eu_outbound_mode" in policy
        else EuMode.ADDRESS_PLUS
    )
    eu_in = (
        read_enum(policy["eu_inbound_mode"], EuMode, sub(path, "eu_inbound_mode"))
        if "eu_inbound_mode" in policy
        else EuMode.LITERAL
    )
    max_age = (
        read_duration(policy["valuation_max_age"], sub(path, "valuation_max_age"))
        if "valuation_max_age" in policy
        else timedelta(minutes=5)
    )
    return Policy(
        profiles=profiles,
        account_from_transaction=account,
        eu_outbound_mode=eu_out,
        eu_inbound_mode=eu_in,
        fx=MappingProxyType(fx),
        valuation_max_age=max_age,
        name_mismatch=name_mismatch,
        repeat_incomplete_limit=limit,
        counterparties=MappingProxyType(counterparties),
        rules=rules,
    )
