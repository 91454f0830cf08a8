"""A quick proof that a model is clean, for the common case: a valid received payload.

`Clean.payload(model)` returns True only when the full checker (`_check`) would report
nothing at all for the model under the same settings; on any doubt it returns False and
the caller runs the full walk, which finds the exact violations and paths. It knows no
paths and builds nothing, so a valid two-person payload is proven in a fraction of the
time of the general walk. Nodes that carry decoding problems (broken elements, parked
issues) are never proven clean here. Non-ASCII text always takes the full walk (it may
need CHARSET or TRANSLIT reports).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from travelgate.ivms101 import _model as m
from travelgate.ivms101._codes import LEGAL_PERSON_ID_TYPES
from travelgate.ivms101._countries import COUNTRY_CODES
from travelgate.ivms101._formats import in_class_2020, is_lei_shape, lei_checksum_ok, parse_date
from travelgate.ivms101._registry import SPECIAL_CODES, RaRegistry

_ADDRESS_TEXT = (
    ("department", 50),
    ("sub_department", 70),
    ("street_name", 70),
    ("building_number", 16),
    ("building_name", 35),
    ("floor", 70),
    ("post_box", 16),
    ("room", 70),
    ("post_code", 16),
    ("town_name", 35),
    ("town_location_name", 35),
    ("district_name", 35),
    ("country_sub_division", 35),
)


def _plain(meta: m.Meta | None) -> bool:
    return meta is None or not (meta.broken or meta.issues)


class Clean:
    """Predicates mirroring the checks of `_check.Checker` for one set of settings."""

    def __init__(
        self,
        *,
        edition: str,
        today: _dt.date,
        registry: RaRegistry,
        class_2020: bool,
        ra_country: bool,
    ) -> None:
        self.edition = edition
        self.today = today
        self.registry = registry
        self.class_2020 = class_2020
        self.ra_country = ra_country

    def text(self, value: str | None, limit: int) -> bool:
        """An optional text: absent, or short printable ASCII not starting with a space."""
        if value is None:
            return True
        return (
            0 < len(value) <= limit
            and value.isascii()
            and value.isprintable()
            and value[0] != " "
            and (not self.class_2020 or in_class_2020(value))
        )

    def payload(self, node: m.IdentityPayload) -> bool:
        if not _plain(node.meta) or node.originator is None or node.beneficiary is None:
            return False
        metadata = node.payload_metadata
        if self.edition == "2023" and (metadata is None or metadata.payload_version is None):
            return False
        if metadata is not None and not _plain(metadata.meta):
            return False
        if not self.party(node.originator, "originator") or not self.party(
            node.beneficiary, "beneficiary"
        ):
            return False
        for vasp in (node.originating_vasp, node.beneficiary_vasp):
            if vasp is not None and (
                not _plain(vasp.meta)
                or (vasp.person is not None and not self.person(vasp.person, None))
            ):
                return False
        transfer = node.transfer_path
        if transfer is not None:
            if not _plain(transfer.meta):
                return False
            for index, hop in enumerate(transfer.intermediaries):
                if not _plain(hop.meta) or hop.sequence != index or hop.person is None:
                    return False
                if not self.person(hop.person, None):
                    return False
        return True

    def party(self, node: m.Originator | m.Beneficiary, role: str) -> bool:
        if not _plain(node.meta) or not node.persons:
            return False
        text = self.text
        for account in node.account_numbers:
            if not text(account, 100):
                return False
        return all(self.person(person, role) for person in node.persons)

    def person(self, node: m.Person, role: str | None) -> bool:
        if not _plain(node.meta):
            return False
        for account in node.account_numbers:
            if not self.text(account, 512):
                return False
        natural, legal = node.natural_person, node.legal_person
        if natural is not None:
            return legal is None and self.natural(natural, role)
        return legal is not None and self.legal(legal, role)

    def natural(self, node: m.NaturalPerson, role: str | None) -> bool:
        if not _plain(node.meta) or node.name is None:
            return False
        text = self.text
        name = node.name
        if not _plain(name.meta) or not name.name_identifiers:
            return False
        legal_name = False
        for item in name.name_identifiers:
            if not _plain(item.meta) or item.primary_identifier is None:
                return False
            if not (text(item.primary_identifier, 100) and text(item.secondary_identifier, 100)):
                return False
            kind = item.name_identifier_type
            if kind is None:
                return False
            legal_name = legal_name or kind == "LEGL"
        if not legal_name:
            return False
        for local in (*name.local_name_identifiers, *name.phonetic_name_identifiers):
            if not self.local_natural(local):
                return False
        if not all(self.address(a) for a in node.geographic_addresses):
            return False
        if not text(node.customer_identification, 50):
            return False
        residence = node.country_of_residence
        if residence is not None and residence not in COUNTRY_CODES:
            return False
        birth = node.date_and_place_of_birth
        if birth is not None:
            if (
                not _plain(birth.meta)
                or birth.date_of_birth is None
                or birth.place_of_birth is None
            ):
                return False
            born = parse_date(birth.date_of_birth)
            if born is None or born >= self.today or not text(birth.place_of_birth, 70):
                return False
        natid = node.national_identification
        if natid is not None:
            if not self.natid(natid, "natural"):
                return False
            if self.ra_country and self._ra_country_fires(natid, natid.country_of_issue):
                return False
        # C1 binds originators only.
        return role != "originator" or bool(
            node.geographic_addresses
            or node.customer_identification is not None
            or natid is not None
            or birth is not None
        )

    def local_natural(self, node: Any) -> bool:
        # Local names may be non-ASCII; those need the full walk (TRANSLIT, CHARSET).
        return (
            _plain(node.meta)
            and node.primary_identifier is not None
            and node.name_identifier_type is not None
            and self._local(node.primary_identifier)
            and (node.secondary_identifier is None or self._local(node.secondary_identifier))
        )

    def _local(self, value: str) -> bool:
        return 0 < len(value) <= 100 and value.isascii() and value.isprintable()

    def legal(self, node: m.LegalPerson, role: str | None) -> bool:
        if not _plain(node.meta) or node.name is None:
            return False
        text = self.text
        name = node.name
        if not _plain(name.meta) or not name.name_identifiers:
            return False
        legal_name = False
        for item in name.name_identifiers:
            if not _plain(item.meta) or item.legal_person_name is None:
                return False
            kind = item.legal_person_name_identifier_type
            if kind is None or not text(item.legal_person_name, 100):
                return False
            legal_name = legal_name or kind == "LEGL"
        if not legal_name:
            return False
        for local in (*name.local_name_identifiers, *name.phonetic_name_identifiers):
            if not (
                _plain(local.meta)
                and local.legal_person_name is not None
                and local.legal_person_name_identifier_type is not None
                and self._local(local.legal_person_name)
            ):
                return False
        addresses = node.geographic_addresses
        if not all(self.address(a) for a in addresses):
            return False
        if not text(node.customer_identification, 50):
            return False
        registration = node.country_of_registration
        if registration is not None and registration not in COUNTRY_CODES:
            return False
        natid = node.national_identification
        if natid is not None:
            if not self.natid(natid, "legal"):
                return False
            if self.ra_country and self._ra_country_fires(natid, registration):
                return False
        # C4 binds originators only.
        return role != "originator" or bool(
            any(a.address_type == "GEOG" for a in addresses)
            or node.customer_identification is not None
            or natid is not None
        )

    def address(self, node: m.Address) -> bool:
        if not _plain(node.meta) or node.address_type is None or node.town_name is None:
            return False
        if node.country not in COUNTRY_CODES:  # also rejects a missing country
            return False
        text = self.text
        for attr, limit in _ADDRESS_TEXT:
            if not text(getattr(node, attr), limit):
                return False
        lines = node.address_lines
        if len(lines) > 7 or not all(text(line, 70) for line in lines):
            return False
        return bool(lines or (node.street_name and (node.building_name or node.building_number)))

    def natid(self, node: m.NationalIdentification, kind: str) -> bool:
        identifier, id_type = node.national_identifier, node.national_identifier_type
        if not _plain(node.meta) or identifier is None or id_type is None:
            return False
        if not self.text(identifier, 35):
            return False
        issue, authority = node.country_of_issue, node.registration_authority
        if issue is not None and issue not in COUNTRY_CODES:
            return False
        if authority is not None and authority not in self.registry:
            return False
        if kind == "legal":
            if id_type not in LEGAL_PERSON_ID_TYPES or issue is not None:
                return False
            if (id_type == "LEIX") == (authority is not None):
                return False
        if id_type == "LEIX":
            return is_lei_shape(identifier) and lei_checksum_ok(identifier)
        return True

    def _ra_country_fires(self, node: m.NationalIdentification, country: str | None) -> bool:
        code = node.registration_authority
        if code is None or country is None or code in SPECIAL_CODES:
            return False
        return code in self.registry and country not in self.registry.countries(code)
