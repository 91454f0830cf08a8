"""Data items (FATF R.16, EU TFR Art. 14, 31 CFR 1010.410(f)) and data rules (8.2) on protobuf IdentityPayloads."""

from __future__ import annotations

import pytest

from travelgate._pb.ivms101 import ivms101_pb2
from travelgate.transfers import EuMode, Item, RuleCheck, check_rule, data_rule
from travelgate.transfers._items import All, AnyOf, person_items, render, residual

from ._build import FULL, LEIX, PASSPORT, RAID, address, legal, natural, payload

It = Item
O0 = "originator.originatorPersons[0]"
B0 = "beneficiary.beneficiaryPersons[0]"


def check(rule_id: str, identity: object, direction: str = "outbound", **kw: object) -> RuleCheck:
    mode_out = kw.pop("eu_outbound_mode", EuMode.ADDRESS_PLUS)
    mode_in = kw.pop("eu_inbound_mode", EuMode.LITERAL)
    rule = data_rule(
        rule_id,
        direction,
        eu_outbound_mode=mode_out,  # type: ignore[arg-type]
        eu_inbound_mode=mode_in,  # type: ignore[arg-type]
    )
    return check_rule(rule, identity, **kw)  # type: ignore[arg-type]


# -- items ------------------------------------------------------------------------------------


def test_natural_person_items() -> None:
    assert person_items(natural()) == {It.NAME}
    assert person_items(natural(name=False)) == frozenset()
    assert person_items(FULL) == {It.NAME, It.ADDRESS, It.NATID, It.CUSTID, It.DOBPOB}
    assert person_items(natural(natid=LEIX)) == {It.NAME, It.NATID, It.LEI}


def test_legal_person_items() -> None:
    assert person_items(legal()) == {It.NAME}
    assert person_items(legal(name=False)) == frozenset()  # a trading name is not LEGL
    assert person_items(legal(address_=True, natid=RAID, custid=True)) == {
        It.NAME,
        It.ADDRESS,
        It.NATID,
        It.CUSTID,
    }
    assert person_items(legal(natid=LEIX)) == {It.NAME, It.NATID, It.LEI}


def test_empty_person_has_nothing() -> None:
    assert person_items(ivms101_pb2.Person()) == frozenset()


@pytest.mark.parametrize(
    ("fields", "present"),
    [
        ({"address_line": ["1 Main St"], "country": "US"}, True),
        ({"street_name": "Main St", "building_number": "1", "country": "US"}, True),
        ({"street_name": "Main St", "building_name": "Tower", "country": "US"}, True),
        ({"address_line": ["1 Main St"]}, False),  # no country
        ({"street_name": "Main St", "country": "US"}, False),  # C8: no building
        ({"town_name": "Walnut", "country": "US"}, False),
        ({"address_line": ["  "], "country": "US"}, False),
    ],
)
def test_address_item(fields: dict[str, object], present: bool) -> None:
    person = natural()
    person.natural_person.geographic_addresses.append(ivms101_pb2.Address(**fields))  # type: ignore[arg-type]
    assert (It.ADDRESS in person_items(person)) is present


def test_dobpob_needs_both_parts() -> None:
    person = natural()
    person.natural_person.date_and_place_of_birth.date_of_birth = "1980-01-01"
    assert It.DOBPOB not in person_items(person)
    person.natural_person.date_and_place_of_birth.place_of_birth = "Berlin"
    assert It.DOBPOB in person_items(person)


def test_blank_national_identifier_is_absent() -> None:
    person = natural(natid=PASSPORT)
    person.natural_person.national_identification.national_identifier = " "
    assert It.NATID not in person_items(person)


def test_residual_and_render() -> None:
    expr = All((It.ADDRESS, AnyOf((All((It.NATID, It.CUSTID)), It.DOBPOB))))
    assert residual(expr, frozenset({It.ADDRESS, It.DOBPOB})) is None
    assert render(expr) == "ADDRESS+(NATID+CUSTID|DOBPOB)"
    rest = residual(expr, frozenset({It.ADDRESS, It.NATID}))
    assert rest is not None
    assert render(rest) == "CUSTID|DOBPOB"
    legal_rest = residual(expr, frozenset({It.ADDRESS, It.NATID}), frozenset({It.DOBPOB}))
    assert legal_rest is It.CUSTID
    only_impossible = residual(AnyOf((It.DOBPOB,)), frozenset(), frozenset({It.DOBPOB}))
    assert only_impossible is It.DOBPOB


# -- R-MIN and ACCOUNT --------------------------------------------------------------------------


def test_r_min_minimal_payload_passes() -> None:
    minimal = payload([natural()], [natural()])
    assert check("R-MIN", minimal).ok


def test_r_min_missing_names() -> None:
    result = check("R-MIN", payload([natural(name=False)], [legal(name=False)]))
    assert result.missing == (f"NAME@{O0}", f"NAME@{B0}")


def test_account_from_transaction() -> None:
    no_accounts = payload([natural()], [natural()], originator_accounts=(), beneficiary_accounts=())
    assert check("R-MIN", no_accounts).missing == ("ACCOUNT@originator", "ACCOUNT@beneficiary")
    on_chain = {"originator_address": "bc1qa", "beneficiary_address": "bc1qb"}
    assert check("R-MIN", no_accounts, **on_chain).ok
    off = check("R-MIN", no_accounts, account_from_transaction=False, **on_chain)
    assert off.missing == ("ACCOUNT@originator", "ACCOUNT@beneficiary")


def test_blank_account_does_not_count() -> None:
    blank = payload([natural()], [natural()], originator_accounts=(" ",))
    assert check("R-MIN", blank).missing == ("ACCOUNT@originator",)


def test_no_persons_and_no_payload() -> None:
    empty = payload([], [], originator_accounts=(), beneficiary_accounts=())
    expected = (
        "ACCOUNT@originator",
        "NAME@originator.originatorPersons",
        "ADDRESS|NATID|CUSTID|DOBPOB@originator.originatorPersons",
        "ACCOUNT@beneficiary",
        "NAME@beneficiary.beneficiaryPersons",
    )
    assert check("R-FATF", empty).missing == expected
    assert check("R-FATF", None).missing == expected


# -- R-FATF -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "originator",
    [
        natural(address_=True),
        natural(natid=PASSPORT),
        natural(custid=True),
        natural(dobpob=True),
        legal(address_=True),
        legal(custid=True),
    ],
)
def test_r_fatf_any_one_item_is_enough(originator: ivms101_pb2.Person) -> None:
    assert check("R-FATF", payload([originator])).ok


def test_r_fatf_failing() -> None:
    result = check("R-FATF", payload([natural()]))
    assert result.originator == (f"ADDRESS|NATID|CUSTID|DOBPOB@{O0}",)
    assert result.beneficiary == ()


def test_every_person_of_the_party_must_qualify() -> None:
    joint = payload([natural(address_=True), natural()])
    assert check("R-FATF", joint).missing == (
        "ADDRESS|NATID|CUSTID|DOBPOB@originator.originatorPersons[1]",
    )
    beneficiaries = payload(beneficiaries=[natural(), natural(name=False)])
    assert check("R-FATF", beneficiaries).missing == ("NAME@beneficiary.beneficiaryPersons[1]",)


# -- R-EU ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("originator", "missing"),
    [
        (natural(address_=True, natid=PASSPORT, custid=True), ()),
        (natural(address_=True, dobpob=True), ()),
        (natural(natid=PASSPORT, custid=True, dobpob=True), (f"ADDRESS@{O0}",)),
        (natural(address_=True, natid=PASSPORT), (f"CUSTID|DOBPOB@{O0}",)),
        (natural(address_=True), (f"NATID+CUSTID|DOBPOB@{O0}",)),
        (natural(), (f"ADDRESS@{O0}", f"NATID+CUSTID|DOBPOB@{O0}")),
        (legal(address_=True, natid=RAID, custid=True), ()),
        (legal(address_=True, natid=RAID), (f"CUSTID@{O0}",)),
        (legal(), (f"ADDRESS@{O0}", f"NATID@{O0}", f"CUSTID@{O0}")),
    ],
)
def test_r_eu_outbound_address_plus(
    originator: ivms101_pb2.Person, missing: tuple[str, ...]
) -> None:
    assert check("R-EU", payload([originator]), "outbound").missing == missing


@pytest.mark.parametrize(
    ("originator", "missing"),
    [
        (natural(dobpob=True), ()),
        (natural(address_=True, natid=PASSPORT, custid=True), ()),
        (natural(address_=True, natid=PASSPORT), (f"CUSTID|DOBPOB@{O0}",)),
        (natural(), (f"ADDRESS+NATID+CUSTID|DOBPOB@{O0}",)),
        (legal(address_=True, natid=RAID, custid=True), ()),
        (legal(address_=True, custid=True), (f"NATID@{O0}",)),
        (legal(), (f"ADDRESS@{O0}", f"NATID@{O0}", f"CUSTID@{O0}")),
    ],
)
def test_r_eu_inbound_literal(originator: ivms101_pb2.Person, missing: tuple[str, ...]) -> None:
    assert check("R-EU", payload([originator]), "inbound").missing == missing


def test_r_eu_modes_are_settings() -> None:
    address_only = payload([natural(address_=True)])
    assert not check("R-EU", address_only, "outbound").ok
    assert check("R-EU", address_only, "outbound", eu_outbound_mode=EuMode.ANY_ONE).ok
    assert check("R-EU", address_only, "inbound", eu_inbound_mode=EuMode.ANY_ONE).ok
    dob_only = payload([natural(dobpob=True)])
    assert check("R-EU", dob_only, "inbound").ok  # literal: birth data replaces the trio
    assert not check("R-EU", dob_only, "inbound", eu_inbound_mode=EuMode.ADDRESS_PLUS).ok
    assert check("R-EU", dob_only, "outbound", eu_outbound_mode=EuMode.LITERAL).ok


def test_r_eu_lei_if_held() -> None:
    company = legal(address_=True, natid=RAID, custid=True)
    identity = payload([company], [legal()])
    assert check("R-EU", identity, "outbound").ok
    held = check("R-EU", identity, "outbound", originator_lei_held=True, beneficiary_lei_held=True)
    assert held.missing == (f"LEI@{O0}", f"LEI@{B0}")
    with_lei = payload([legal(address_=True, natid=LEIX, custid=True)], [legal(natid=LEIX)])
    assert check(
        "R-EU", with_lei, "outbound", originator_lei_held=True, beneficiary_lei_held=True
    ).ok
    # Natural persons have no LEI to send; inbound never requires one.
    assert check("R-EU", payload(), "outbound", originator_lei_held=True).ok
    assert check("R-EU", identity, "inbound", originator_lei_held=True).ok


# -- R-US, R-SG, R-CA -------------------------------------------------------------------------------


def test_r_us_minimal() -> None:
    identity = payload([natural(address_=True)], [natural()], beneficiary_accounts=())
    assert check("R-US", identity).ok


def test_r_us_failing() -> None:
    identity = payload([natural(natid=PASSPORT)], [natural()], ovasp=False, bvasp=False)
    result = check("R-US", identity, amount_present=False, exec_date_present=False)
    assert result.originator == (f"ADDRESS@{O0}",)
    assert result.vasps == ("OVASP@originatingVASP", "BVASP@beneficiaryVASP")
    assert result.transaction == ("AMOUNT@transaction", "EXEC_DATE@transaction")
    narrowed = check("R-US", identity, check_vasps=(It.OVASP,))
    assert narrowed.vasps == ("OVASP@originatingVASP",)


def test_r_us_vasp_without_legal_name_is_missing() -> None:
    identity = payload([natural(address_=True)])
    identity.beneficiary_vasp.beneficiary_vasp.CopyFrom(legal(name=False))
    assert check("R-US", identity).vasps == ("BVASP@beneficiaryVASP",)


@pytest.mark.parametrize(
    ("originator", "ok"),
    [
        (natural(address_=True), True),
        (natural(natid=PASSPORT), True),
        (natural(dobpob=True), True),
        (natural(custid=True), False),  # not on the Singapore list
    ],
)
def test_r_sg(originator: ivms101_pb2.Person, ok: bool) -> None:
    result = check("R-SG", payload([originator]))
    assert result.ok is ok
    if not ok:
        assert result.missing == (f"ADDRESS|NATID|DOBPOB@{O0}",)


def test_r_ca_needs_both_addresses() -> None:
    assert check("R-CA", payload([natural(address_=True)], [natural(address_=True)])).ok
    result = check("R-CA", payload([natural(address_=True)], [natural()]))
    assert result.missing == (f"ADDRESS@{B0}",)


def test_unknown_rule_id() -> None:
    with pytest.raises(KeyError):
        data_rule("R-XX", "outbound")


def test_address_builder_is_valid() -> None:
    assert address().country == "DE"
