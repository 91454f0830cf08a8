"""protobuf JSON in the layout of the reference vectors (proto names, every field, nulls)."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

# Importing the generated modules registers the Any types that JSON payloads name.
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate.errors import (
    JsonFormatError,
)


def message_to_dict(message: Message) -> dict[str, Any]:
    """Every field by its proto name, unset sub-messages as null, like the Go fixtures."""
    raw = json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )
    return _with_nulls(message, raw)


def _with_nulls(message: Message, raw: dict[str, Any]) -> dict[str, Any]:
    if message.DESCRIPTOR.full_name.startswith("google.protobuf."):
        return raw
    ordered: dict[str, Any] = {}
    if "@type" in raw:
        ordered["@type"] = raw["@type"]
    for field in message.DESCRIPTOR.fields:
        name = field.name
        singular_message = field.message_type is not None and not field.is_repeated
        if singular_message and not message.HasField(name):
            if field.containing_oneof is None:
                ordered[name] = None
            continue
        if name not in raw:
            continue
        value = raw[name]
        if singular_message and isinstance(value, dict):
            value = _with_nulls(getattr(message, name), value)
        ordered[name] = value
    return ordered


def message_to_json(message: Message) -> str:
    return json.dumps(message_to_dict(message), indent=2, ensure_ascii=False) + "\n"


def parse_json(text: bytes | str, message: Message, *, what: str) -> Message:
    """Parse protobuf JSON into `message`; every failure is a JsonFormatError naming `what`."""
    try:
        json_format.Parse(text, message)
    except (json_format.ParseError, UnicodeDecodeError, RecursionError) as exc:
        raise JsonFormatError(f"{what} is not valid protobuf JSON: {exc}") from None
    return message


def envelope_from_json(text: bytes | str) -> api_pb2.SecureEnvelope:
    envelope = api_pb2.SecureEnvelope()
    parse_json(text, envelope, what="envelope")
    return envelope


def payload_from_json(text: bytes | str) -> api_pb2.Payload:
    payload = api_pb2.Payload()
    parse_json(text, payload, what="payload")
    return payload
