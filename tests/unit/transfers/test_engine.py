"""evaluate(): thresholds, valuation, outbound and inbound outcomes (EU TFR Art. 14-16; profile evaluation)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from travelgate._pb.trisa.api.v1beta1 import errors_pb2
from travelgate.transfers import (
    Action,
    Decision,
    HoldState,
    InvalidFactsError,
    IvmsFailure,
    Money,
    Policy,
    Reason,
    TransactionRecord,
    TransferFacts,
    Valuation,
    evaluate,
    parse_policy,
    value_in,
)

from ._build import FULL, NOW, PASSPORT, RAID, facts, legal, natural, payload, record, value

C = errors_pb2.Error
THIN = payload([natural()])  # names and accounts only: R-MIN, not R-FATF
O0 = "originator.originatorPersons[0]"


def pol(*profiles: str, **table: object) -> Policy:
    return parse_policy({"profiles": list(profiles) or ["FATF-R16"], **table})


def confirm(*ids: str, **extra: dict[str, object]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {i: {"confirmed_by": "C. Officer"} for i in ids}
    for pid, values in extra.items():
        out.setdefault(pid.replace("_", "-"), {}).update(values)
    return out


# -- valuation --------------------------------------------------------------------------------


def test_value_in_same_currency_and_fx() -> None:
    policy = pol(fx={"EUR": "1.08", "SGD": "0.74"})
    assert value_in(value("100", "USD"), "USD", policy, NOW) == Decimal(100)
    assert value_in(value("100", "EUR"), "USD", policy, NOW) == Decimal("108.00")
    assert value_in(value("1080", "USD"), "EUR", policy, NOW) == Decimal(1000)
    assert value_in(value("100", "EUR"), "SGD", policy, NOW) == Decimal("108") / Decimal("0.74")
    assert value_in(value("100", "JPY"), "USD", policy, NOW) is None  # no rate: missing
    assert value_in(value("100", "USD"), "CHF", policy, NOW) is None
    assert value_in(None, "USD", policy, NOW) is None


def test_value_in_staleness() -> None:
    policy = pol()
    five = timedelta(minutes=5)
    assert value_in(value("1", as_of=NOW - five), "USD", policy, NOW) == 1
    assert value_in(value("1", as_of=NOW - five - timedelta(seconds=1)), "USD", policy, NOW) is None
    assert value_in(value("1", as_of=NOW + five), "USD", policy, NOW) == 1
    assert value_in(value("1", as_of=NOW + five + timedelta(seconds=1)), "USD", policy, NOW) is None
    longer = pol(valuation_max_age="1h")
    assert value_in(value("1", as_of=NOW - timedelta(minutes=30)), "USD", longer, NOW) == 1


@pytest.mark.parametrize(
    ("amount", "currency", "full"),
    [
        ("999.99", "USD", False),
        ("1000", "USD", True),  # FATF-R16 is ">=": exactly at the threshold is full data
        ("1000.00", "USD", True),
        ("1000.01", "USD", True),
        ("925.92", "EUR", False),  # 999.9936 USD
        ("925.93", "EUR", True),  # 1000.0044 USD
    ],
)
def test_fatf_threshold_edges(amount: str, currency: str, full: bool) -> None:
    decision = evaluate(
        facts(identity=THIN, valuation=value(amount, currency)), pol(fx={"EUR": "1.08"})
    )
    assert decision.action is (Action.BLOCK if full else Action.SEND)
    assert Reason.VALUATION_MISSING not in decision.reasons


@pytest.mark.parametrize(
    ("amount", "full"), [("1500", False), ("1500.00", False), ("1500.01", True)]
)
def test_sg_threshold_is_strictly_above(amount: str, full: bool) -> None:
    policy = pol("SG-PSN02", profile=confirm("SG-PSN02"))
    decision = evaluate(facts(identity=THIN, valuation=value(amount, "SGD")), policy)
    assert decision.action is (Action.BLOCK if full else Action.SEND)


@pytest.mark.parametrize(
    "valuation",
    [
        None,
        value("10", as_of=NOW - timedelta(minutes=6)),
        value("10", "JPY"),
    ],
    ids=["missing", "stale", "unconvertible"],
)
def test_missing_valuation_fails_safe(valuation: Valuation | None) -> None:
    f = facts(identity=THIN, valuation=valuation, no_valuation=valuation is None)
    decision = evaluate(f, pol())
    assert decision.action is Action.BLOCK  # treated as above the threshold: R-FATF
    assert Reason.VALUATION_MISSING in decision.reasons
    assert decision.missing == (f"ADDRESS|NATID|CUSTID|DOBPOB@{O0}",)
    complete = evaluate(facts(valuation=valuation, no_valuation=valuation is None), pol())
    assert complete.action is Action.SEND
    assert complete.reasons == (Reason.COMPLETE, Reason.VALUATION_MISSING)


def test_threshold_zero_needs_no_valuation() -> None:
    decision = evaluate(facts(no_valuation=True), pol("EU-TFR"))
    assert decision.action is Action.SEND
    assert Reason.VALUATION_MISSING not in decision.reasons


# -- outbound -----------------------------------------------------------------------------------


def test_outbound_complete_to_vasp_sends() -> None:
    decision = evaluate(facts(), pol())
    assert decision.applicable
    assert decision.action is Action.SEND
    assert decision.target_state is HoldState.AWAITING_REPLY
    assert decision.rule == "profile:FATF-R16"
    assert decision.reason == Reason.COMPLETE
    assert decision.missing == ()
    assert decision.payload_sufficient
    assert decision.error_code is None
    assert decision.profiles == ("FATF-R16",)
    assert decision.profile_versions == ("FATF-R16@builtin-1",)
    assert decision.reply_timeout == timedelta(hours=24)
    assert decision.max_wait == timedelta(hours=72)


def test_outbound_own_data_missing_blocks() -> None:
    identity = payload([natural()], [natural(name=False)], originator_accounts=())
    decision = evaluate(facts(identity=identity, valuation=value("5000")), pol())
    assert decision.action is Action.BLOCK
    assert decision.target_state is HoldState.REVIEW
    assert decision.reason == Reason.OWN_DATA_MISSING
    assert decision.reasons == (
        Reason.OWN_DATA_MISSING,
        Reason.ORIGINATOR_DATA_MISSING,
        Reason.BENEFICIARY_DATA_MISSING,
    )
    assert decision.missing == (
        "ACCOUNT@originator",
        f"ADDRESS|NATID|CUSTID|DOBPOB@{O0}",
        "NAME@beneficiary.beneficiaryPersons[0]",
    )
    assert not decision.payload_sufficient


def test_outbound_account_from_on_chain_address() -> None:
    identity = payload(originator_accounts=(), beneficiary_accounts=())
    tx = record(originator_address="bc1qa", beneficiary_address="bc1qb")
    assert evaluate(facts(identity=identity, transaction=tx), pol()).action is Action.SEND
    off = pol(account_from_transaction=False)
    assert evaluate(facts(identity=identity, transaction=tx), off).action is Action.BLOCK


def test_outbound_no_identity_blocks() -> None:
    decision = evaluate(facts(no_identity=True), pol())
    assert decision.action is Action.BLOCK
    assert "NAME@originator.originatorPersons" in decision.missing


def test_outbound_ivms_invalid_blocks_and_stops() -> None:
    policy = pol(rules=[{"name": "all", "when": {}, "action": "review"}])
    f = facts(ivms_error=IvmsFailure(C.VALIDATION_ERROR, "IVMS101 standard: 1 error(s): C8 at x"))
    decision = evaluate(f, policy)
    assert decision.action is Action.BLOCK
    assert decision.rule == "ivms101"
    assert decision.reason == Reason.IVMS_INVALID
    assert decision.error_code is None  # nothing is sent outbound


def test_outbound_vasp_not_in_directory_goes_to_review() -> None:
    decision = evaluate(facts(in_directory=False), pol())
    assert decision.action is Action.REVIEW
    assert decision.reason == Reason.COUNTERPARTY_UNREACHABLE


@pytest.mark.parametrize("amount", ["1", "1000.01"])
def test_outbound_unknown_counterparty_always_goes_to_review(amount: str) -> None:
    f = facts(
        kind="unknown",
        counterparty=None,
        in_directory=False,
        valuation=value(amount, "EUR"),
        evidence_recorded=True,
        identity=payload(bvasp=False),
    )
    decision = evaluate(f, pol("EU-TFR"))
    assert decision.action is Action.REVIEW
    assert decision.reason == Reason.COUNTERPARTY_UNKNOWN
    assert decision.reason == "COUNTERPARTY.UNKNOWN"
    assert decision.target_state is HoldState.REVIEW


@pytest.mark.parametrize("kind", ["self-hosted"])
@pytest.mark.parametrize(
    ("amount", "evidence", "action"),
    [
        ("1000", False, Action.CLEAR),  # EU: evidence only *above* EUR 1,000
        ("1000.01", False, Action.REVIEW),
        ("1000.01", True, Action.CLEAR),
    ],
)
def test_outbound_self_hosted_eu_evidence(
    kind: str, amount: str, evidence: bool, action: Action
) -> None:
    f = facts(
        kind=kind,
        counterparty=None,
        in_directory=False,
        valuation=value(amount, "EUR"),
        evidence_recorded=evidence,
        identity=payload(bvasp=False),
    )
    decision = evaluate(f, pol("EU-TFR"))
    assert decision.action is action
    assert decision.evidence_required is (amount != "1000")
    if action is Action.REVIEW:
        assert decision.reason == Reason.SELF_HOSTED_EVIDENCE_REQUIRED
        assert decision.rule == "profile:EU-TFR"
    else:
        assert decision.target_state is HoldState.CLEARED


def test_outbound_self_hosted_missing_valuation_needs_evidence() -> None:
    f = facts(kind="self-hosted", counterparty=None, in_directory=False, no_valuation=True)
    decision = evaluate(f, pol("EU-TFR"))
    assert decision.action is Action.REVIEW
    assert Reason.VALUATION_MISSING in decision.reasons


def test_ch_finma_always_wants_evidence() -> None:
    policy = pol("CH-FINMA", profile=confirm("CH-FINMA"))
    f = facts(kind="self-hosted", counterparty=None, in_directory=False, valuation=value("1"))
    assert evaluate(f, policy).reason == Reason.SELF_HOSTED_EVIDENCE_REQUIRED


def test_fatf_self_hosted_needs_no_evidence() -> None:
    f = facts(kind="self-hosted", counterparty=None, in_directory=False, valuation=value("9999"))
    decision = evaluate(f, pol())
    assert decision.action is Action.CLEAR
    assert decision.reason == Reason.COMPLETE


def test_outbound_not_applicable_clears() -> None:
    decision = evaluate(facts(identity=THIN, valuation=value("2999.99")), pol("US-BSA"))
    assert not decision.applicable
    assert decision.action is Action.CLEAR
    assert decision.reason == Reason.NOT_APPLICABLE
    assert decision.profiles == ()
    assert decision.rule == "profile:US-BSA"


def test_us_bsa_at_threshold() -> None:
    complete = payload([natural(address_=True)])
    assert evaluate(facts(identity=complete, valuation=value("3000")), pol("US-BSA")).action is (
        Action.SEND
    )
    no_date = facts(identity=complete, valuation=value("3000"), transaction=record(timestamp=None))
    decision = evaluate(no_date, pol("US-BSA"))
    assert decision.action is Action.BLOCK
    assert decision.missing == ("EXEC_DATE@transaction",)
    assert Reason.TRANSACTION_DATA_MISSING in decision.reasons


def test_us_bsa_self_hosted_does_not_need_a_beneficiary_vasp() -> None:
    identity = payload([natural(address_=True)], bvasp=False)
    f = facts(identity=identity, valuation=value("5000"), kind="self-hosted", in_directory=False)
    assert evaluate(f, pol("US-BSA")).action is Action.CLEAR
    to_vasp = facts(identity=identity, valuation=value("5000"))
    assert evaluate(to_vasp, pol("US-BSA")).missing == ("BVASP@beneficiaryVASP",)


def test_eu_outbound_legal_person_with_lei_held() -> None:
    company = payload([legal(address_=True, natid=RAID, custid=True)])
    assert evaluate(facts(identity=company), pol("EU-TFR")).action is Action.SEND
    decision = evaluate(facts(identity=company, originator_lei_held=True), pol("EU-TFR"))
    assert decision.action is Action.BLOCK
    assert decision.missing == (f"LEI@{O0}",)


# -- inbound ------------------------------------------------------------------------------------


def test_inbound_complete_is_accepted() -> None:
    decision = evaluate(facts("inbound", beneficiary_match="matched"), pol())
    assert decision.action is Action.ACCEPT
    assert decision.target_state is None
    assert decision.error_code is None


def test_inbound_missing_asks_for_repair() -> None:
    decision = evaluate(facts("inbound", identity=THIN, valuation=value("1000")), pol())
    assert decision.action is Action.REPAIR
    assert decision.reason == Reason.ORIGINATOR_DATA_MISSING
    assert decision.error_code == C.INCOMPLETE_IDENTITY
    assert decision.error_code_name == "INCOMPLETE_IDENTITY"
    assert decision.retry is True
    assert decision.missing == (f"ADDRESS|NATID|CUSTID|DOBPOB@{O0}",)


def test_inbound_eu_literal_reading() -> None:
    dob_only = payload([natural(dobpob=True)])
    assert evaluate(facts("inbound", identity=dob_only), pol("EU-TFR")).action is Action.ACCEPT
    strict = pol("EU-TFR", eu_inbound_mode="address-plus")
    assert evaluate(facts("inbound", identity=dob_only), strict).action is Action.REPAIR


def test_inbound_us_review_and_transaction_code() -> None:
    identity = payload([natural(address_=True)])
    f = facts(
        "inbound", identity=identity, valuation=value("3000"), transaction=record(amount=None)
    )
    decision = evaluate(f, pol("US-BSA"))
    assert decision.action is Action.REVIEW  # US-BSA: inbound missing -> REVIEW
    assert decision.reason == Reason.TRANSACTION_DATA_MISSING
    hold = pol("US-BSA", profile={"US-BSA": {"inbound_missing": "HOLD"}})
    repair = evaluate(f, hold)
    assert repair.action is Action.REPAIR
    assert repair.error_code == C.MISSING_FIELDS  # only transaction fields missing: 153


def test_inbound_missing_reject_mode() -> None:
    policy = pol(profile={"FATF-R16": {"inbound_missing": "reject"}})
    decision = evaluate(facts("inbound", identity=THIN, valuation=value("5000")), policy)
    assert decision.action is Action.REJECT
    assert decision.error_code == C.INCOMPLETE_IDENTITY
    assert decision.retry is False


def test_inbound_vasp_missing_is_154() -> None:
    identity = payload([natural(address_=True)], ovasp=False)
    hold = pol("US-BSA", profile={"US-BSA": {"inbound_missing": "HOLD"}})
    decision = evaluate(facts("inbound", identity=identity, valuation=value("3000")), hold)
    assert decision.reason == Reason.VASP_DATA_MISSING
    assert decision.error_code == C.INCOMPLETE_IDENTITY


def test_inbound_unknown_address_and_name_mismatch() -> None:
    unknown = evaluate(facts("inbound", beneficiary_match="unknown-address"), pol())
    assert (unknown.action, unknown.error_code, unknown.retry) == (
        Action.REJECT,
        C.UNKNOWN_WALLET_ADDRESS,
        False,
    )
    assert unknown.reason == Reason.UNKNOWN_BENEFICIARY
    mismatch = evaluate(facts("inbound", beneficiary_match="name-mismatch"), pol())
    assert mismatch.action is Action.REVIEW
    assert mismatch.reason == Reason.BENEFICIARY_NAME_MISMATCH
    strict = evaluate(
        facts("inbound", beneficiary_match="name-mismatch"), pol(name_mismatch="reject")
    )
    assert (strict.action, strict.error_code) == (Action.REJECT, C.BENEFICIARY_NAME_UNMATCHED)


def test_inbound_ivms_invalid_repairs_with_validator_code() -> None:
    f = facts("inbound", ivms_error=IvmsFailure(C.MISSING_FIELDS, "IVMS101 standard: ..."))
    decision = evaluate(f, pol())
    assert (decision.action, decision.error_code, decision.retry) == (
        Action.REPAIR,
        C.MISSING_FIELDS,
        True,
    )
    assert decision.reason == Reason.IVMS_INVALID


def test_inbound_repeat_incomplete_counterparty() -> None:
    policy = pol("EU-TFR", repeat_incomplete_limit=3)
    below = evaluate(facts("inbound", counterparty_warnings=2), policy)
    assert below.action is Action.ACCEPT
    reached = evaluate(facts("inbound", counterparty_warnings=3), policy)
    assert (reached.action, reached.error_code, reached.retry) == (Action.REJECT, C.REJECTED, False)
    assert reached.reason == Reason.REPEAT_INCOMPLETE_COUNTERPARTY
    assert reached.rule == "profile:EU-TFR"
    # Only the EU has the escalation duty.
    fatf = pol(repeat_incomplete_limit=3)
    assert evaluate(facts("inbound", counterparty_warnings=9), fatf).action is Action.ACCEPT


def test_inbound_self_hosted_checks_evidence_not_data() -> None:
    f = facts(
        "inbound",
        no_identity=True,
        kind="self-hosted",
        counterparty=None,
        in_directory=False,
        valuation=value("5000", "EUR"),
    )
    decision = evaluate(f, pol("EU-TFR"))
    assert decision.action is Action.REVIEW
    assert decision.reason == Reason.SELF_HOSTED_EVIDENCE_REQUIRED
    assert decision.missing == ()
    proven = evaluate(TransferFacts(**{**f.__dict__, "evidence_recorded": True}), pol("EU-TFR"))
    assert proven.action is Action.ACCEPT


def test_inbound_not_applicable() -> None:
    decision = evaluate(facts("inbound", identity=THIN, valuation=value("10")), pol("US-BSA"))
    assert (decision.action, decision.reason) == (Action.ACCEPT, Reason.NOT_APPLICABLE)


# -- combination (8.5) --------------------------------------------------------------------------------


def test_combined_required_data_is_the_conjunction() -> None:
    fatf_only = payload([natural(custid=True)])
    assert evaluate(facts(identity=fatf_only, valuation=value("5000")), pol()).action is (
        Action.SEND
    )
    both = evaluate(facts(identity=fatf_only, valuation=value("5000")), pol("FATF-R16", "EU-TFR"))
    assert both.action is Action.BLOCK
    assert both.rule == "profile:EU-TFR"
    assert both.missing == (f"ADDRESS@{O0}", f"NATID|DOBPOB@{O0}")
    assert both.profiles == ("FATF-R16", "EU-TFR")


def test_combined_applicable_if_any() -> None:
    decision = evaluate(facts(identity=THIN, valuation=value("10")), pol("FATF-R16", "US-BSA"))
    assert decision.applicable
    assert decision.profiles == ("FATF-R16",)
    assert decision.action is Action.SEND


def test_combined_shortest_timeouts_of_applicable_profiles() -> None:
    policy = pol(
        "FATF-R16",
        "US-BSA",
        profile={"US-BSA": {"reply_timeout": "1h", "max_wait": "2h"}},
    )
    low = evaluate(facts(valuation=value("10")), policy)
    assert (low.reply_timeout, low.max_wait) == (timedelta(hours=24), timedelta(hours=72))
    high = evaluate(facts(identity=payload([FULL]), valuation=value("5000")), policy)
    assert (high.reply_timeout, high.max_wait) == (timedelta(hours=1), timedelta(hours=2))


def test_counterparty_timeouts_replace_profile_timeouts() -> None:
    policy = pol(counterparty={"Bob.Example": {"reply_timeout": "2h"}})
    decision = evaluate(facts(counterparty="bob.EXAMPLE"), policy)
    assert (decision.reply_timeout, decision.max_wait) == (timedelta(hours=2), timedelta(hours=72))
    other = evaluate(facts(counterparty="carol.example"), policy)
    assert other.reply_timeout == timedelta(hours=24)
    longer = pol(counterparty={"bob.example": {"reply_timeout": "96h", "max_wait": "120h"}})
    slow = evaluate(facts(), longer)
    assert (slow.reply_timeout, slow.max_wait) == (timedelta(hours=96), timedelta(hours=120))


def test_combined_release_level() -> None:
    sent = {"FATF-R16": {"release_level": "SENT"}}
    assert evaluate(facts(), pol(profile=sent)).release_level.value == "SENT"
    both = evaluate(facts(), pol("FATF-R16", "EU-TFR", profile=sent))
    assert both.release_level.value == "ACCEPTED"


def test_combined_timeout_outcomes() -> None:
    expire = {"FATF-R16": {"timeout_outbound": "EXPIRE"}}
    assert evaluate(facts(), pol(profile=expire)).timeout_outbound.value == "EXPIRE"
    assert evaluate(facts(), pol("FATF-R16", "EU-TFR", profile=expire)).timeout_outbound.value == (
        "REVIEW"
    )
    assert evaluate(facts(), pol()).timeout_inbound.value == "REVIEW"
    assert evaluate(facts(), pol("FATF-R16", "EU-TFR")).timeout_inbound.value == "REJECT_OR_RETURN"


def test_combined_retention() -> None:
    five = pol().profiles[0].retention
    long_fatf = {"FATF-R16": {"retention": "10y"}}
    alone = evaluate(facts(), pol(profile=long_fatf))
    assert (alone.retention, alone.delete_after_retention) == (2 * five, False)
    with_eu = evaluate(facts(), pol("FATF-R16", "EU-TFR", profile=long_fatf))
    assert (with_eu.retention, with_eu.delete_after_retention) == (five, True)
    national = {
        **long_fatf,
        "EU-TFR": {"retention": "8y", "retention_basis": "national law, art. 1"},
    }
    extended = evaluate(facts(), pol("FATF-R16", "EU-TFR", profile=national))
    assert extended.retention == pol().profiles[0].retention * 8 / 5


# -- records ------------------------------------------------------------------------------------


def test_decision_record_is_json() -> None:
    decision = evaluate(facts("inbound", identity=THIN, valuation=value("1000")), pol())
    record_ = decision.as_record()
    assert json.loads(json.dumps(record_)) == record_
    assert record_["error_code"] == "INCOMPLETE_IDENTITY"
    assert record_["reply_timeout"] == "1d"
    assert record_["retention"] == "1830d"
    assert isinstance(decision, Decision)


# -- facts validation ---------------------------------------------------------------------------------


def test_facts_reject_float_money_and_naive_times() -> None:
    with pytest.raises(InvalidFactsError, match="Decimal"):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(InvalidFactsError, match="ISO 4217"):
        Money(Decimal(1), "usd")
    with pytest.raises(InvalidFactsError, match="negative"):
        Money(Decimal(-1), "USD")
    with pytest.raises(InvalidFactsError, match="finite"):
        Money(Decimal("NaN"), "USD")
    with pytest.raises(InvalidFactsError, match="aware"):
        Valuation(Money(Decimal(1), "USD"), NOW.replace(tzinfo=None))
    with pytest.raises(InvalidFactsError, match="Decimal"):
        TransactionRecord(amount=0.5, asset="BTC", network="bitcoin")  # type: ignore[arg-type]
    with pytest.raises(InvalidFactsError, match="aware"):
        record(timestamp=NOW.replace(tzinfo=None))
    with pytest.raises(InvalidFactsError, match="sideways"):
        facts("sideways")
    with pytest.raises(InvalidFactsError, match="IdentityPayload"):
        facts(identity="not a message")  # type: ignore[arg-type]
    with pytest.raises(InvalidFactsError, match="aware"):
        replace(facts(), now=NOW.replace(tzinfo=None))
    with pytest.raises(InvalidFactsError, match="sideways"):
        facts(kind="sideways")
    with pytest.raises(InvalidFactsError, match="maybe"):
        facts(beneficiary_match="maybe")


def test_facts_accept_strings_for_enums() -> None:
    f = TransferFacts(
        direction="inbound",  # type: ignore[arg-type]
        identity=None,
        transaction=record(),
        valuation=None,
        counterparty_kind="self-hosted",  # type: ignore[arg-type]
        counterparty=None,
        in_directory=False,
        now=NOW,
    )
    assert f.direction.value == "inbound"
    assert f.counterparty_kind.value == "self-hosted"


def test_passport_builder() -> None:
    assert natural(natid=PASSPORT).natural_person.national_identification.national_identifier
