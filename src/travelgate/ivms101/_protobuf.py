"""Canonical model <-> TRISA protobuf (`ivms101` proto package), both directions.

Reading follows proto3 for absent values in TRISA protobuf: empty strings and zero numbers are
absent, an unset natural-person name type or national-identifier type is `MISC`, an unset
address or legal-person name type is missing (interop: unknown `MISC`, with a warning).
Problems found here are parked on the node's Meta and reported by the checker, which knows
the path; a message field that is set but empty is present, as `HasField` says.

Writing goes through the 2020 view: person-level account numbers join the entity list,
natural `MISC` and transliteration `othr` become 0, `sequence` 0 stays unset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from travelgate._pb.ivms101 import identity_pb2, ivms101_pb2
from travelgate.errors import ProtobufEncodeError
from travelgate.ivms101 import _model as m
from travelgate.ivms101._codes import (
    ADDRESS_TYPE,
    LEGAL_NAME_TYPE,
    NATIONAL_ID_TYPE,
    NATURAL_NAME_TYPE,
    TRANSLITERATION,
    CodeList,
)
from travelgate.ivms101._countries import COUNTRY_CODES
from travelgate.ivms101._decode import lei_fix
from travelgate.ivms101._formats import MAX_NUMBER, is_country_shape, upper_ascii
from travelgate.ivms101._report import Sink

Issues = list[tuple[str, str, int | None, str]]


def _each(convert: Callable[[Any], Any], values: Any) -> tuple[Any, ...]:
    # Truth-testing a repeated field is cheap; iterating an empty one is not.
    return tuple(map(convert, values)) if values else ()


def _all(values: Any) -> tuple[str, ...]:
    return tuple(values) if values else ()


def _meta(issues: Issues | None, broken: set[str] | None) -> m.Meta | None:
    if not issues and not broken:
        return None
    meta = m.Meta()
    if issues:
        meta.issues = issues
    if broken:
        meta.broken = broken
    return meta


class PbReader:
    """Builds the canonical model from protobuf messages; create one per document."""

    def __init__(self, sink: Sink) -> None:
        self.fix_country = sink.accepts("FORMAT.COUNTRY.case")
        self.accept_unset_type = sink.accepts("CARDINALITY.pj_type")
        self.sink = sink

    def _country(self, value: str, attr: str, issues: Issues) -> str | None:
        if not value:
            return None
        if self.fix_country and not is_country_shape(value):
            upper = upper_ascii(value)
            if upper and is_country_shape(upper):
                issues.append(
                    ("FORMAT.COUNTRY.case", attr, None, "lower-case country code upper-cased")
                )
                return upper
        return value

    def _code(
        self, codes: CodeList, number: int, attr: str, issues: Issues, broken: set[str]
    ) -> str | None:
        code = codes.by_number.get(number)
        if code is None:
            issues.append(("ENUM", attr, None, f"value is not a code of {codes.name}"))
            broken.add(attr)
            return None
        if code == codes.zero and not codes.zero_is_ivms:
            if self.accept_unset_type:
                issues.append(("CARDINALITY.pj_type", attr, None, "type is unset (unknown type)"))
                return code
            issues.append(("CARDINALITY.pj_type", attr, None, "required element is missing"))
            broken.add(attr)
            return None
        return code

    # -- messages ------------------------------------------------------------------------

    def payload(self, msg: identity_pb2.IdentityPayload) -> m.IdentityPayload:
        person = self.person
        originator = beneficiary = None
        if msg.HasField("originator"):
            o = msg.originator
            originator = m.Originator(_each(person, o.originator_persons), _all(o.account_numbers))
        if msg.HasField("beneficiary"):
            b = msg.beneficiary
            beneficiary = m.Beneficiary(
                _each(person, b.beneficiary_persons), _all(b.account_numbers)
            )
        originating = beneficiary_vasp = transfer = metadata = None
        if msg.HasField("originating_vasp"):
            v = msg.originating_vasp
            originating = m.OriginatingVasp(
                person(v.originating_vasp) if v.HasField("originating_vasp") else None
            )
        if msg.HasField("beneficiary_vasp"):
            w = msg.beneficiary_vasp
            beneficiary_vasp = m.BeneficiaryVasp(
                person(w.beneficiary_vasp) if w.HasField("beneficiary_vasp") else None
            )
        if msg.HasField("transfer_path"):
            transfer = m.TransferPath(
                tuple(self.intermediary(i) for i in msg.transfer_path.transfer_path)
            )
        if msg.HasField("payload_metadata"):
            issues: Issues = []
            methods = []
            for index, number in enumerate(msg.payload_metadata.transliteration_method):
                code = TRANSLITERATION.by_number.get(number)
                if code is None:
                    issues.append(
                        (
                            "ENUM",
                            "transliteration_methods",
                            index,
                            "value is not a code of TransliterationMethodCode",
                        )
                    )
                else:
                    methods.append(code)
            metadata = m.PayloadMetadata(tuple(methods), None, meta=_meta(issues, None))
        return m.IdentityPayload(
            originator, beneficiary, originating, beneficiary_vasp, transfer, metadata
        )

    def intermediary(self, msg: identity_pb2.IntermediaryVasp) -> m.IntermediaryVasp:
        person = self.person(msg.intermediary_vasp) if msg.HasField("intermediary_vasp") else None
        sequence: int | None = msg.sequence
        meta = None
        if msg.sequence > MAX_NUMBER:
            sequence = None
            meta = _meta(
                [
                    (
                        "FORMAT.NUMBER",
                        "sequence",
                        None,
                        "sequence must be an integer of 0 to 18 digits",
                    )
                ],
                {"sequence"},
            )
        return m.IntermediaryVasp(person, sequence, meta=meta)

    def person(self, msg: ivms101_pb2.Person) -> m.Person:
        which = msg.WhichOneof("person")
        if which == "natural_person":
            return m.build(m.Person, (self.natural(msg.natural_person), None, (), None))
        if which == "legal_person":
            return m.build(m.Person, (None, self.legal(msg.legal_person), (), None))
        return m.Person()

    def natural(self, msg: ivms101_pb2.NaturalPerson) -> m.NaturalPerson:
        name = None
        if msg.HasField("name"):
            n = msg.name
            local = self._local_natural_id
            name = m.build(
                m.NaturalPersonName,
                (
                    _each(self._natural_id, n.name_identifiers),
                    _each(local, n.local_name_identifiers),
                    _each(local, n.phonetic_name_identifiers),
                    None,
                ),
            )
        birth = None
        if msg.HasField("date_and_place_of_birth"):
            birth = self.date_and_place_of_birth(msg.date_and_place_of_birth)
        natid = None
        if msg.HasField("national_identification"):
            natid = self.national_identification(msg.national_identification, "natural")
        residence: str | None = msg.country_of_residence or None
        meta = None
        if residence is not None and residence not in COUNTRY_CODES:
            issues: Issues = []
            residence = self._country(residence, "country_of_residence", issues)
            meta = _meta(issues, None)
        return m.build(
            m.NaturalPerson,
            (
                name,
                _each(self.address, msg.geographic_addresses),
                natid,
                msg.customer_identification or None,
                birth,
                residence,
                meta,
            ),
        )

    def _natural_id(self, msg: Any) -> m.NaturalPersonNameId:
        code = NATURAL_NAME_TYPE.by_number.get(msg.name_identifier_type)
        meta = (
            None if code is not None else _unknown_code("name_identifier_type", NATURAL_NAME_TYPE)
        )
        return m.build(
            m.NaturalPersonNameId,
            (msg.primary_identifier or None, msg.secondary_identifier or None, code, meta),
        )

    def _local_natural_id(self, msg: Any) -> m.LocalNaturalPersonNameId:
        code = NATURAL_NAME_TYPE.by_number.get(msg.name_identifier_type)
        meta = (
            None if code is not None else _unknown_code("name_identifier_type", NATURAL_NAME_TYPE)
        )
        return m.build(
            m.LocalNaturalPersonNameId,
            (msg.primary_identifier or None, msg.secondary_identifier or None, code, meta),
        )

    def legal(self, msg: ivms101_pb2.LegalPerson) -> m.LegalPerson:
        name = None
        if msg.HasField("name"):
            n = msg.name
            local = self._local_legal_id
            name = m.build(
                m.LegalPersonName,
                (
                    _each(self._legal_id, n.name_identifiers),
                    _each(local, n.local_name_identifiers),
                    _each(local, n.phonetic_name_identifiers),
                    None,
                ),
            )
        natid = None
        if msg.HasField("national_identification"):
            natid = self.national_identification(msg.national_identification, "legal")
        registration: str | None = msg.country_of_registration or None
        meta = None
        if registration is not None and registration not in COUNTRY_CODES:
            issues: Issues = []
            registration = self._country(registration, "country_of_registration", issues)
            meta = _meta(issues, None)
        return m.build(
            m.LegalPerson,
            (
                name,
                _each(self.address, msg.geographic_addresses),
                msg.customer_number or None,
                natid,
                registration,
                meta,
            ),
        )

    def _legal_type(self, number: int) -> tuple[str | None, m.Meta | None]:
        code = LEGAL_NAME_TYPE.by_number.get(number)
        if code is not None and code != "MISC":
            return code, None
        issues: Issues = []
        broken: set[str] = set()
        attr = "legal_person_name_identifier_type"
        return self._code(LEGAL_NAME_TYPE, number, attr, issues, broken), _meta(issues, broken)

    def _legal_id(self, msg: Any) -> m.LegalPersonNameId:
        code, meta = self._legal_type(msg.legal_person_name_identifier_type)
        return m.build(m.LegalPersonNameId, (msg.legal_person_name or None, code, meta))

    def _local_legal_id(self, msg: Any) -> m.LocalLegalPersonNameId:
        code, meta = self._legal_type(msg.legal_person_name_identifier_type)
        return m.build(m.LocalLegalPersonNameId, (msg.legal_person_name or None, code, meta))

    def address(self, msg: ivms101_pb2.Address) -> m.Address:
        code = ADDRESS_TYPE.by_number.get(msg.address_type)
        country: str | None = msg.country or None
        meta = None
        if code is None or code == "MISC" or (country is not None and country not in COUNTRY_CODES):
            issues: Issues = []
            broken: set[str] = set()
            code = self._code(ADDRESS_TYPE, msg.address_type, "address_type", issues, broken)
            country = self._country(msg.country, "country", issues)
            meta = _meta(issues, broken)
        return m.build(
            m.Address,
            (
                code,
                msg.department or None,
                msg.sub_department or None,
                msg.street_name or None,
                msg.building_number or None,
                msg.building_name or None,
                msg.floor or None,
                msg.post_box or None,
                msg.room or None,
                msg.post_code or None,
                msg.town_name or None,
                msg.town_location_name or None,
                msg.district_name or None,
                msg.country_sub_division or None,
                _all(msg.address_line),
                country,
                meta,
            ),
        )

    def national_identification(
        self, msg: ivms101_pb2.NationalIdentification, kind: str | None
    ) -> m.NationalIdentification:
        issues: Issues = []
        broken: set[str] = set()
        attr = "national_identifier_type"
        code = self._code(NATIONAL_ID_TYPE, msg.national_identifier_type, attr, issues, broken)
        identifier = msg.national_identifier or None
        if code == "LEIX" and identifier is not None:
            fixed = lei_fix(identifier, kind)
            if fixed is not None and self.sink.accepts(fixed[1]):
                identifier = fixed[0]
                issues.append(
                    (fixed[1], "national_identifier", None, "LEI in lower case upper-cased")
                )
        return m.build(
            m.NationalIdentification,
            (
                identifier,
                code,
                self._country(msg.country_of_issue, "country_of_issue", issues),
                msg.registration_authority or None,
                _meta(issues, broken),
            ),
        )

    def date_and_place_of_birth(
        self, msg: ivms101_pb2.DateAndPlaceOfBirth
    ) -> m.DateAndPlaceOfBirth:
        return m.build(
            m.DateAndPlaceOfBirth, (msg.date_of_birth or None, msg.place_of_birth or None, None)
        )


def _unknown_code(attr: str, codes: CodeList) -> m.Meta | None:
    return _meta([("ENUM", attr, None, f"value is not a code of {codes.name}")], {attr})


# -- model -> protobuf -------------------------------------------------------------------


def person_to_pb(person: m.Person) -> ivms101_pb2.Person:
    if person.natural_person is not None and person.legal_person is not None:
        raise ProtobufEncodeError(
            "a person with both naturalPerson and legalPerson has no protobuf form"
        )
    msg = ivms101_pb2.Person()
    if person.natural_person is not None:
        natural_to_pb(person.natural_person, msg.natural_person)
    elif person.legal_person is not None:
        legal_to_pb(person.legal_person, msg.legal_person)
    return msg


def natural_to_pb(node: m.NaturalPerson, msg: ivms101_pb2.NaturalPerson) -> None:
    msg.SetInParent()
    if node.name is not None:
        name = msg.name
        name.SetInParent()
        for item in node.name.name_identifiers:
            _natural_id_to_pb(item, name.name_identifiers.add())
        for local in node.name.local_name_identifiers:
            _natural_id_to_pb(local, name.local_name_identifiers.add())
        for phonetic in node.name.phonetic_name_identifiers:
            _natural_id_to_pb(phonetic, name.phonetic_name_identifiers.add())
    for address in node.geographic_addresses:
        address_to_pb(address, msg.geographic_addresses.add())
    if node.national_identification is not None:
        natid_to_pb(node.national_identification, msg.national_identification)
    if node.customer_identification:
        msg.customer_identification = node.customer_identification
    if node.date_and_place_of_birth is not None:
        birth = msg.date_and_place_of_birth
        birth.SetInParent()
        birth.date_of_birth = node.date_and_place_of_birth.date_of_birth or ""
        birth.place_of_birth = node.date_and_place_of_birth.place_of_birth or ""
    if node.country_of_residence:
        msg.country_of_residence = node.country_of_residence


def _natural_id_to_pb(node: Any, msg: Any) -> None:
    msg.primary_identifier = node.primary_identifier or ""
    msg.secondary_identifier = node.secondary_identifier or ""
    msg.name_identifier_type = NATURAL_NAME_TYPE.number(node.name_identifier_type)


def legal_to_pb(node: m.LegalPerson, msg: ivms101_pb2.LegalPerson) -> None:
    msg.SetInParent()
    if node.name is not None:
        name = msg.name
        name.SetInParent()
        for item in node.name.name_identifiers:
            _legal_id_to_pb(item, name.name_identifiers.add())
        for local in node.name.local_name_identifiers:
            _legal_id_to_pb(local, name.local_name_identifiers.add())
        for phonetic in node.name.phonetic_name_identifiers:
            _legal_id_to_pb(phonetic, name.phonetic_name_identifiers.add())
    for address in node.geographic_addresses:
        address_to_pb(address, msg.geographic_addresses.add())
    if node.customer_identification:
        msg.customer_number = node.customer_identification
    if node.national_identification is not None:
        natid_to_pb(node.national_identification, msg.national_identification)
    if node.country_of_registration:
        msg.country_of_registration = node.country_of_registration


def _legal_id_to_pb(node: Any, msg: Any) -> None:
    msg.legal_person_name = node.legal_person_name or ""
    msg.legal_person_name_identifier_type = LEGAL_NAME_TYPE.number(
        node.legal_person_name_identifier_type
    )


_ADDRESS_TEXT = (
    "department",
    "sub_department",
    "street_name",
    "building_number",
    "building_name",
    "floor",
    "post_box",
    "room",
    "post_code",
    "town_name",
    "town_location_name",
    "district_name",
    "country_sub_division",
    "country",
)


def address_to_pb(node: m.Address, msg: ivms101_pb2.Address) -> None:
    msg.SetInParent()
    msg.address_type = ADDRESS_TYPE.number(node.address_type)
    for attr in _ADDRESS_TEXT:
        value = getattr(node, attr)
        if value:
            setattr(msg, attr, value)
    msg.address_line.extend(node.address_lines)


def natid_to_pb(node: m.NationalIdentification, msg: ivms101_pb2.NationalIdentification) -> None:
    msg.SetInParent()
    msg.national_identifier = node.national_identifier or ""
    msg.national_identifier_type = NATIONAL_ID_TYPE.number(node.national_identifier_type)
    msg.country_of_issue = node.country_of_issue or ""
    msg.registration_authority = node.registration_authority or ""


def _accounts(entity: m.Originator | m.Beneficiary) -> list[str]:
    """Entity accounts, then every person's not already listed (2023 -> 2020)."""
    merged = list(entity.account_numbers)
    for person in entity.persons:
        # a value already listed for the entity or an earlier person is a duplicate
        listed = set(merged)
        merged.extend(a for a in person.account_numbers if a not in listed)
    return merged


def payload_to_pb(node: m.IdentityPayload) -> identity_pb2.IdentityPayload:
    msg = identity_pb2.IdentityPayload()
    if node.originator is not None:
        o = msg.originator
        o.SetInParent()
        for person in node.originator.persons:
            o.originator_persons.append(person_to_pb(person))
        o.account_numbers.extend(_accounts(node.originator))
    if node.beneficiary is not None:
        b = msg.beneficiary
        b.SetInParent()
        for person in node.beneficiary.persons:
            b.beneficiary_persons.append(person_to_pb(person))
        b.account_numbers.extend(_accounts(node.beneficiary))
    if node.originating_vasp is not None:
        msg.originating_vasp.SetInParent()
        if node.originating_vasp.person is not None:
            msg.originating_vasp.originating_vasp.CopyFrom(
                person_to_pb(node.originating_vasp.person)
            )
    if node.beneficiary_vasp is not None:
        msg.beneficiary_vasp.SetInParent()
        if node.beneficiary_vasp.person is not None:
            msg.beneficiary_vasp.beneficiary_vasp.CopyFrom(
                person_to_pb(node.beneficiary_vasp.person)
            )
    if node.transfer_path is not None:
        path = msg.transfer_path
        path.SetInParent()
        for item in node.transfer_path.intermediaries:
            hop = path.transfer_path.add()
            if item.person is not None:
                hop.intermediary_vasp.CopyFrom(person_to_pb(item.person))
            if item.sequence:
                hop.sequence = item.sequence
    if node.payload_metadata is not None:
        metadata = msg.payload_metadata
        metadata.SetInParent()
        metadata.transliteration_method.extend(
            TRANSLITERATION.number(code) for code in node.payload_metadata.transliteration_methods
        )
    return msg
