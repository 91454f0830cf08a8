"""The withdrawal request of `POST /v1/withdrawals`, checked field by field.

The body is the contract the exchange's withdrawal service codes against (issue 6):
amounts are decimal strings, never floats; every problem is an `InvalidRequestError`
naming the field (the API answers 422 for a well-formed body that is not acceptable).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, cast

from travelgate.errors import InvalidRequestError
from travelgate.transfers import InvalidAmountError, parse_amount, parse_fiat_amount

SELF_HOSTED = "self-hosted"
DESTINATION_KINDS = ("vasp", "self_hosted")
MAX_TEXT = 256
DEFAULT_ASSETS = (
    "BTC", "ETH", "USDT", "USDC", "DAI", "LTC", "BCH", "XRP", "SOL", "ADA", "DOT", "DOGE",
    "TRX", "MATIC", "POL", "XLM", "AVAX", "BNB", "EURC", "XMR", "ZEC", "ATOM", "ALGO", "TON",
)  # fmt: skip
_TOP = {
    "asset", "network", "amount", "value", "destination", "originator", "beneficiary",
    "beneficiary_vasp",
}  # fmt: skip


IvmsProfile = Literal["strict", "standard", "interop"]


def invalid(field: str, message: str, code: str = "invalid_field") -> InvalidRequestError:
    return InvalidRequestError(code, message, field=field)


@dataclass(frozen=True)
class Fiat:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class WithdrawalRequest:
    asset: str
    network: str
    amount: Decimal
    value: Fiat | None
    address: str
    tag: str | None
    destination_kind: str | None
    """"vasp", "self_hosted", or None (resolve the counterparty by address)."""
    customer_id: str | None
    originator_person: Mapping[str, Any] | None
    originator_account: str | None
    beneficiary_name: str | None
    beneficiary_person: Mapping[str, Any] | None
    beneficiary_vasp: str | None
    body: Mapping[str, Any]
    body_hash: str
    travel_address: str | None = None
    """The beneficiary VASP's Travel Address (TRP): it names the VASP and, once it approves,
    the deposit address."""


def request_hash(body: Mapping[str, Any]) -> str:
    """Digest of the canonical body: the same request sent twice hashes the same."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _object(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise invalid(field, f"{field} must be a JSON object")
    return value


def _text(value: object, field: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise invalid(field, f"{field} must be a string")
    text = value.strip()
    if not text:
        raise invalid(field, f"{field} must not be empty")
    if len(text) > MAX_TEXT:
        raise invalid(field, f"{field} is longer than {MAX_TEXT} characters")
    return text


def _amount(value: object, field: str, currency: str | None = None) -> Decimal:
    """An amount in the one grammar (`transfers.parse_amount`); 422 invalid_amount if not."""
    try:
        if currency is None:
            return parse_amount(value, what=field)
        return parse_fiat_amount(value, currency, what=field)
    except InvalidAmountError as exc:
        raise invalid(field, exc.message, "invalid_amount") from None


def _only(table: Mapping[str, Any], allowed: set[str], field: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        where = f"{field}.{unknown[0]}" if field else unknown[0]
        raise invalid(where, f"unknown field {where}", "unknown_field")


def parse_withdrawal(body: object, *, assets: frozenset[str]) -> WithdrawalRequest:
    """Check a decoded JSON body; the first problem raises an InvalidRequestError."""
    top = _object(body, "body")
    _only(top, _TOP, "")
    for required in ("asset", "network", "amount", "destination", "originator", "beneficiary"):
        if required not in top:
            raise invalid(required, f"{required} is required", "missing_field")
    asset = _text(top["asset"], "asset")
    assert asset is not None
    if not asset.isascii() or asset.upper() not in assets:  # "u\u017fdt".upper() is USDT
        raise invalid("asset", f"unknown asset {asset!r}", "unknown_asset")
    network = _text(top["network"], "network")
    amount = _amount(top["amount"], "amount")
    value = None
    if top.get("value") is not None:
        table = _object(top["value"], "value")
        _only(table, {"amount", "currency"}, "value")
        currency = _text(table.get("currency"), "value.currency")
        assert currency is not None
        if (
            len(currency) != 3
            or not (currency.isascii() and currency.isalpha())
            or not currency.isupper()
        ):
            raise invalid("value.currency", "value.currency must be an ISO 4217 code like USD")
        value = Fiat(_amount(table.get("amount"), "value.amount", currency), currency)
    destination = _object(top["destination"], "destination")
    _only(destination, {"address", "tag", "kind", "travel_address"}, "destination")
    travel_address = _travel_address(destination.get("travel_address"))
    address = _text(
        destination.get("address"), "destination.address", required=travel_address is None
    )
    tag = _text(destination.get("tag"), "destination.tag", required=False)
    kind = destination.get("kind")
    if kind is not None and kind not in DESTINATION_KINDS:
        raise invalid(
            "destination.kind",
            'destination.kind must be "vasp" or "self_hosted" (or left out to resolve the '
            "counterparty by address)",
            "invalid_value",
        )
    originator = _object(top["originator"], "originator")
    _only(originator, {"customer_id", "person", "account"}, "originator")
    customer_id = person = account = None
    if "customer_id" in originator:
        if "person" in originator:
            raise invalid("originator", "give either originator.customer_id or originator.person")
        customer_id = _text(originator["customer_id"], "originator.customer_id")
    elif "person" in originator:
        person = _object(originator["person"], "originator.person")
        account = _text(originator.get("account"), "originator.account")
    else:
        raise invalid(
            "originator.customer_id",
            "originator needs customer_id, or person and account",
            "missing_field",
        )
    beneficiary = _object(top["beneficiary"], "beneficiary")
    _only(beneficiary, {"name", "person"}, "beneficiary")
    if ("name" in beneficiary) == ("person" in beneficiary):
        raise invalid("beneficiary", "beneficiary needs exactly one of name or person")
    name = _text(beneficiary["name"], "beneficiary.name") if "name" in beneficiary else None
    beneficiary_person = (
        _object(beneficiary["person"], "beneficiary.person") if "person" in beneficiary else None
    )
    vasp = _text(top.get("beneficiary_vasp"), "beneficiary_vasp", required=False)
    if travel_address is not None and (kind == "self_hosted" or vasp == SELF_HOSTED):
        raise invalid(
            "destination.travel_address",
            "a travel address names the beneficiary VASP: the destination is not self-hosted",
        )
    if kind == "vasp" and travel_address is None and (vasp is None or vasp == SELF_HOSTED):
        raise invalid(
            "beneficiary_vasp",
            'destination.kind "vasp" needs beneficiary_vasp: the name of the beneficiary VASP',
            "missing_field",
        )
    if kind == "self_hosted" and vasp not in (None, SELF_HOSTED):
        raise invalid(
            "beneficiary_vasp",
            f'destination.kind "self_hosted" names no VASP, but beneficiary_vasp is {vasp!r}',
        )
    return WithdrawalRequest(
        asset=asset.upper(),
        network=network or "",
        amount=amount,
        value=value,
        address=address or "",
        tag=tag,
        destination_kind=kind,
        customer_id=customer_id,
        originator_person=person,
        originator_account=account,
        beneficiary_name=name,
        beneficiary_person=beneficiary_person,
        beneficiary_vasp=vasp,
        body=top,
        body_hash=request_hash(top),
        travel_address=travel_address,
    )


def _travel_address(value: object) -> str | None:
    """A Travel Address (`ta...`) or LNURL that decodes to an https TRP endpoint."""
    if value is None:
        return None
    from travelgate.errors import TravelAddressError
    from travelgate.trp import target_url

    if not isinstance(value, str) or not value.strip():
        raise invalid("destination.travel_address", "destination.travel_address must be a string")
    text = value.strip()
    if len(text) > 2048:
        raise invalid("destination.travel_address", "destination.travel_address is too long")
    try:
        target_url(text)
    except TravelAddressError as exc:
        raise invalid(
            "destination.travel_address",
            f"destination.travel_address is not a usable Travel Address: {exc.message}",
            "invalid_travel_address",
        ) from None
    return text


def person_violations(
    person: Mapping[str, Any],
    role: Literal["originator", "beneficiary"] | None = "beneficiary",
    profile: str = "standard",
) -> list[dict[str, str]]:
    """The IVMS101 errors of a Person as `{"rule", "path", "message"}` objects."""
    from travelgate import ivms101

    result = ivms101.validate(
        dict(person), component="Person", role=role, profile=cast(IvmsProfile, profile)
    )
    return [
        {"rule": v.rule, "path": v.path or "person", "message": v.message}
        for v in result.violations
        if v.severity == "error"
    ]


def person_problems(
    person: Mapping[str, Any],
    role: Literal["originator", "beneficiary"] | None = "beneficiary",
    profile: str = "standard",
) -> list[str]:
    """The IVMS101 errors of a Person in the standard JSON shape ("RULE at path: message")."""
    return [
        f"{v['rule']} at {v['path']}: {v['message']}"
        for v in person_violations(person, role, profile)
    ]


def check_originator(person: Mapping[str, Any], profile: str, *, customer_id: str | None) -> None:
    """422 `invalid_originator` for an originator the counterparty would have to refuse.

    Stored customers are checked as strictly as inline persons: a record that passed as a
    bare Person (PUT /v1/customers) may still miss what an originator needs (IVMS101 C1).
    """
    problems = person_problems(person, "originator", profile)
    if not problems:
        return
    listed = "; ".join(problems[:5])
    whose = f"customer {customer_id!r}" if customer_id else "originator.person"
    fix = " (fix the record with PUT /v1/customers/{id})" if customer_id else ""
    raise InvalidRequestError(
        "invalid_originator",
        f"{whose} does not meet the IVMS101 rules for an originator ({profile} profile): "
        f"{listed}{fix}",
        field="originator",
    )


def check_person(
    person: Mapping[str, Any],
    field: str,
    role: Literal["originator", "beneficiary"] | None = "beneficiary",
) -> None:
    problems = person_problems(person, role)
    if problems:
        listed = "; ".join(problems[:5])
        raise InvalidRequestError(
            "invalid_person", f"{field} is not a valid IVMS101 Person: {listed}", field=field
        )
