"""Data items of the legal texts and where they live in an IVMS101 payload.

The legal texts: FATF Recommendation 16, EU TFR 2023/1113 Art. 14, 31 CFR 1010.410(f).

Legal texts name items (NAME, ADDRESS, ...); the engine tests them on a protobuf
`ivms101.IdentityPayload`. This module says, for one `Person`, which person-level items are
present, and offers a tiny boolean algebra over items so that a rule such as
`ADDRESS & ((NATID & CUSTID) | DOBPOB)` can report exactly what is still missing.

"Present" assumes the payload already passed IVMS101 validation (the `ivms101` package);
these checks only look for the element and its non-blank content, plus the country of an
address and the C8 street-or-line form, which the item definition names explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from travelgate._pb.ivms101 import enum_pb2, ivms101_pb2

__all__ = [
    "All",
    "AnyOf",
    "Expr",
    "Item",
    "person_items",
    "render",
    "residual",
    "split",
]


class Item(StrEnum):
    """Data item ids of FATF R.16, EU TFR Art. 14, 31 CFR 1010.410(f)."""

    NAME = "NAME"
    ACCOUNT = "ACCOUNT"
    ADDRESS = "ADDRESS"
    NATID = "NATID"
    CUSTID = "CUSTID"
    DOBPOB = "DOBPOB"
    LEI = "LEI"
    OVASP = "OVASP"
    BVASP = "BVASP"
    INTERMEDIARY = "INTERMEDIARY"
    AMOUNT = "AMOUNT"
    EXEC_DATE = "EXEC_DATE"
    ASSET = "ASSET"
    TXID = "TXID"


@dataclass(frozen=True)
class All:
    """Conjunction of requirements."""

    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class AnyOf:
    """Disjunction of requirements: one alternative is enough."""

    parts: tuple[Expr, ...]


Expr: TypeAlias = Item | All | AnyOf


def residual(
    expr: Expr, present: frozenset[Item], impossible: frozenset[Item] = frozenset()
) -> Expr | None:
    """What of `expr` is still unmet given the present items; None when it holds.

    For an unmet disjunction every alternative is kept, each reduced to its own missing
    parts, so a report says "NATID+CUSTID|DOBPOB" rather than picking one for the sender;
    alternatives that need an `impossible` item (DOBPOB of a legal person) are left out of
    the report unless nothing else is left.
    """
    if isinstance(expr, Item):
        return None if expr in present else expr
    if isinstance(expr, All):
        rest = [r for r in (residual(p, present, impossible) for p in expr.parts) if r is not None]
        if not rest:
            return None
        return rest[0] if len(rest) == 1 else All(tuple(rest))
    alternatives: list[Expr] = []
    for part in expr.parts:
        r = residual(part, present, impossible)
        if r is None:
            return None
        alternatives.append(r)
    possible = [a for a in alternatives if not _mentions(a, impossible)]
    alternatives = possible or alternatives
    return alternatives[0] if len(alternatives) == 1 else AnyOf(tuple(alternatives))


def _mentions(expr: Expr, items: frozenset[Item]) -> bool:
    if isinstance(expr, Item):
        return expr in items
    if isinstance(expr, All):
        return any(_mentions(p, items) for p in expr.parts)
    return all(_mentions(p, items) for p in expr.parts)


def split(expr: Expr) -> tuple[Expr, ...]:
    """The independent requirements of `expr` (its top-level conjuncts), for reporting."""
    if isinstance(expr, All):
        return tuple(q for p in expr.parts for q in split(p))
    return (expr,)


def render(expr: Expr) -> str:
    """Compact text: `+` for and, `|` for or, parentheses where `|` sits inside `+`."""
    if isinstance(expr, Item):
        return expr.value
    if isinstance(expr, All):
        return "+".join(f"({render(p)})" if isinstance(p, AnyOf) else render(p) for p in expr.parts)
    return "|".join(render(p) for p in expr.parts)


_NAT_LEGL = enum_pb2.NATURAL_PERSON_NAME_TYPE_CODE_LEGL
_LEG_LEGL = enum_pb2.LEGAL_PERSON_NAME_TYPE_CODE_LEGL
_LEIX = enum_pb2.NATIONAL_IDENTIFIER_TYPE_CODE_LEIX


def _filled(text: str) -> bool:
    return bool(text.strip())


def _address_ok(address: ivms101_pb2.Address) -> bool:
    # Item ADDRESS means "address including the country"; C8's street-or-line form is what
    # makes it an address at all (IVMS101 C8 ValidAddress).
    lines = any(_filled(line) for line in address.address_line)
    street = _filled(address.street_name) and (
        _filled(address.building_name) or _filled(address.building_number)
    )
    return _filled(address.country) and (lines or street)


def _national_id_items(nid: ivms101_pb2.NationalIdentification) -> set[Item]:
    if not _filled(nid.national_identifier):
        return set()
    # O2 (points left to compliance review): every identifier type counts as NATID, an LEI included.
    found = {Item.NATID}
    if nid.national_identifier_type == _LEIX:
        found.add(Item.LEI)
    return found


def person_items(person: ivms101_pb2.Person) -> frozenset[Item]:
    """Person-level items (NAME, ADDRESS, NATID, CUSTID, DOBPOB, LEI) present in `person`."""
    found: set[Item] = set()
    kind = person.WhichOneof("person")
    if kind == "natural_person":
        natural = person.natural_person
        if any(
            n.name_identifier_type == _NAT_LEGL and _filled(n.primary_identifier)
            for n in natural.name.name_identifiers
        ):
            found.add(Item.NAME)
        if any(_address_ok(a) for a in natural.geographic_addresses):
            found.add(Item.ADDRESS)
        if natural.HasField("national_identification"):
            found |= _national_id_items(natural.national_identification)
        if _filled(natural.customer_identification):
            found.add(Item.CUSTID)
        birth = natural.date_and_place_of_birth
        if _filled(birth.date_of_birth) and _filled(birth.place_of_birth):
            found.add(Item.DOBPOB)
    elif kind == "legal_person":
        legal = person.legal_person
        if any(
            n.legal_person_name_identifier_type == _LEG_LEGL and _filled(n.legal_person_name)
            for n in legal.name.name_identifiers
        ):
            found.add(Item.NAME)
        if any(_address_ok(a) for a in legal.geographic_addresses):
            found.add(Item.ADDRESS)
        if legal.HasField("national_identification"):
            found |= _national_id_items(legal.national_identification)
        if _filled(legal.customer_number):
            found.add(Item.CUSTID)
        # DOBPOB is not representable for a legal person (no birth date or place).
    return frozenset(found)
