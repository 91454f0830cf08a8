"""IVMS101 identity payloads: decoding, validation, conversion and TRISA rejections.

Reads IVMS JSON (2020 and 2023 editions), TRISA protojson and TRISA protobuf, detects the
dialect and edition, validates against the whole standard under one of three profiles
(`strict`, `standard`, `interop`) and reports every violation with its rule, severity and
path as the sender wrote it. The specification is the InterVASP Messaging Standard
IVMS101 (2020, and its 2023 edition), constraints C1-C12.

Typical use in the node::

    result = validate(identity_message)          # a received ivms101.IdentityPayload
    if (error := rejection_for(result)) is not None:
        raise error                              # TRISA 151/153/154/155, retry=True
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Literal

from travelgate._pb.ivms101 import identity_pb2, ivms101_pb2
from travelgate.errors import (
    IvmsEncodeError,
    IvmsError,
    IvmsInvalidError,
    IvmsParseError,
    ProtobufEncodeError,
    TrisaError,
)
from travelgate.ivms101._codes import CODE_LISTS, CodeList
from travelgate.ivms101._countries import COUNTRY_CODES, ISO_3166_ALPHA2
from travelgate.ivms101._encode import (
    TARGETS,
    EmitOptions,
    Target,
    emission_warnings,
    emit_ivms,
    emit_protojson,
)
from travelgate.ivms101._jsonio import DEFAULT_MAX_DEPTH, DEFAULT_MAX_SIZE
from travelgate.ivms101._model import (
    Address,
    Beneficiary,
    BeneficiaryVasp,
    DateAndPlaceOfBirth,
    IdentityPayload,
    IntermediaryVasp,
    LegalPerson,
    LegalPersonName,
    LegalPersonNameId,
    LocalLegalPersonNameId,
    LocalNaturalPersonNameId,
    NationalIdentification,
    NaturalPerson,
    NaturalPersonName,
    NaturalPersonNameId,
    Node,
    OriginatingVasp,
    Originator,
    PayloadMetadata,
    Person,
    TransferPath,
)
from travelgate.ivms101._pipeline import Request, run
from travelgate.ivms101._profiles import (
    BUILTIN_PROFILES,
    CHECKS,
    RULES,
    Profile,
    ProfileTable,
    custom_profile,
)
from travelgate.ivms101._protobuf import PbReader, payload_to_pb, person_to_pb
from travelgate.ivms101._registry import RaRecord, RaRegistry, default_registry
from travelgate.ivms101._report import Dialect, Edition, Sink, ValidationResult, Violation
from travelgate.ivms101._schema import SPEC_OF_MODEL
from travelgate.ivms101._trisa import rejection_for, rejection_message, unparseable

__all__ = [
    "BUILTIN_PROFILES",
    "CHECKS",
    "CODE_LISTS",
    "COUNTRY_CODES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_SIZE",
    "ISO_3166_ALPHA2",
    "RULES",
    "TARGETS",
    "Address",
    "Beneficiary",
    "BeneficiaryVasp",
    "CodeList",
    "DateAndPlaceOfBirth",
    "DecodedDocument",
    "Dialect",
    "Edition",
    "IdentityPayload",
    "IntermediaryVasp",
    "IvmsEncodeError",
    "IvmsError",
    "IvmsInvalidError",
    "IvmsParseError",
    "LegalPerson",
    "LegalPersonName",
    "LegalPersonNameId",
    "LocalLegalPersonNameId",
    "LocalNaturalPersonNameId",
    "NationalIdentification",
    "NaturalPerson",
    "NaturalPersonName",
    "NaturalPersonNameId",
    "Node",
    "OriginatingVasp",
    "Originator",
    "PayloadMetadata",
    "Person",
    "Profile",
    "ProfileTable",
    "RaRecord",
    "RaRegistry",
    "Target",
    "TransferPath",
    "ValidationResult",
    "Violation",
    "custom_profile",
    "decode",
    "default_registry",
    "emission_warnings",
    "encode",
    "parse_rejection",
    "person_from_protobuf",
    "person_to_protobuf",
    "rejection_for",
    "rejection_message",
    "to_protobuf",
    "validate",
]

Component = Literal[
    "IdentityPayload",
    "Person",
    "NaturalPerson",
    "LegalPerson",
    "Address",
    "NationalIdentification",
    "DateAndPlaceOfBirth",
    "IntermediaryVASP",
]
Role = Literal["originator", "beneficiary", "originatingVASP", "beneficiaryVASP", "intermediary"]


@dataclass(frozen=True)
class DecodedDocument:
    """A decoded document: its dialect and edition, the canonical model, and the full
    validation result under the profile used to decode it (the quirks seen are its warnings).
    """

    dialect: Dialect
    edition: Edition
    model: Node
    result: ValidationResult


def validate(
    document: Any,
    *,
    profile: Profile | ProfileTable = "standard",
    edition: Literal["auto", "2020", "2023"] = "auto",
    component: Component = "IdentityPayload",
    role: Role | None = None,
    person_kind: Literal["natural", "legal"] | None = None,
    now: _dt.datetime | None = None,
    registry: RaRegistry | None = None,
    rekey: bool = False,
    max_size: int = DEFAULT_MAX_SIZE,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> ValidationResult:
    """Validate an IVMS101 document and return every violation (validator error reports).

    `document` is JSON text (`bytes`/`str`), a parsed JSON `dict`, a protobuf message of the
    `ivms101` package (or its serialized bytes), or a model node. A protobuf message sets the
    component itself. Never raises for bad input: a document that cannot be read gives a
    result with one PARSE violation and no model. `rekey=True` is for back-office JSON only.
    """
    request = Request(
        profile=profile,
        edition=edition,
        component=component,
        role=role,
        person_kind=person_kind,
        now=now,
        registry=registry,
        rekey=rekey,
        max_size=max_size,
        max_depth=max_depth,
    )
    return run(document, request)


def decode(
    document: Any,
    *,
    rekey: bool = False,
    profile: Profile | ProfileTable = "interop",
    edition: Literal["auto", "2020", "2023"] = "auto",
    component: Component = "IdentityPayload",
    max_size: int = DEFAULT_MAX_SIZE,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> DecodedDocument:
    """Decode any accepted input into the canonical model, or raise IvmsParseError.

    Decoding tolerates what `profile` tolerates (default interop: every wild-data variant it
    accepts is normalised and listed as a warning in `result`). It does not fail on
    violations; check `result.valid` or use `validate` for a verdict.
    """
    result = validate(
        document,
        profile=profile,
        edition=edition,
        component=component,
        rekey=rekey,
        max_size=max_size,
        max_depth=max_depth,
    )
    if result.model is None:
        raise IvmsParseError(result.violations[0])
    return DecodedDocument(result.dialect, result.edition, result.model, result)


def _model_of(value: Any, component: Component = "IdentityPayload") -> Node:
    if isinstance(value, DecodedDocument):
        return value.model
    if type(value) in SPEC_OF_MODEL:
        node: Node = value
        return node
    return decode(value, component=component).model


def encode(
    model_or_message: Any,
    target: Target = "ivms-2020",
    *,
    postcode_key: Literal["postCode", "postcode"] = "postCode",
    legal_customer_key_2020: Literal["customerNumber", "customerIdentification"] = "customerNumber",
    proto_names: bool = False,
    emit_defaults: bool = False,
) -> dict[str, Any]:
    """Emit a model (or anything `decode` accepts, e.g. a protobuf message) as a JSON value.

    Targets: `ivms-2020` (default), `ivms-2023`, `trisa-pj` (protojson; `proto_names` and
    `emit_defaults` select its options). For `trisa-pb` use `to_protobuf`.
    """
    if target not in TARGETS:
        raise ValueError(
            f"target must be one of {', '.join(TARGETS)} (use to_protobuf for trisa-pb)"
        )
    model = _model_of(model_or_message)
    try:
        if target == "trisa-pj":
            if not isinstance(model, IdentityPayload | Person):
                raise IvmsEncodeError("protojson is emitted for an IdentityPayload or a Person")
            return emit_protojson(model, proto_names=proto_names, emit_defaults=emit_defaults)
        options = EmitOptions(postcode_key, legal_customer_key_2020)
        return emit_ivms(model, "2020" if target == "ivms-2020" else "2023", options)
    except ProtobufEncodeError as exc:
        raise IvmsEncodeError(str(exc)) from None


def to_protobuf(model_or_document: Any) -> identity_pb2.IdentityPayload:
    """The TRISA protobuf of an IdentityPayload model or of any document `decode` accepts."""
    model = _model_of(model_or_document)
    if not isinstance(model, IdentityPayload):
        raise IvmsEncodeError("to_protobuf needs an IdentityPayload")
    try:
        return payload_to_pb(model)
    except ProtobufEncodeError as exc:
        raise IvmsEncodeError(str(exc)) from None


def person_to_protobuf(
    person: Any, *, profile: Profile | ProfileTable = "standard", check: bool = True
) -> ivms101_pb2.Person:
    """A Person given as IVMS JSON (dict or text) or as a model -> `ivms101.Person`.

    With `check` (the default) the person must be valid under `profile` as a component
    without role context; otherwise IvmsInvalidError carries the violations.
    """
    if isinstance(person, Person):
        model: Node = person
        if check:
            result = validate(person, profile=profile, component="Person")
            if not result.valid:
                raise IvmsInvalidError(rejection_message(result), result)
    else:
        result = validate(person, profile=profile, component="Person")
        if result.model is None:
            raise IvmsParseError(result.violations[0])
        if check and not result.valid:
            raise IvmsInvalidError(rejection_message(result), result)
        model = result.model
    assert isinstance(model, Person)
    try:
        return person_to_pb(model)
    except ProtobufEncodeError as exc:
        raise IvmsEncodeError(str(exc)) from None


def person_from_protobuf(
    message: ivms101_pb2.Person, *, edition: Literal["2020", "2023"] = "2020"
) -> dict[str, Any]:
    """IVMS JSON (the given edition's spelling) of an `ivms101.Person` message."""
    model = PbReader(Sink(BUILTIN_PROFILES["standard"])).person(message)
    return emit_ivms(model, edition)


def parse_rejection(reason: str | IvmsParseError) -> TrisaError:
    """UNPARSEABLE_IDENTITY (151, retry) for an identity payload that cannot be read."""
    if isinstance(reason, IvmsParseError):
        return reason.to_trisa()
    return unparseable(reason)
