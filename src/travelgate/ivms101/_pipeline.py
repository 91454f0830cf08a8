"""The IVMS101 processing pipeline: read, unwrap, detect, decode, check, report."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from google.protobuf.message import DecodeError, Message

from travelgate._pb.ivms101 import identity_pb2, ivms101_pb2
from travelgate.ivms101 import _jsonio
from travelgate.ivms101._check import Checker
from travelgate.ivms101._codes import (
    PAYLOAD_VERSION_2020,
    PAYLOAD_VERSION_2023,
    PAYLOAD_VERSION_PRINTED,
)
from travelgate.ivms101._decode import JsonDecoder
from travelgate.ivms101._detect import ROOT_CONTEXT, scan
from travelgate.ivms101._model import IdentityPayload, Node
from travelgate.ivms101._profiles import ProfileTable, profile_table
from travelgate.ivms101._protobuf import PbReader
from travelgate.ivms101._registry import RaRegistry, default_registry
from travelgate.ivms101._report import Path, Sink, ValidationResult, Violation
from travelgate.ivms101._schema import COMPONENTS, SPEC_OF_MODEL, SPECS

TYPE_URL = "type.googleapis.com/ivms101.IdentityPayload"

PB_MESSAGES: dict[str, type[Message]] = {
    "IdentityPayload": identity_pb2.IdentityPayload,
    "Person": ivms101_pb2.Person,
    "NaturalPerson": ivms101_pb2.NaturalPerson,
    "LegalPerson": ivms101_pb2.LegalPerson,
    "Address": ivms101_pb2.Address,
    "NationalIdentification": ivms101_pb2.NationalIdentification,
    "DateAndPlaceOfBirth": ivms101_pb2.DateAndPlaceOfBirth,
    "IntermediaryVASP": identity_pb2.IntermediaryVasp,
}
_COMPONENT_OF_MESSAGE = {cls.DESCRIPTOR.full_name: name for name, cls in PB_MESSAGES.items()}
# Bytes that can start JSON text other than an object; anything else is tried as protobuf.
_JSON_STARTS = frozenset(b'["-0123456789tfn')
_PB_FIRST_BYTES = frozenset(range(0x20)) - frozenset(b" \t\r")
_JSON_WHITESPACE = b" \t\r\n"
_READERS = {
    "IdentityPayload": "payload",
    "Person": "person",
    "NaturalPerson": "natural",
    "LegalPerson": "legal",
    "Address": "address",
    "DateAndPlaceOfBirth": "date_and_place_of_birth",
    "IntermediaryVASP": "intermediary",
}
_ROLES = (None, "originator", "beneficiary", "originatingVASP", "beneficiaryVASP", "intermediary")


class Request:
    """Validated arguments of one validation."""

    def __init__(
        self,
        *,
        profile: str | ProfileTable,
        edition: str,
        component: str,
        role: str | None,
        person_kind: str | None,
        now: _dt.datetime | None,
        registry: RaRegistry | None,
        rekey: bool,
        max_size: int,
        max_depth: int,
    ) -> None:
        self.table = profile_table(profile)
        if edition not in ("auto", "2020", "2023"):
            raise ValueError("edition must be auto, 2020 or 2023")
        if component not in COMPONENTS:
            raise ValueError(f"component must be one of {', '.join(COMPONENTS)}")
        if role not in _ROLES:
            raise ValueError("unknown role")
        if person_kind not in (None, "natural", "legal"):
            raise ValueError("person_kind must be natural, legal or None")
        if now is None:
            now = _dt.datetime.now(_dt.UTC)
        elif now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be an aware datetime")
        self.edition = edition
        self.component = component
        self.role = role
        self.person_kind = person_kind
        self.today = now.astimezone(_dt.UTC).date()
        self.registry = registry if registry is not None else default_registry()
        self.rekey = rekey
        self.max_size = max_size
        self.max_depth = max_depth


def _parse_failure(request: Request, message: str, dialect: str = "ivms") -> ValidationResult:
    violation = Violation("PARSE", "", "error", message, "", 151)
    return ValidationResult(False, request.table.name, "2020", dialect, (violation,), None)  # type: ignore[arg-type]


def _finish(
    request: Request, sink: Sink, model: Node, dialect: str, edition: str, path: Path
) -> ValidationResult:
    checker = Checker(
        sink, dialect=dialect, edition=edition, today=request.today, registry=request.registry
    )
    checker.run(
        SPEC_OF_MODEL[type(model)], model, path, role=request.role, kind=request.person_kind
    )
    violations = sink.violations()
    valid = not any(v.severity == "error" for v in violations)
    return ValidationResult(valid, request.table.name, edition, dialect, violations, model)  # type: ignore[arg-type]


def run(document: Any, request: Request) -> ValidationResult:
    """Validate any accepted input form; never raises for bad input, only for bad arguments."""
    if isinstance(document, Message):
        return _from_message(document, request)
    if type(document) in SPEC_OF_MODEL:
        return _from_model(document, request)
    if isinstance(document, bytes | bytearray | memoryview):
        data = bytes(document)
        first = data.removeprefix(_jsonio.BOM_BYTES).lstrip(_JSON_WHITESPACE)[:1]
        if first == b"{":
            return _from_text(data, request)  # falls back to protobuf if JSON fails
        if not first or first[0] in _JSON_STARTS:
            return _from_text(data, request)  # reported as JSON that is not an object
        return _from_pb_bytes(data, request)
    if isinstance(document, str):
        return _from_text(document, request)
    if isinstance(document, dict):
        return _from_json(document, request, Sink(request.table))
    return _parse_failure(request, f"unsupported input type {type(document).__name__}")


def _from_text(data: bytes | str, request: Request) -> ValidationResult:
    sink = Sink(request.table)
    try:
        _jsonio.check_size(data, request.max_size)
        if _jsonio.has_bom(data):
            if not sink.accepts("PARSE.bom"):
                return _parse_failure(request, "byte-order mark before the JSON text")
            sink.add("PARSE.bom", (), (), "byte-order mark before the JSON text ignored")
            data = _jsonio.strip_bom(data)
        root = _jsonio.loads(data)
    except _jsonio.ParseFailure as exc:
        if isinstance(data, bytes) and data[:1] and data[0] in _PB_FIRST_BYTES:
            # A serialized message can start with "\n{" (field 1 of length 123).
            pb = _try_pb(data, request)
            if pb is not None:
                return pb
        return _parse_failure(request, exc.message)
    if not isinstance(root, dict):
        return _parse_failure(request, "the JSON root is not an object")
    return _from_json(root, request, sink)


def _from_pb_bytes(data: bytes, request: Request) -> ValidationResult:
    if len(data) > request.max_size:
        return _parse_failure(
            request, f"input of {len(data)} bytes exceeds the limit of {request.max_size} bytes"
        )
    result = _try_pb(data, request)
    if result is None:
        return _parse_failure(request, "input is neither JSON nor a protobuf message", "trisa-pb")
    return result


def _try_pb(data: bytes, request: Request) -> ValidationResult | None:
    message = PB_MESSAGES[request.component]()
    try:
        message.ParseFromString(data)
    except (DecodeError, RecursionError, ValueError):
        return None
    return _from_message(message, request)


def _from_message(message: Message, request: Request) -> ValidationResult:
    component = _COMPONENT_OF_MESSAGE.get(message.DESCRIPTOR.full_name)
    if component is None:
        return _parse_failure(
            request,
            f"protobuf message {message.DESCRIPTOR.full_name} is not an IVMS101 type",
            "trisa-pb",
        )
    sink = Sink(request.table)
    if request.edition == "2023":
        sink.add("EDITION", (), (), "protobuf identity payloads are always of the 2020 edition")
    reader = PbReader(sink)
    model: Node
    if component == "NationalIdentification":
        model = reader.national_identification(message, request.person_kind)  # type: ignore[arg-type]
    else:
        model = getattr(reader, _READERS[component])(message)
    return _finish(request, sink, model, "trisa-pb", "2020", ())


def _from_model(model: Node, request: Request) -> ValidationResult:
    edition = request.edition
    if edition == "auto":
        metadata = model.payload_metadata if isinstance(model, IdentityPayload) else None
        version = metadata.payload_version if metadata is not None else None
        edition = "2023" if version == PAYLOAD_VERSION_2023 else "2020"
    return _finish(request, Sink(request.table), model, "ivms", edition, ())


def _version_of(root: dict[str, Any]) -> Any:
    for key in ("payloadMetadata", "PayloadMetadata", "payload_metadata"):
        metadata = root.get(key)
        if isinstance(metadata, dict):
            return metadata.get("payloadVersion")
    return None


def _from_json(root: dict[str, Any], request: Request, sink: Sink) -> ValidationResult:
    component = request.component
    path: Path = ()
    pj_signals = 0
    if "@type" in root:
        if root["@type"] != TYPE_URL or component != "IdentityPayload":
            return _parse_failure(request, f"@type must be {TYPE_URL}", "trisa-pj")
        root = {key: value for key, value in root.items() if key != "@type"}
        pj_signals = 1
    wrapped = len(root) == 1 and isinstance(root.get("ivms101"), dict)
    if component == "IdentityPayload" and wrapped and sink.accepts("UNKNOWN_FIELD"):
        # Q3: an outer {"ivms101": {...}} wrapper; the prefix stays in every path.
        sink.add("UNKNOWN_FIELD", ("ivms101",), (), "outer ivms101 wrapper removed")
        root = root["ivms101"]
        path = ("ivms101",)
    signals = scan(
        root,
        context=ROOT_CONTEXT.get(component, ""),
        rekey=request.rekey,
        max_depth=request.max_depth - len(path),
    )
    if signals.too_deep:
        return _parse_failure(request, f"nesting deeper than {request.max_depth} levels")
    signals.pj += pj_signals
    dialect = signals.majority if signals.mixed else ("trisa-pj" if signals.pj else "ivms")
    forced = request.edition != "auto"
    if dialect == "trisa-pj":
        edition = "2020"
        if request.edition == "2023":
            sink.add(
                "EDITION", path, (), "protojson identity payloads are always of the 2020 edition"
            )
    elif forced:
        edition = request.edition
    else:
        version = _version_of(root) if component == "IdentityPayload" else None
        if version == PAYLOAD_VERSION_2020:
            edition = "2020"
        elif version in (PAYLOAD_VERSION_2023, PAYLOAD_VERSION_PRINTED):
            edition = "2023"
        else:
            edition = "2023" if signals.marker_2023 and not signals.marker_2020 else "2020"
    decoder = JsonDecoder(
        sink,
        dialect=dialect,
        mixed=signals.mixed,
        edition=edition,
        forced_edition=forced,
        rekey=request.rekey,
    )
    decoder.kind = request.person_kind
    model = decoder.decode(SPECS[component], root, path, ())
    if signals.mixed and not decoder.dialect_reported:
        sink.add("DIALECT", path, (), "the document mixes IVMS JSON and protojson spellings")
    return _finish(request, sink, model, dialect, edition, path)
