"""Data rules R-MIN, R-FATF, R-EU, R-US, R-SG, R-CA (built-in data rules) and their check.

A rule says, per party, what every person must carry and whether the party needs an
account; plus VASP and transaction-record items. R-EU depends on the direction and on the
reading of TFR Art. 14(1)(d) (EU TFR 2023/1113 Art. 14(1)(d)).

`check_rule` reports unmet requirements as `"<requirement>@<path>"`, e.g.
`ADDRESS@originator.originatorPersons[0]`, `ACCOUNT@originator`, `NATID+CUSTID|DOBPOB@...`
(`+` and, `|` or), `OVASP@originatingVASP`, `AMOUNT@transaction`. Paths use the IVMS101
2020 JSON names of the payload.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from travelgate._pb.ivms101 import identity_pb2, ivms101_pb2
from travelgate.transfers._items import All, AnyOf, Expr, Item, person_items, render, residual
from travelgate.transfers._items import split as split_expr

__all__ = [
    "RULE_IDS",
    "DataRule",
    "EuMode",
    "PartyRule",
    "RuleCheck",
    "check_rule",
    "data_rule",
]


class EuMode(StrEnum):
    """Readings of TFR Art. 14(1)(d) (EU TFR 2023/1113 Art. 14(1)(d))."""

    LITERAL = "literal"
    ADDRESS_PLUS = "address-plus"
    ANY_ONE = "any-one"


@dataclass(frozen=True)
class PartyRule:
    """What one party (originator or beneficiary) must carry."""

    person: Expr
    """Required of every person of the party."""
    account: bool
    """The party needs an account number (or, by default, its on-chain address)."""
    lei_if_held: bool = False
    """A legal person must carry the LEI whenever we hold one for it (R-EU outbound)."""


@dataclass(frozen=True)
class DataRule:
    """A data rule made concrete for one direction."""

    id: str
    originator: PartyRule
    beneficiary: PartyRule
    vasps: tuple[Item, ...] = ()
    transaction: tuple[Item, ...] = ()


_I = Item
_FATF_ONE_OF = AnyOf((_I.ADDRESS, _I.NATID, _I.CUSTID, _I.DOBPOB))
_EU_MODES: dict[EuMode, Expr] = {
    EuMode.LITERAL: AnyOf((All((_I.ADDRESS, _I.NATID, _I.CUSTID)), _I.DOBPOB)),
    # For a legal person DOBPOB never holds, so this is ADDRESS & NATID & CUSTID (EU TFR Art. 14).
    EuMode.ADDRESS_PLUS: All((_I.ADDRESS, AnyOf((All((_I.NATID, _I.CUSTID)), _I.DOBPOB)))),
    EuMode.ANY_ONE: _FATF_ONE_OF,
}
_NAME_ONLY = PartyRule(person=_I.NAME, account=False)
_NAME_ACCOUNT = PartyRule(person=_I.NAME, account=True)

_STATIC: dict[str, DataRule] = {
    "R-MIN": DataRule("R-MIN", _NAME_ACCOUNT, _NAME_ACCOUNT),
    "R-FATF": DataRule(
        "R-FATF", PartyRule(All((_I.NAME, _FATF_ONE_OF)), account=True), _NAME_ACCOUNT
    ),
    # Beneficiary ADDRESS/ACCOUNT are sent "when known" and never a reason to reject (4).
    "R-US": DataRule(
        "R-US",
        PartyRule(All((_I.NAME, _I.ADDRESS)), account=True),
        _NAME_ONLY,
        vasps=(_I.OVASP, _I.BVASP),
        transaction=(_I.AMOUNT, _I.EXEC_DATE),
    ),
    # Singapore lists no customer identification number (5).
    "R-SG": DataRule(
        "R-SG",
        PartyRule(All((_I.NAME, AnyOf((_I.ADDRESS, _I.NATID, _I.DOBPOB)))), account=True),
        _NAME_ACCOUNT,
    ),
    "R-CA": DataRule(
        "R-CA",
        PartyRule(All((_I.NAME, _I.ADDRESS)), account=True),
        PartyRule(All((_I.NAME, _I.ADDRESS)), account=True),
    ),
}

RULE_IDS: frozenset[str] = frozenset({*_STATIC, "R-EU"})


def data_rule(
    rule_id: str,
    direction: str,
    *,
    eu_outbound_mode: EuMode = EuMode.ADDRESS_PLUS,
    eu_inbound_mode: EuMode = EuMode.LITERAL,
) -> DataRule:
    """The rule `rule_id` for `direction` ("outbound" or "inbound"); KeyError if unknown."""
    if rule_id != "R-EU":
        return _STATIC[rule_id]
    if direction == "outbound":
        mode = _EU_MODES[eu_outbound_mode]
        return DataRule(
            "R-EU",
            PartyRule(All((_I.NAME, mode)), account=True, lei_if_held=True),
            PartyRule(_I.NAME, account=True, lei_if_held=True),
        )
    # Inbound: the LEI is never required of the sender (EU TFR Art. 14).
    mode = _EU_MODES[eu_inbound_mode]
    return DataRule("R-EU", PartyRule(All((_I.NAME, mode)), account=True), _NAME_ACCOUNT)


@dataclass(frozen=True)
class RuleCheck:
    """Unmet requirements of one rule, per place."""

    rule: str
    originator: tuple[str, ...] = ()
    beneficiary: tuple[str, ...] = ()
    vasps: tuple[str, ...] = ()
    transaction: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not (self.originator or self.beneficiary or self.vasps or self.transaction)

    @property
    def missing(self) -> tuple[str, ...]:
        return self.originator + self.beneficiary + self.vasps + self.transaction


_LEGAL_IMPOSSIBLE = frozenset({Item.DOBPOB})  # no birth data for a legal person (1)


def _check_party(
    rule: PartyRule,
    *,
    party: str,
    persons_key: str,
    persons: Sequence[ivms101_pb2.Person],
    accounts: Sequence[str],
    chain_address: str,
    account_from_transaction: bool,
    lei_held: bool,
) -> tuple[str, ...]:
    missing: list[str] = []
    if rule.account:
        has_account = any(a.strip() for a in accounts) or (
            account_from_transaction and bool(chain_address.strip())
        )
        if not has_account:
            missing.append(f"{Item.ACCOUNT}@{party}")
    if not persons:
        # No person at all: the whole personal requirement is unmet for the party.
        for part in split_expr(rule.person):
            missing.append(f"{render(part)}@{party}.{persons_key}")
        return tuple(missing)
    for index, person in enumerate(persons):
        path = f"{party}.{persons_key}[{index}]"
        present = person_items(person)
        legal = person.WhichOneof("person") == "legal_person"
        rest = residual(rule.person, present, _LEGAL_IMPOSSIBLE if legal else frozenset())
        if rest is not None:
            missing.extend(f"{render(part)}@{path}" for part in split_expr(rest))
        if rule.lei_if_held and lei_held and legal and Item.LEI not in present:
            missing.append(f"{Item.LEI}@{path}")
    return tuple(missing)


def _vasp_named(vasp: ivms101_pb2.Person) -> bool:
    return Item.NAME in person_items(vasp)


def check_rule(
    rule: DataRule,
    identity: identity_pb2.IdentityPayload | None,
    *,
    originator_address: str = "",
    beneficiary_address: str = "",
    amount_present: bool = True,
    exec_date_present: bool = True,
    account_from_transaction: bool = True,
    originator_lei_held: bool = False,
    beneficiary_lei_held: bool = False,
    check_vasps: tuple[Item, ...] | None = None,
) -> RuleCheck:
    """Check `identity` (None: an absent payload) against `rule`.

    `check_vasps` narrows the VASP items tested (outbound to a self-hosted address has no
    beneficiary VASP to name); None tests what the rule lists.
    """
    payload = identity if identity is not None else identity_pb2.IdentityPayload()
    originator = _check_party(
        rule.originator,
        party="originator",
        persons_key="originatorPersons",
        persons=payload.originator.originator_persons,
        accounts=payload.originator.account_numbers,
        chain_address=originator_address,
        account_from_transaction=account_from_transaction,
        lei_held=originator_lei_held,
    )
    beneficiary = _check_party(
        rule.beneficiary,
        party="beneficiary",
        persons_key="beneficiaryPersons",
        persons=payload.beneficiary.beneficiary_persons,
        accounts=payload.beneficiary.account_numbers,
        chain_address=beneficiary_address,
        account_from_transaction=account_from_transaction,
        lei_held=beneficiary_lei_held,
    )
    vasps: list[str] = []
    wanted = rule.vasps if check_vasps is None else tuple(v for v in rule.vasps if v in check_vasps)
    if Item.OVASP in wanted and not (
        payload.HasField("originating_vasp")
        and _vasp_named(payload.originating_vasp.originating_vasp)
    ):
        vasps.append(f"{Item.OVASP}@originatingVASP")
    if Item.BVASP in wanted and not (
        payload.HasField("beneficiary_vasp")
        and _vasp_named(payload.beneficiary_vasp.beneficiary_vasp)
    ):
        vasps.append(f"{Item.BVASP}@beneficiaryVASP")
    transaction: list[str] = []
    if Item.AMOUNT in rule.transaction and not amount_present:
        transaction.append(f"{Item.AMOUNT}@transaction")
    if Item.EXEC_DATE in rule.transaction and not exec_date_present:
        transaction.append(f"{Item.EXEC_DATE}@transaction")
    return RuleCheck(rule.id, originator, beneficiary, tuple(vasps), tuple(transaction))
