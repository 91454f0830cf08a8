"""Checks on the canonical model: cardinality, datatypes, formats, C1-C12 and hints (5, 6, 7).

One depth-first walk in the element order of the IVMS101 data model; paths are rebuilt from
the keys each
node recorded when it was decoded (or from the dialect's own spelling when it came from
protobuf), so a violation names the document as its sender wrote it.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from travelgate.ivms101._codes import LEGAL_PERSON_ID_TYPES
from travelgate.ivms101._countries import COUNTRY_CODES, KOSOVO
from travelgate.ivms101._decode import spell
from travelgate.ivms101._fast import Clean
from travelgate.ivms101._formats import (
    has_forbidden,
    in_class_2020,
    is_country_shape,
    is_lei_shape,
    lei_checksum_ok,
    parse_date,
    scripts_in,
)
from travelgate.ivms101._model import (
    Address,
    IdentityPayload,
    LegalPerson,
    LegalPersonName,
    Meta,
    NationalIdentification,
    NaturalPerson,
    NaturalPersonName,
    Node,
    Person,
    TransferPath,
)
from travelgate.ivms101._registry import RA_PATTERN, SPECIAL_CODES, RaRegistry
from travelgate.ivms101._report import Path, Pos, Sink
from travelgate.ivms101._schema import SPECS, FieldSpec, ObjectSpec

_NO_BROKEN: frozenset[str] = frozenset()
_MISSING = "required element is missing"
_FAST_COUNTRY = -1
_FAST_RA = -2
_Step = tuple[FieldSpec, str, str, int, str, ObjectSpec | None, str | None]
# Walk plans per (dialect, edition, 2020 class in force): built once, shared by all checkers.
_Quick = tuple[
    tuple[tuple[str, int], ...], tuple[tuple[FieldSpec, str, str], ...], tuple[_Step, ...]
]
_PLANS: dict[tuple[str, str, bool], tuple[dict[str, tuple[_Step, ...]], dict[str, _Quick]]] = {}
_MISSING_CHECK = {
    "required": "CARDINALITY",
    "party": "CARDINALITY.party",
    "town": "CARDINALITY.town",
}
_ROLE_OF = {
    "Originator": "originator",
    "Beneficiary": "beneficiary",
    "OriginatingVASP": "originatingVASP",
    "BeneficiaryVASP": "beneficiaryVASP",
    "IntermediaryVASP": "intermediary",
}
_KIND_OF = {"NaturalPerson": "natural", "LegalPerson": "legal"}


def _present(node: Any, attr: str) -> bool:
    """Present in the document, even when its value was unusable (C1, C4, C8, C9)."""
    value = getattr(node, attr)
    if value is not None and value != ():
        return True
    meta: Meta | None = node.meta
    return meta is not None and attr in meta.broken


class Checker:
    """Walks one model and reports into a Sink; create one per validation."""

    def __init__(
        self,
        sink: Sink,
        *,
        dialect: str,
        edition: str,
        today: _dt.date,
        registry: RaRegistry,
    ) -> None:
        self.sink = sink
        self.dialect = "ivms" if dialect == "ivms" else "trisa-pj"
        self.edition = edition
        self.today = today
        self.registry = registry
        table = sink.table
        self.class_2020 = edition == "2020" and table.checks("CHARSET.class2020")
        self.translit = table.checks("TRANSLIT")
        self.ra_country = table.checks("RA.COUNTRY")
        self.scripts: set[str] = set()
        plans = _PLANS.setdefault((self.dialect, edition, self.class_2020), ({}, {}))
        self._plans, self._quick = plans

    def _plan(self, spec: ObjectSpec) -> tuple[_Step, ...]:
        """Per field: what to read, and the cheap test that proves a value fine (most are)."""
        plan = self._plans.get(spec.name)
        if plan is None:
            steps = []
            for fs in spec.fields:
                fast = 0  # 0: always take the full check
                if fs.kind == "str" and fs.fmt == "country":
                    fast = _FAST_COUNTRY
                elif fs.kind == "str" and fs.fmt == "ra":
                    fast = _FAST_RA
                elif (
                    fs.kind == "str"
                    and fs.fmt == "text"
                    and fs.text is not None
                    and (fs.text.chars == "local" or not self.class_2020)
                ):
                    fast = fs.text.max
                default = spell(fs, self.dialect, self.edition, None)
                child = SPECS[fs.child] if fs.child else None
                missing = _MISSING_CHECK.get(fs.need)
                steps.append((fs, fs.attr, fs.kind, fast, default, child, missing))
            plan = self._plans[spec.name] = tuple(steps)
            # The quick plan, for nodes read from protobuf or built in code (no Meta): plain
            # short texts get a two-item loop, presence is checked separately, the rest
            # takes the general loop without its presence test.
            texts = tuple((s[1], s[3]) for s in plan if s[2] == "str" and s[3] > 0)
            required = tuple((s[0], s[1], s[6]) for s in plan if s[6] is not None)
            rest = tuple((*s[:6], None) for s in plan if not (s[2] == "str" and s[3] > 0))
            self._quick[spec.name] = (texts, required, rest)
        return plan

    def key(self, fs: FieldSpec, meta: Meta | None) -> str:
        return spell(fs, self.dialect, self.edition, meta)

    def _base(self, fs: FieldSpec, path: Path, meta: Meta | None) -> Path:
        key = self.key(fs, meta)
        return path if key == "" else (*path, key)

    def _item(self, fs: FieldSpec, base: Path, index: int, meta: Meta | None) -> tuple[Path, int]:
        if meta is None:
            return (*base, index), index
        if fs.attr in meta.wrapped:
            return base, 0
        mapped = meta.index_map.get(fs.attr)
        given = mapped[index] if mapped is not None else index
        return (*base, given), given

    # -- the walk ------------------------------------------------------------------------

    def run(
        self, spec: ObjectSpec, node: Node, path: Path, *, role: str | None, kind: str | None
    ) -> None:
        if isinstance(node, IdentityPayload):
            clean = Clean(
                edition=self.edition,
                today=self.today,
                registry=self.registry,
                class_2020=self.class_2020,
                ra_country=self.ra_country,
            )
            if clean.payload(node):
                return  # proven to produce no report: the common case, done quickly
            self.walk(spec, node, path, (), role, kind)
            self._payload(node, path)
        else:
            self.walk(spec, node, path, (), role, kind)

    def walk(
        self,
        spec: ObjectSpec,
        node: Any,
        path: Path,
        pos: Pos,
        role: str | None,
        kind: str | None,
    ) -> None:
        meta: Meta | None = node.meta
        sink = self.sink
        if meta is not None and meta.issues:
            for check, attr, index, message in meta.issues:
                fs = spec.by_attr[attr]
                ipath = (*path, self.key(fs, meta))
                ipos = (*pos, fs.row)
                if index is not None:
                    ipath, ipos = (*ipath, index), (*ipos, index)
                sink.add(check, ipath, ipos, message)
        broken = meta.broken if meta is not None else _NO_BROKEN
        name = spec.name
        if name in _ROLE_OF:
            role = _ROLE_OF[name]
        elif name in _KIND_OF:
            kind = _KIND_OF[name]
        registry = self.registry
        plan = self._plans.get(name) or self._plan(spec)
        if meta is None:
            texts, required, plan = self._quick[name]
            for attr, limit in texts:
                value = getattr(node, attr)
                if value is not None and not (
                    0 < len(value) <= limit
                    and value.isascii()
                    and value.isprintable()
                    and value[0] != " "
                ):
                    self.text(spec.by_attr[attr], value, path, pos, None)
            for fs, attr, check in required:
                value = getattr(node, attr)
                if value is None or value == ():
                    sink.add(check, (*path, self.key(fs, None)), (*pos, fs.row), _MISSING)
        for fs, attr, fkind, fast, default, child_spec, missing in plan:
            child: Any = child_spec
            value = getattr(node, attr)
            # Most optional elements are absent: one truth test settles them ("" and 0 go on).
            if not value and (value is None or value == ()):
                if missing is not None and attr not in broken:
                    sink.add(
                        missing,
                        (*path, self.key(fs, meta)),
                        (*pos, fs.row),
                        "required element is missing",
                    )
                continue
            if fkind == "str":
                if fast > 0:
                    # Fine when short enough and printable ASCII, and (names) not starting
                    # with a space, which is where an all-space value would begin.
                    if (
                        0 < len(value) <= fast
                        and value.isascii()
                        and value.isprintable()
                        and value[0] != " "
                    ):
                        continue
                elif fast == _FAST_COUNTRY:
                    if value in COUNTRY_CODES:
                        continue
                elif fast == _FAST_RA and value in registry:
                    continue
                self.text(fs, value, path, pos, meta)
                continue
            key = default if meta is None else self.key(fs, meta)
            base = path if key == "" else (*path, key)
            if fkind == "obj":
                if meta is not None and attr in meta.unwrapped:
                    base = (*base, 0)
                self.walk(child, value, base, (*pos, fs.row), role, kind)
            elif fkind == "objs":
                if meta is None:
                    row = fs.row
                    for index, item in enumerate(value):
                        self.walk(child, item, (*base, index), (*pos, row, index), role, kind)
                    continue
                for index, item in enumerate(value):
                    ipath, given = self._item(fs, base, index, meta)
                    self.walk(child, item, ipath, (*pos, fs.row, given), role, kind)
            elif fkind == "strs":
                for index, item in enumerate(value):
                    ipath, given = self._item(fs, base, index, meta)
                    self.text(fs, item, ipath[:-1], (*pos, fs.row, given), meta, ipath)
                if fs.max_items is not None and len(value) > fs.max_items:
                    sink.add(
                        "CARDINALITY.max",
                        base,
                        (*pos, fs.row),
                        f"{len(value)} items exceed the maximum of {fs.max_items}",
                    )
        hook = _HOOKS.get(name)
        if hook is not None:
            hook(self, node, path, pos, role, kind)

    # -- datatypes -----------------------------------------------------------------------

    def text(
        self,
        fs: FieldSpec,
        value: str,
        path: Path,
        pos: Pos,
        meta: Meta | None,
        full: Path | None = None,
    ) -> None:
        sink = self.sink
        if full is None:
            full = (*path, self.key(fs, meta))
            pos = (*pos, fs.row)
        if value == "":
            sink.add("LENGTH", full, pos, "value is empty")
            return
        fmt = fs.fmt
        if fmt == "text":
            text = fs.text
            assert text is not None
            size = len(value)
            if size > text.max:
                sink.add("LENGTH", full, pos, f"length {size} exceeds maximum {text.max}")
            if text.chars == "ascii":
                if not (value.isascii() and value.isprintable()):
                    if has_forbidden(value):
                        sink.add(
                            "CHARSET.forbidden",
                            full,
                            pos,
                            "contains control or separator characters",
                        )
                    else:
                        sink.add(
                            "CHARSET.ascii",
                            full,
                            pos,
                            "contains characters outside printable ASCII",
                        )
                elif self.class_2020 and not in_class_2020(value):
                    sink.add(
                        "CHARSET.class2020",
                        full,
                        pos,
                        "contains characters outside the 2020 class "
                        "(letters, digits, apostrophe, space)",
                    )
            elif not value.isprintable():
                if has_forbidden(value):
                    sink.add(
                        "CHARSET.forbidden", full, pos, "contains control or separator characters"
                    )
                if self.translit:
                    self.scripts |= scripts_in(value)
            elif self.translit and not value.isascii():
                self.scripts |= scripts_in(value)
            if fs.blank_is_missing and not value.strip():
                sink.add("CARDINALITY", full, pos, "name must contain a non-space character")
        elif fmt == "country":
            if not is_country_shape(value):
                sink.add(
                    "FORMAT.COUNTRY",
                    full,
                    pos,
                    "country must be two upper-case letters (ISO 3166-1 alpha-2)",
                )
            elif value not in COUNTRY_CODES:
                if value == KOSOVO:
                    sink.add("C3.xk", full, pos, "country code XK is user-assigned, not ISO 3166-1")
                else:
                    sink.add(
                        "C3",
                        full,
                        pos,
                        "country code is not an assigned ISO 3166-1 alpha-2 code or XX",
                    )
        elif fmt == "date":
            born = parse_date(value)
            if born is None:
                sink.add(
                    "FORMAT.DATE", full, pos, "date must be a calendar date written YYYY-MM-DD"
                )
            elif born >= self.today:
                sink.add("C2", full, pos, "date of birth must be before today")
        elif RA_PATTERN.fullmatch(value) is None:
            sink.add(
                "FORMAT.RA", full, pos, "registration authority must be RA followed by 6 digits"
            )
        elif value not in self.registry:
            sink.add("C10", full, pos, f"registration authority {value} is not on the GLEIF list")

    # -- constraints ---------------------------------------------------------------------

    def _payload(self, node: IdentityPayload, path: Path) -> None:
        spec = SPECS["IdentityPayload"]
        meta = node.meta
        metadata = node.payload_metadata
        pm_fs = spec.by_attr["payload_metadata"]
        pm_spec = SPECS["PayloadMetadata"]
        pm_path = self._base(pm_fs, path, meta)
        pm_meta = metadata.meta if metadata is not None else None
        if self.edition == "2023":
            broken = (
                metadata is None and meta is not None and "payload_metadata" in meta.broken
            ) or (pm_meta is not None and "payload_version" in pm_meta.broken)
            if not broken and (metadata is None or metadata.payload_version is None):
                fs = pm_spec.by_attr["payload_version"]
                self.sink.add(
                    "CARDINALITY.version",
                    (*pm_path, self.key(fs, pm_meta)),
                    (pm_fs.row, fs.row),
                    "a 2023 document must carry payloadVersion",
                )
        if self.scripts:
            methods = set(metadata.transliteration_methods) if metadata is not None else set()
            if "aran" in methods:
                methods.add("arab")
            missing = sorted(self.scripts - methods)
            if missing:
                fs = pm_spec.by_attr["transliteration_methods"]
                self.sink.add(
                    "TRANSLIT",
                    (*pm_path, self.key(fs, pm_meta)),
                    (pm_fs.row, fs.row),
                    f"transliterationMethod does not list {', '.join(missing)} "
                    "for the scripts of local or phonetic names",
                )

    def _person(
        self, node: Person, path: Path, pos: Pos, role: str | None, kind: str | None
    ) -> None:
        del role, kind
        if node.natural_person is not None and node.legal_person is not None:
            self.sink.add(
                "ONE_OF", path, pos, "person must hold naturalPerson or legalPerson, not both"
            )
        elif not (_present(node, "natural_person") or _present(node, "legal_person")):
            self.sink.add("CARDINALITY", path, pos, "person must hold naturalPerson or legalPerson")

    def _natural(
        self, node: NaturalPerson, path: Path, pos: Pos, role: str | None, kind: str | None
    ) -> None:
        del kind
        if role == "originator" and not any(
            _present(node, attr)
            for attr in (
                "geographic_addresses",
                "customer_identification",
                "national_identification",
                "date_and_place_of_birth",
            )
        ):
            self.sink.add(
                "C1",
                path,
                pos,
                "natural-person originator needs an address, customer identification, "
                "national identification or date and place of birth",
            )
        natid = node.national_identification
        if natid is not None:
            self._ra_country(natid, natid.country_of_issue, node, path, pos)

    def _legal(
        self, node: LegalPerson, path: Path, pos: Pos, role: str | None, kind: str | None
    ) -> None:
        del kind
        if role == "originator":
            addresses = node.geographic_addresses
            unknown = any(a.address_type is None for a in addresses)
            geographic = any(a.address_type == "GEOG" for a in addresses)
            if not (
                geographic
                or unknown
                or _present(node, "customer_identification")
                or _present(node, "national_identification")
            ):
                self.sink.add(
                    "C4",
                    path,
                    pos,
                    "legal-person originator needs a GEOG address, customer identification "
                    "or national identification",
                )
        natid = node.national_identification
        if natid is not None:
            self._ra_country(natid, node.country_of_registration, node, path, pos)

    def _ra_country(
        self,
        natid: NationalIdentification,
        country: str | None,
        person: NaturalPerson | LegalPerson,
        path: Path,
        pos: Pos,
    ) -> None:
        code = natid.registration_authority
        if not self.ra_country or code is None or country is None or code in SPECIAL_CODES:
            return
        if code not in self.registry or country in self.registry.countries(code):
            return
        spec = SPECS["NaturalPerson" if isinstance(person, NaturalPerson) else "LegalPerson"]
        fs = spec.by_attr["national_identification"]
        ra = SPECS["NationalIdentification"].by_attr["registration_authority"]
        self.sink.add(
            "RA.COUNTRY",
            (*self._base(fs, path, person.meta), self.key(ra, natid.meta)),
            (*pos, fs.row, ra.row),
            f"registration authority {code} does not serve country {country}",
        )

    def _name(
        self,
        node: NaturalPersonName | LegalPersonName,
        path: Path,
        pos: Pos,
        role: str | None,
        kind: str | None,
    ) -> None:
        del role, kind
        items = node.name_identifiers
        if not items:
            return
        if isinstance(node, NaturalPersonName):
            types = [item.name_identifier_type for item in node.name_identifiers]
            rule, spec = "C6", SPECS["NaturalPersonName"]
        else:
            types = [item.legal_person_name_identifier_type for item in node.name_identifiers]
            rule, spec = "C5", SPECS["LegalPersonName"]
        if "LEGL" in types or None in types:
            return
        fs = spec.by_attr["name_identifiers"]
        self.sink.add(
            rule,
            (*path, self.key(fs, node.meta)),
            (*pos, fs.row),
            "name must contain at least one nameIdentifier of type LEGL",
        )

    def _address(
        self, node: Address, path: Path, pos: Pos, role: str | None, kind: str | None
    ) -> None:
        del role, kind
        if _present(node, "address_lines"):
            return
        if _present(node, "street_name") and (
            _present(node, "building_name") or _present(node, "building_number")
        ):
            return
        self.sink.add(
            "C8",
            path,
            pos,
            "address needs an addressLine, or a streetName with a buildingName or buildingNumber",
        )

    def _natid(
        self,
        node: NationalIdentification,
        path: Path,
        pos: Pos,
        role: str | None,
        kind: str | None,
    ) -> None:
        del role
        spec = SPECS["NationalIdentification"]
        meta = node.meta
        sink = self.sink
        id_type = node.national_identifier_type

        def at(attr: str) -> tuple[Path, Pos]:
            fs = spec.by_attr[attr]
            return (*path, self.key(fs, meta)), (*pos, fs.row)

        if kind == "legal":
            if id_type is not None and id_type not in LEGAL_PERSON_ID_TYPES:
                sink.add(
                    "C7",
                    *at("national_identifier_type"),
                    f"type {id_type} is not allowed for a legal person (RAID, MISC, LEIX, TXID)",
                )
            if _present(node, "country_of_issue"):
                sink.add(
                    "C9",
                    *at("country_of_issue"),
                    "a legal person's identifier has no country of issue",
                )
            if id_type == "LEIX":
                if _present(node, "registration_authority"):
                    sink.add(
                        "C9",
                        *at("registration_authority"),
                        "an LEI must not name a registration authority",
                    )
            elif id_type is not None and not _present(node, "registration_authority"):
                sink.add(
                    "C9",
                    *at("registration_authority"),
                    f"a registration authority is required for type {id_type}",
                )
        identifier = node.national_identifier
        if id_type != "LEIX" or not identifier:
            return
        if is_lei_shape(identifier):
            if not lei_checksum_ok(identifier):
                what = f"LEI {identifier}" if kind == "legal" else "LEI"
                sink.add(
                    "FORMAT.LEI_CHECKSUM",
                    *at("national_identifier"),
                    f"{what} fails the ISO 7064 MOD 97-10 check",
                )
        elif kind is not None:
            sink.add(
                "C11" if kind == "legal" else "FORMAT.LEI",
                *at("national_identifier"),
                "an LEI must be 18 upper-case letters or digits followed by 2 digits",
            )

    def _transfer_path(
        self, node: TransferPath, path: Path, pos: Pos, role: str | None, kind: str | None
    ) -> None:
        del role, kind
        items = node.intermediaries
        sequences = [item.sequence for item in items]
        if not items or None in sequences:
            return
        spec = SPECS["TransferPath"]
        list_fs = spec.fields[0]
        seq_fs = SPECS["IntermediaryVASP"].by_attr["sequence"]
        base = self._base(list_fs, path, node.meta)

        def at(index: int) -> tuple[Path, Pos]:
            ipath, given = self._item(list_fs, base, index, node.meta)
            return (*ipath, self.key(seq_fs, items[index].meta)), (
                *pos,
                list_fs.row,
                given,
                seq_fs.row,
            )

        count = len(items)
        seen: set[int] = set()
        complete = True
        for index, value in enumerate(sequences):
            assert value is not None
            if value >= count:
                complete = False
                self.sink.add("C12", *at(index), f"sequence {value} leaves a gap in 0..{count - 1}")
            elif value in seen:
                complete = False
                self.sink.add("C12", *at(index), f"sequence {value} is repeated")
            seen.add(value)
        if complete:
            for index, value in enumerate(sequences):
                if value != index:
                    self.sink.add(
                        "C12.order",
                        *at(index),
                        f"item {index} carries sequence {value}: list order differs from sequence",
                    )


_HOOKS: dict[str, Any] = {
    "Person": Checker._person,
    "NaturalPerson": Checker._natural,
    "LegalPerson": Checker._legal,
    "NaturalPersonName": Checker._name,
    "LegalPersonName": Checker._name,
    "Address": Checker._address,
    "NationalIdentification": Checker._natid,
    "TransferPath": Checker._transfer_path,
}
