"""Canonical model -> IVMS JSON (2020 or 2023 edition of IVMS101) and TRISA protojson.

The emitter writes only what the model holds, in the target's spelling and in the row order
of the IVMS101 data model; absent elements are left out (never null, "" or []). Converting between
editions moves account numbers as 3.12 says; the two option keys exist because some receivers
read only one spelling of the postcode and of the legal-person customer id.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from google.protobuf import json_format

from travelgate.errors import ProtobufEncodeError
from travelgate.ivms101 import _model as m
from travelgate.ivms101._codes import PAYLOAD_VERSION_2020, PAYLOAD_VERSION_2023
from travelgate.ivms101._protobuf import payload_to_pb, person_to_pb
from travelgate.ivms101._report import Violation, format_path, format_pointer
from travelgate.ivms101._schema import SPEC_OF_MODEL, SPECS, ObjectSpec

Target = Literal["ivms-2020", "ivms-2023", "trisa-pj"]
TARGETS: tuple[str, ...] = ("ivms-2020", "ivms-2023", "trisa-pj")


@dataclasses.dataclass(frozen=True)
class EmitOptions:
    postcode_key: Literal["postCode", "postcode"] = "postCode"
    legal_customer_key_2020: Literal["customerNumber", "customerIdentification"] = "customerNumber"


def _merge_accounts(entity: m.Originator | m.Beneficiary) -> Any:
    # Entity-level accounts stay as they are; person-level ones join them.
    merged = list(entity.account_numbers)
    for person in entity.persons:
        # a value already listed for the entity or an earlier person is a duplicate
        listed = set(merged)
        merged.extend(a for a in person.account_numbers if a not in listed)
    for account in merged:
        if len(account) > 100:
            raise ProtobufEncodeError(
                "an account number longer than 100 characters has no 2020-edition form"
            )
    persons = tuple(dataclasses.replace(p, account_numbers=()) for p in entity.persons)
    return dataclasses.replace(entity, persons=persons, account_numbers=tuple(merged))


def _strip_person_accounts(holder: Any) -> Any:
    if holder is None or holder.person is None or not holder.person.account_numbers:
        return holder
    return dataclasses.replace(
        holder, person=dataclasses.replace(holder.person, account_numbers=())
    )


def view_2020(node: m.IdentityPayload) -> m.IdentityPayload:
    """The payload as the 2020 edition can hold it: accounts on the entities, no 2023 version."""
    metadata = node.payload_metadata
    if metadata is not None and metadata.payload_version not in (None, PAYLOAD_VERSION_2020):
        metadata = (
            dataclasses.replace(metadata, payload_version=None)
            if metadata.transliteration_methods
            else None
        )
    transfer = node.transfer_path
    if transfer is not None:
        transfer = dataclasses.replace(
            transfer,
            intermediaries=tuple(_strip_person_accounts(i) for i in transfer.intermediaries),
        )
    return dataclasses.replace(
        node,
        originator=_merge_accounts(node.originator) if node.originator else None,
        beneficiary=_merge_accounts(node.beneficiary) if node.beneficiary else None,
        originating_vasp=_strip_person_accounts(node.originating_vasp),
        beneficiary_vasp=_strip_person_accounts(node.beneficiary_vasp),
        transfer_path=transfer,
        payload_metadata=metadata,
    )


def _move_accounts(entity: m.Originator | m.Beneficiary) -> Any:
    if not entity.account_numbers or not entity.persons:
        return entity
    first = entity.persons[0]
    extra = tuple(a for a in first.account_numbers if a not in entity.account_numbers)
    merged = (*entity.account_numbers, *extra)
    persons = (dataclasses.replace(first, account_numbers=merged), *entity.persons[1:])
    return dataclasses.replace(entity, persons=persons, account_numbers=())


def view_2023(node: m.IdentityPayload) -> m.IdentityPayload:
    """The payload as the 2023 edition holds it: accounts on the first person, version set."""
    metadata = node.payload_metadata or m.PayloadMetadata()
    return dataclasses.replace(
        node,
        originator=_move_accounts(node.originator) if node.originator else None,
        beneficiary=_move_accounts(node.beneficiary) if node.beneficiary else None,
        payload_metadata=dataclasses.replace(metadata, payload_version=PAYLOAD_VERSION_2023),
    )


def emit_ivms(node: m.Node, edition: str, options: EmitOptions = EmitOptions()) -> dict[str, Any]:
    """IVMS JSON of any model node, in one edition's spelling."""
    if isinstance(node, m.IdentityPayload):
        node = view_2020(node) if edition == "2020" else view_2023(node)
    return _emit(SPEC_OF_MODEL[type(node)], node, edition, options)


def _emit(spec: ObjectSpec, node: Any, edition: str, options: EmitOptions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fs in spec.fields:
        value = getattr(node, fs.attr)
        if value is None or value == ():
            continue
        key = fs.emit_key(edition)
        if fs.attr == "post_code":
            key = options.postcode_key
        elif (
            spec.name == "LegalPerson"
            and fs.attr == "customer_identification"
            and edition == "2020"
        ):
            key = options.legal_customer_key_2020
        if fs.kind == "obj":
            out[key] = _emit(SPECS[fs.child or ""], value, edition, options)
        elif fs.kind == "objs":
            child = SPECS[fs.child or ""]
            out[key] = [_emit(child, item, edition, options) for item in value]
        elif fs.kind in ("strs", "enums"):
            out[key] = list(value)
        else:
            out[key] = value
    return out


def emit_protojson(
    node: m.IdentityPayload | m.Person, *, proto_names: bool = False, emit_defaults: bool = False
) -> dict[str, Any]:
    """protojson of a payload or person (via the protobuf, so it is exactly what TRISA reads)."""
    message = payload_to_pb(node) if isinstance(node, m.IdentityPayload) else person_to_pb(node)
    result: dict[str, Any] = json_format.MessageToDict(
        message,
        preserving_proto_field_name=proto_names,
        always_print_fields_with_no_presence=emit_defaults,
    )
    return result


def emission_warnings(
    node: m.IdentityPayload, target: str, *, byte_counting: bool = False
) -> tuple[Violation, ...]:
    """Warnings about emitting `node` to `target`, in the target's spelling.

    Account numbers whose owner becomes ambiguous (2020 -> 2023 with several persons) or
    that the target cannot hold (person-level accounts of VASPs in 2020); with
    `byte_counting`, texts that fit their maximum in characters but not in UTF-8 bytes.
    """
    edition = "2023" if target == "ivms-2023" else "2020"
    found: list[Violation] = []

    def warn(path: tuple[str | int, ...], rule: str, message: str) -> None:
        found.append(
            Violation(rule, format_path(path), "warning", message, format_pointer(path), 155)
        )

    for attr in ("originator", "beneficiary"):
        entity = getattr(node, attr)
        if (
            edition == "2023"
            and entity is not None
            and entity.account_numbers
            and len(entity.persons) > 1
        ):
            warn(
                (attr, "accountNumber"),
                "EDITION",
                "account ownership ambiguous: moved to the first person",
            )
    if edition == "2020":
        for attr in ("originating_vasp", "beneficiary_vasp"):
            holder = getattr(node, attr)
            if holder is not None and holder.person is not None and holder.person.account_numbers:
                key = SPECS["IdentityPayload"].by_attr[attr].emit_key(edition)
                warn((key,), "EDITION", "account numbers of a VASP have no 2020-edition form")
    if byte_counting:
        _byte_lengths(SPEC_OF_MODEL[type(node)], node, (), edition, warn)
    return tuple(found)


def _byte_lengths(
    spec: ObjectSpec, node: Any, path: tuple[str | int, ...], edition: str, warn: Any
) -> None:
    for fs in spec.fields:
        value = getattr(node, fs.attr)
        if value is None or value == ():
            continue
        key = fs.emit_key(edition)
        if fs.kind == "obj":
            _byte_lengths(SPECS[fs.child or ""], value, (*path, key), edition, warn)
        elif fs.kind == "objs":
            for index, item in enumerate(value):
                _byte_lengths(SPECS[fs.child or ""], item, (*path, key, index), edition, warn)
        elif fs.text is not None and fs.kind in ("str", "strs"):
            items = (
                [((*path, key), value)]
                if fs.kind == "str"
                else [((*path, key, i), v) for i, v in enumerate(value)]
            )
            for where, text in items:
                size = len(text.encode("utf-8", "surrogatepass"))
                if len(text) <= fs.text.max < size:
                    warn(
                        where,
                        "LENGTH",
                        f"{size} UTF-8 bytes exceed {fs.text.max} for byte-counting peers",
                    )
