"""Property tests: generated valid payloads validate clean in every encoding and survive
conversion round trips; one generated mutation is reported with the right rule and path."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from travelgate._pb.ivms101 import identity_pb2
from travelgate.ivms101 import IdentityPayload, decode, encode, to_protobuf, validate
from travelgate.ivms101._check import Checker
from travelgate.ivms101._fast import Clean
from travelgate.ivms101._profiles import BUILTIN_PROFILES
from travelgate.ivms101._registry import default_registry
from travelgate.ivms101._report import Sink
from travelgate.ivms101._schema import SPECS

from ._cases import NOW, errors, lei_with_check_digits, pj_path, to_protojson

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CLASS_2020 = LETTERS + "0123456789' "
COUNTRIES = ("US", "GB", "DE", "TZ", "CL", "JP", "SG", "XX")
REGISTERED = ("RA000553", "RA000589", "RA000744", "RA777777")


def text(max_size: int) -> st.SearchStrategy[str]:
    """Max*Text of the strictest class (2020): a letter, then letters, digits, ' and space."""
    return st.builds(
        lambda head, tail: (head + tail)[:max_size],
        st.sampled_from(LETTERS),
        st.text(alphabet=CLASS_2020, max_size=max_size - 1),
    )


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def _clean(mapping: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if value is not None and value != []}


@st.composite
def addresses(draw: st.DrawFn) -> dict[str, Any]:
    lined = draw(st.booleans())
    return _clean(
        {
            "addressType": draw(st.sampled_from(("HOME", "BIZZ", "GEOG"))),
            "department": draw(optional(text(50))),
            "streetName": None if lined else draw(text(70)),
            "buildingNumber": None if lined else draw(text(16)),
            "postCode": draw(optional(text(16))),
            "townName": draw(text(35)),
            "countrySubDivision": draw(optional(text(35))),
            "addressLine": draw(st.lists(text(70), min_size=1, max_size=3)) if lined else None,
            "country": draw(st.sampled_from(COUNTRIES)),
        }
    )


lei = st.builds(
    lei_with_check_digits,
    st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=18, max_size=18),
)


@st.composite
def natural_persons(draw: st.DrawFn, originator: bool) -> dict[str, Any]:
    names = [{"primaryIdentifier": draw(text(100)), "nameIdentifierType": "LEGL"}]
    if draw(st.booleans()):
        names[0]["secondaryIdentifier"] = draw(text(100))
    if draw(st.booleans()):
        kind = draw(st.sampled_from(("ALIA", "BIRT", "MAID", "MISC")))
        names.append({"primaryIdentifier": draw(text(100)), "nameIdentifierType": kind})
    natid = None
    if draw(st.booleans()):
        kind = draw(st.sampled_from(("CCPT", "DRLC", "SOCS", "IDCD", "RAID", "LEIX")))
        natid = {
            "nationalIdentifier": draw(lei) if kind == "LEIX" else draw(text(35)),
            "nationalIdentifierType": kind,
        }
        if kind != "LEIX" and draw(st.booleans()):
            natid["countryOfIssue"] = draw(st.sampled_from(COUNTRIES))
        if kind == "RAID":
            natid["registrationAuthority"] = "RA777777"  # no RA.COUNTRY hint in strict
    person = _clean(
        {
            "name": {"nameIdentifier": names},
            "geographicAddress": draw(st.lists(addresses(), max_size=2)),
            "nationalIdentification": natid,
            "customerIdentification": draw(optional(text(50))),
            "dateAndPlaceOfBirth": draw(
                optional(
                    st.builds(
                        lambda day, place: {"dateOfBirth": day.isoformat(), "placeOfBirth": place},
                        st.dates(dt.date(1900, 1, 1), dt.date(2010, 12, 31)),
                        text(70),
                    )
                )
            ),
            "countryOfResidence": draw(optional(st.sampled_from(COUNTRIES))),
        }
    )
    if originator and not (
        {
            "geographicAddress",
            "nationalIdentification",
            "customerIdentification",
            "dateAndPlaceOfBirth",
        }
        & set(person)
    ):
        person["customerIdentification"] = draw(text(50))
    return {"naturalPerson": person}


@st.composite
def legal_persons(draw: st.DrawFn, originator: bool) -> dict[str, Any]:
    names = [{"legalPersonName": draw(text(100)), "legalPersonNameIdentifierType": "LEGL"}]
    for kind in draw(st.lists(st.sampled_from(("SHRT", "TRAD")), max_size=2)):
        names.append({"legalPersonName": draw(text(100)), "legalPersonNameIdentifierType": kind})
    natid = None
    if draw(st.booleans()):
        kind = draw(st.sampled_from(("LEIX", "RAID", "TXID", "MISC")))
        if kind == "LEIX":
            natid = {"nationalIdentifier": draw(lei), "nationalIdentifierType": kind}
        else:
            natid = {
                "nationalIdentifier": draw(text(35)),
                "nationalIdentifierType": kind,
                "registrationAuthority": "RA777777",
            }
    person = _clean(
        {
            "name": {"nameIdentifier": names},
            "geographicAddress": draw(st.lists(addresses(), max_size=1)),
            "customerNumber": draw(optional(text(50))),
            "nationalIdentification": natid,
            "countryOfRegistration": draw(optional(st.sampled_from(COUNTRIES))),
        }
    )
    if originator and "customerNumber" not in person and natid is None:
        person["customerNumber"] = draw(text(50))
    return {"legalPerson": person}


def persons(originator: bool) -> st.SearchStrategy[dict[str, Any]]:
    return natural_persons(originator) | legal_persons(originator)


@st.composite
def payloads(draw: st.DrawFn) -> dict[str, Any]:
    accounts = st.lists(text(100).map(lambda s: s.replace(" ", "x")), max_size=2)
    doc: dict[str, Any] = {
        "originator": _clean(
            {
                "originatorPersons": draw(st.lists(persons(True), min_size=1, max_size=2)),
                "accountNumber": draw(accounts),
            }
        ),
        "beneficiary": _clean(
            {
                "beneficiaryPersons": draw(st.lists(persons(False), min_size=1, max_size=2)),
                "accountNumber": draw(accounts),
            }
        ),
    }
    if draw(st.booleans()):
        doc["originatingVASP"] = {"originatingVASP": draw(legal_persons(False))}
    if draw(st.booleans()):
        doc["beneficiaryVASP"] = {"beneficiaryVASP": draw(legal_persons(False))}
    hops = draw(st.lists(legal_persons(False), max_size=2))
    if hops:
        doc["transferPath"] = {
            "transferPath": [
                {"intermediaryVASP": hop, "sequence": index} for index, hop in enumerate(hops)
            ]
        }
    methods = draw(st.lists(st.sampled_from(("hani", "cyrl", "othr", "kore")), max_size=2))
    if methods:
        doc["payloadMetadata"] = {"transliterationMethod": methods}
    return doc


def as_message(doc: dict[str, Any]) -> identity_pb2.IdentityPayload:
    return json_format.Parse(json.dumps(to_protojson(doc)), identity_pb2.IdentityPayload())


@SETTINGS
@given(payloads())
def test_generated_payloads_validate_clean(doc: dict[str, Any]) -> None:
    for profile in ("strict", "standard", "interop"):
        result = validate(doc, profile=profile, now=NOW)
        assert result.violations == (), (profile, result.violations)
    for document in (json.dumps(to_protojson(doc)), as_message(doc)):
        result = validate(document, profile="strict", now=NOW)
        assert result.violations == ()


@SETTINGS
@given(payloads())
def test_round_trips(doc: dict[str, Any]) -> None:
    model = decode(doc).model
    assert isinstance(model, IdentityPayload)
    assert encode(model) == doc  # the generator writes the emitter's spellings
    protojson = encode(model, "trisa-pj")
    assert decode(protojson).model == model
    assert decode(encode(model, "trisa-pj", proto_names=True)).model == model
    assert decode(to_protobuf(model).SerializeToString()).model == model
    assert decode(as_message(doc)).model == model
    edition_2023 = encode(model, "ivms-2023")
    again = decode(edition_2023)
    assert again.edition == "2023"
    assert validate(edition_2023, profile="strict", now=NOW).violations == ()
    assert encode(again.model, "ivms-2020") == doc


# -- one mutation -----------------------------------------------------------------------

REQUIRED = {
    "primaryIdentifier",
    "legalPersonName",
    "country",
    "nationalIdentifier",
    "dateOfBirth",
    "placeOfBirth",
}
MAXIMA = {
    "primaryIdentifier": 100,
    "secondaryIdentifier": 100,
    "legalPersonName": 100,
    "streetName": 70,
    "buildingNumber": 16,
    "postCode": 16,
    "townName": 35,
    "department": 50,
    "countrySubDivision": 35,
    "customerIdentification": 50,
    "customerNumber": 50,
    "placeOfBirth": 70,
    "nationalIdentifier": 35,
}
COUNTRY_KEYS = {"country", "countryOfResidence", "countryOfIssue", "countryOfRegistration"}


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    """(path, key) of every string value of the document."""
    found: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                found.append(((*path, key), key))
            elif isinstance(value, dict | list):
                found.extend(_leaves(value, (*path, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, dict | list):
                found.extend(_leaves(value, (*path, index)))
    return found


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@st.composite
def mutations(draw: st.DrawFn) -> tuple[dict[str, Any], str, str]:
    doc = draw(payloads())
    leaves = _leaves(doc)
    candidates = {
        "drop": [leaf for leaf in leaves if leaf[1] in REQUIRED],
        "overlong": [leaf for leaf in leaves if leaf[1] in MAXIMA],
        "country": [leaf for leaf in leaves if leaf[1] in COUNTRY_KEYS],
    }
    kind = draw(st.sampled_from([kind for kind, found in candidates.items() if found]))
    path, key = draw(st.sampled_from(candidates[kind]))
    mutated = copy.deepcopy(doc)
    parent: Any = mutated
    for part in path[:-1]:
        parent = parent[part]
    if kind == "drop":
        del parent[key]
        rule = "CARDINALITY"
    elif kind == "overlong":
        parent[key] = "A" * (MAXIMA[key] + 1)
        rule = "LENGTH"
    elif draw(st.booleans()):
        parent[key] = "ZZ"
        rule = "C3"
    else:
        parent[key] = "USA"
        rule = "FORMAT.COUNTRY"
    return mutated, rule, _dotted(path)


@SETTINGS
@given(mutations())
def test_a_single_mutation_is_reported(case: tuple[dict[str, Any], str, str]) -> None:
    doc, rule, path = case
    for document, where in ((doc, path), (as_message(doc), pj_path(path))):
        result = validate(document, now=NOW)
        assert not result.valid
        assert (rule, where) in errors(result), result.violations
        # whatever else is reported sits at the same place (an overlong LEI also fails C11)
        assert {p for _, p in errors(result)} == {where}


@SETTINGS
@given(mutations())
def test_the_quick_proof_never_hides_a_violation(case: tuple[dict[str, Any], str, str]) -> None:
    doc = case[0]
    model = validate(as_message(doc), now=NOW).model
    assert isinstance(model, IdentityPayload)
    today, registry = NOW.date(), default_registry()
    for profile in ("strict", "standard"):
        sink = Sink(BUILTIN_PROFILES[profile])
        checker = Checker(sink, dialect="trisa-pb", edition="2020", today=today, registry=registry)
        checker.walk(SPECS["IdentityPayload"], model, (), (), None, None)
        proven = Clean(
            edition="2020",
            today=today,
            registry=registry,
            class_2020=checker.class_2020,
            ra_country=checker.ra_country,
        ).payload(model)
        assert not (proven and sink.violations())
