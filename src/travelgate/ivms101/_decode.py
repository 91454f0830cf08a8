"""JSON (IVMS JSON or protojson) -> canonical model, reporting structural problems.

The decoder resolves every key against the key classes of the detected dialect and edition
(K1 own spellings, K2 other edition, K3 interop aliases, rekey aliases, the minority dialect
of a mixed document), checks JSON types, applies the interop normalisations the profile
accepts, and records on each node how it was written. Datatype checks and constraints run
later, on the model (`_check`).
"""

from __future__ import annotations

from typing import Any

from travelgate.ivms101._codes import (
    PAYLOAD_VERSION_2020,
    PAYLOAD_VERSION_2023,
    PAYLOAD_VERSION_PRINTED,
    CodeList,
)
from travelgate.ivms101._formats import (
    MAX_NUMBER,
    is_country_shape,
    is_digits,
    is_lei_shape,
    upper_ascii,
)
from travelgate.ivms101._jsonio import DupDict
from travelgate.ivms101._model import Meta, Node
from travelgate.ivms101._rekey import ALIASES
from travelgate.ivms101._report import KeySink, Path, Pos, Sink
from travelgate.ivms101._schema import SPECS, FieldSpec, ObjectSpec

_ABSENT: Any = object()
_VASP_ENTITIES = frozenset({"OriginatingVASP", "BeneficiaryVASP"})
_PERSON_KEYS = ("naturalPerson", "legalPerson", "natural_person", "legal_person")
_UNKNOWN_POS = 1000  # unknown keys sort after the known elements of their object
_ZERO_TYPE_OBJECTS = frozenset(
    {"NaturalPersonNameID", "LocalNaturalPersonNameID", "NationalIdentification"}
)
_PJ_TYPE_OBJECTS = frozenset({"Address", "LegalPersonNameID", "LocalLegalPersonNameID"})
_TYPE_ATTR = {
    "NaturalPersonNameID": "name_identifier_type",
    "LocalNaturalPersonNameID": "name_identifier_type",
    "NationalIdentification": "national_identifier_type",
    "Address": "address_type",
    "LegalPersonNameID": "legal_person_name_identifier_type",
    "LocalLegalPersonNameID": "legal_person_name_identifier_type",
}


def spell(fs: FieldSpec, dialect: str, edition: str, meta: Meta | None) -> str:
    """The key an element would have: as given, or as the emitter would write it."""
    if meta is not None:
        given = meta.keys.get(fs.attr)
        if given is not None:
            return given
    if dialect == "ivms":
        return fs.emit_key(edition)
    return fs.pj_key(meta is not None and meta.style == "proto")


def lei_fix(identifier: str, kind: str | None) -> tuple[str, str] | None:
    """Interop: an LEI in lower or mixed case -> (upper-cased value, check to report)."""
    if kind is None or is_lei_shape(identifier):
        return None
    upper = upper_ascii(identifier)
    if upper is None or not is_lei_shape(upper):
        return None
    return upper, ("C11.case" if kind == "legal" else "FORMAT.LEI")


class JsonDecoder:
    """Decodes one parsed JSON document; create one per document."""

    def __init__(
        self,
        sink: Sink,
        *,
        dialect: str,
        mixed: bool,
        edition: str,
        forced_edition: bool,
        rekey: bool,
    ) -> None:
        self.sink = sink
        self.dialect = dialect
        self.pj = dialect == "trisa-pj"
        self.mixed = mixed
        self.edition = edition
        self.forced_edition = forced_edition
        self.rekey = rekey
        self.accept_short = not self.pj or mixed
        self.accept_long = self.pj or mixed
        self.dialect_reported = False
        self.kind: str | None = None  # natural / legal, for the LEI checks
        self._tables: dict[str, dict[str, tuple[FieldSpec, str]]] = {}

    # -- key classes ---------------------------------------------------------------------

    def _table(self, spec: ObjectSpec) -> dict[str, tuple[FieldSpec, str]]:
        table = self._tables.get(spec.name)
        if table is not None:
            return table
        table = {}
        own = "k2020" if self.edition == "2020" else "k2023"
        other = "k2023" if own == "k2020" else "k2020"
        if self.pj:
            for fs in spec.fields:
                if fs.pj:
                    for key in fs.pj:
                        table.setdefault(key, (fs, "k1"))
            if self.mixed:
                for fs in spec.fields:
                    for key in (*fs.k2020, *fs.k2023):
                        table.setdefault(key, (fs, "minority"))
        else:
            for fs in spec.fields:
                for key in getattr(fs, own):
                    table.setdefault(key, (fs, "k1"))
            for fs in spec.fields:
                for key in getattr(fs, other):
                    table.setdefault(key, (fs, "k2"))
            if self.mixed:
                for fs in spec.fields:
                    for key in fs.pj or ():
                        table.setdefault(key, (fs, "minority"))
        for fs in spec.fields:
            for key in fs.k3:
                table.setdefault(key, (fs, "k3"))
        if self.rekey:
            for key, attr in ALIASES.get(spec.name, {}).items():
                table.setdefault(key, (spec.by_attr[attr], "rekey"))
        self._tables[spec.name] = table
        return table

    def _contradiction(self, path: Path, pos: Pos, what: str) -> None:
        if not self.dialect_reported:
            self.dialect_reported = True
            majority = "protojson" if self.pj else "IVMS JSON"
            self.sink.add("DIALECT", path, pos, f"{what} contradicts the {majority} majority")

    # -- objects -------------------------------------------------------------------------

    def decode(self, spec: ObjectSpec, raw: dict[str, Any], path: Path, pos: Pos) -> Node:
        meta = Meta()
        if self.pj and any("_" in key for key in raw):
            meta.style = "proto"
        values: dict[str, Any] = {}
        sink = self.sink
        if spec.name in _VASP_ENTITIES and self._flat_vasp(spec, raw, path, pos, meta, values):
            return spec.model(**values, meta=meta)
        saved_kind = self.kind
        if spec.name == "NaturalPerson":
            self.kind = "natural"
        elif spec.name == "LegalPerson":
            self.kind = "legal"
        if isinstance(raw, DupDict):
            for key in raw.dups:
                sink.add("DUPLICATE_FIELD", (*path, key), (*pos, _UNKNOWN_POS), "key is repeated")
        table = self._table(spec)
        for index, (key, value) in enumerate(raw.items()):
            entry = table.get(key)
            kpath = (*path, key)
            if entry is None:
                upos = (*pos, _UNKNOWN_POS + index)
                sink.add("UNKNOWN_FIELD", kpath, upos, f"key is not an element of {spec.name}")
                alias = ALIASES.get(spec.name, {}).get(key)
                if alias is not None and isinstance(value, dict | list):
                    self._shadow(spec, spec.by_attr[alias], value, kpath, upos)
                continue
            fs, cls = entry
            kpos = (*pos, fs.row)
            if cls == "k2":
                other = "2023" if self.edition == "2020" else "2020"
                sink.add(
                    "EDITION",
                    kpath,
                    kpos,
                    f"key of the {other} edition in a {self.edition} document",
                )
            elif cls == "minority":
                self._contradiction(kpath, kpos, "key spelling")
            elif cls == "k3":
                if not sink.accepts("UNKNOWN_FIELD"):
                    sink.add("UNKNOWN_FIELD", kpath, kpos, f"key is not an element of {spec.name}")
                    continue
                sink.add(
                    "UNKNOWN_FIELD",
                    kpath,
                    kpos,
                    f"non-standard key accepted as {fs.emit_key(self.edition)}",
                )
            elif cls == "rekey":
                sink.add(
                    "UNKNOWN_FIELD.rekey",
                    kpath,
                    kpos,
                    f"alias key mapped to {fs.emit_key(self.edition)}",
                )
            if fs.attr in meta.keys:
                sink.add(
                    "DUPLICATE_FIELD", kpath, kpos, "element is given twice under two spellings"
                )
                continue
            meta.keys[fs.attr] = key
            result = self._value(spec, fs, value, kpath, kpos, meta)
            if result is not _ABSENT:
                values[fs.attr] = result
        self._finish(spec, values, path, pos, meta)
        self.kind = saved_kind
        return spec.model(**values, meta=meta)

    def _shadow(self, spec: ObjectSpec, fs: FieldSpec, value: Any, path: Path, pos: Pos) -> None:
        """Walk the value of an ignored alias key only to name the unknown keys inside it."""
        if fs.kind not in ("obj", "objs"):
            return
        sink, reported = self.sink, self.dialect_reported
        self.sink = KeySink(sink)
        try:
            self._value(spec, fs, value, path, pos, Meta())
        finally:
            self.sink, self.dialect_reported = sink, reported

    def _flat_vasp(
        self,
        spec: ObjectSpec,
        raw: dict[str, Any],
        path: Path,
        pos: Pos,
        meta: Meta,
        values: dict[str, Any],
    ) -> bool:
        """Q1: `"originatingVASP": {"legalPerson": ...}` without the inner wrapper."""
        table = self._table(spec)
        if any(key in table for key in raw):
            return False
        person_key = next((key for key in _PERSON_KEYS if key in raw), None)
        if person_key is None or not self.sink.accepts("UNKNOWN_FIELD"):
            return False
        fs = spec.fields[0]
        self.sink.add(
            "UNKNOWN_FIELD",
            (*path, person_key),
            (*pos, fs.row),
            f"person without the inner {fs.emit_key(self.edition)} wrapper accepted",
        )
        meta.keys[fs.attr] = ""
        values[fs.attr] = self.decode(SPECS["Person"], raw, path, (*pos, fs.row))
        return True

    def _finish(
        self, spec: ObjectSpec, values: dict[str, Any], path: Path, pos: Pos, meta: Meta
    ) -> None:
        """Defaults for omitted zero values, and per-object normalisations."""
        name = spec.name
        sink = self.sink
        type_attr = _TYPE_ATTR.get(name)
        if type_attr is not None and type_attr not in values and type_attr not in meta.broken:
            fs = spec.by_attr[type_attr]
            tpath = (*path, spell(fs, self.dialect, self.edition, meta))
            if name in _ZERO_TYPE_OBJECTS:
                if self.pj:
                    values[type_attr] = "MISC"  # the protobuf zero value is a real code here
                elif sink.accepts("CARDINALITY.zero"):
                    values[type_attr] = "MISC"
                    sink.add("CARDINALITY.zero", tpath, (*pos, fs.row), "missing type read as MISC")
                else:
                    meta.broken.add(type_attr)
                    sink.add(
                        "CARDINALITY.zero", tpath, (*pos, fs.row), "required element is missing"
                    )
            elif self.pj:  # address / legal-person name type: MISC is not an IVMS101 code
                if sink.accepts("CARDINALITY.pj_type"):
                    values[type_attr] = "MISC"
                    sink.add(
                        "CARDINALITY.pj_type", tpath, (*pos, fs.row), "type is unset (unknown type)"
                    )
                else:
                    meta.broken.add(type_attr)
                    sink.add(
                        "CARDINALITY.pj_type", tpath, (*pos, fs.row), "required element is missing"
                    )
        if (
            name == "IntermediaryVASP"
            and "sequence" not in values
            and "sequence" not in meta.broken
        ):
            fs = spec.by_attr["sequence"]
            if self.pj:
                values["sequence"] = 0
            else:
                spath = (*path, spell(fs, self.dialect, self.edition, meta))
                if sink.accepts("CARDINALITY.zero"):
                    values["sequence"] = 0
                    sink.add(
                        "CARDINALITY.zero", spath, (*pos, fs.row), "missing sequence read as 0"
                    )
                else:
                    meta.broken.add("sequence")
                    sink.add(
                        "CARDINALITY.zero", spath, (*pos, fs.row), "required element is missing"
                    )
        elif name == "NationalIdentification":
            identifier = values.get("national_identifier")
            if values.get("national_identifier_type") == "LEIX" and isinstance(identifier, str):
                fixed = lei_fix(identifier, self.kind)
                check = fixed[1] if fixed else ""
                if fixed and sink.accepts(check):
                    values["national_identifier"] = fixed[0]
                    fs = spec.by_attr["national_identifier"]
                    sink.add(
                        check,
                        (*path, spell(fs, self.dialect, self.edition, meta)),
                        (*pos, fs.row),
                        "LEI in lower case upper-cased",
                    )
        elif name == "PayloadMetadata" and self.forced_edition:
            version = values.get("payload_version")
            named = {PAYLOAD_VERSION_2020: "2020", PAYLOAD_VERSION_2023: "2023"}.get(version or "")
            if named is not None and named != self.edition:
                fs = spec.by_attr["payload_version"]
                sink.add(
                    "EDITION",
                    (*path, spell(fs, self.dialect, self.edition, meta)),
                    (*pos, fs.row),
                    f"payloadVersion names the {named} edition, validated as {self.edition}",
                )

    # -- values --------------------------------------------------------------------------

    def _broken(self, meta: Meta, fs: FieldSpec, path: Path, pos: Pos, message: str) -> Any:
        meta.broken.add(fs.attr)
        self.sink.add("TYPE", path, pos, message)
        return _ABSENT

    def _value(
        self, spec: ObjectSpec, fs: FieldSpec, value: Any, path: Path, pos: Pos, meta: Meta
    ) -> Any:
        sink = self.sink
        if value is None:
            if self.pj:
                return _ABSENT  # protojson: null means unset
            if sink.accepts("TYPE.null"):
                sink.add("TYPE.null", path, pos, "null treated as absent")
                return _ABSENT
            meta.broken.add(fs.attr)
            sink.add("TYPE.null", path, pos, "null is not a valid value")
            return _ABSENT
        kind = fs.kind
        if kind == "obj":
            return self._object(spec, fs, value, path, pos, meta)
        if kind == "objs":
            return self._objects(fs, value, path, pos, meta)
        if kind in ("str", "enum", "num", "version"):
            if isinstance(value, list):
                if len(value) == 1 and not isinstance(value[0], dict | list):
                    if sink.accepts("TYPE.shape"):
                        sink.add(
                            "TYPE.shape", path, pos, "one-item list unwrapped to a single value"
                        )
                        meta.unwrapped.add(fs.attr)
                        return self._single(fs, value[0], (*path, 0), (*pos, 0), meta)
                    meta.broken.add(fs.attr)
                    sink.add(
                        "TYPE.shape", path, pos, "a list is given where a single value belongs"
                    )
                    return _ABSENT
                return self._broken(
                    meta, fs, path, pos, "a list is given where a single value belongs"
                )
            return self._single(fs, value, path, pos, meta)
        # strs / enums
        if isinstance(value, list):
            return self._items(fs, value, path, pos, meta)
        if isinstance(value, dict):
            return self._broken(meta, fs, path, pos, "an object is given where a list belongs")
        if sink.accepts("TYPE.shape"):
            sink.add("TYPE.shape", path, pos, "single value wrapped into a list")
            meta.wrapped.add(fs.attr)
            item = self._scalar_item(fs, value, path, pos)
            return () if item is _ABSENT else (item,)
        return self._broken(meta, fs, path, pos, "a single value is given where a list belongs")

    def _object(
        self, spec: ObjectSpec, fs: FieldSpec, value: Any, path: Path, pos: Pos, meta: Meta
    ) -> Any:
        sink = self.sink
        child = SPECS[fs.child or ""]
        if isinstance(value, dict):
            if not value and not self.pj and sink.accepts("CARDINALITY.empty_object"):
                sink.add("CARDINALITY.empty_object", path, pos, "empty object treated as absent")
                return _ABSENT
            return self.decode(child, value, path, pos)
        if isinstance(value, list):
            if spec.name == "IdentityPayload" and fs.attr == "transfer_path":
                # Q4: the intermediary list given without its TransferPath object.
                if sink.accepts("TYPE.bare_array"):
                    sink.add("TYPE.bare_array", path, pos, "bare list wrapped into transferPath")
                    inner = Meta()
                    inner.keys["intermediaries"] = ""
                    items = self._objects(child.fields[0], value, path, pos, inner)
                    return child.model(intermediaries=items, meta=inner)  # type: ignore[call-arg]
                meta.broken.add(fs.attr)
                sink.add("TYPE.bare_array", path, pos, "a list is given where an object belongs")
                return _ABSENT
            if len(value) == 1 and isinstance(value[0], dict):
                if sink.accepts("TYPE.shape"):
                    sink.add("TYPE.shape", path, pos, "one-item list unwrapped to a single object")
                    meta.unwrapped.add(fs.attr)
                    return self.decode(child, value[0], (*path, 0), (*pos, 0))
                meta.broken.add(fs.attr)
                sink.add("TYPE.shape", path, pos, "a list is given where an object belongs")
                return _ABSENT
            return self._broken(meta, fs, path, pos, "a list is given where an object belongs")
        return self._broken(meta, fs, path, pos, "value must be an object")

    def _objects(
        self,
        fs: FieldSpec,
        value: Any,
        path: Path,
        pos: Pos,
        meta: Meta,
    ) -> Any:
        sink = self.sink
        child = SPECS[fs.child or ""]
        if isinstance(value, dict):
            if sink.accepts("TYPE.shape"):
                sink.add("TYPE.shape", path, pos, "single object wrapped into a list")
                meta.wrapped.add(fs.attr)
                return (self.decode(child, value, path, (*pos, 0)),)
            meta.broken.add(fs.attr)
            sink.add("TYPE.shape", path, pos, "an object is given where a list belongs")
            return _ABSENT
        if not isinstance(value, list):
            return self._broken(meta, fs, path, pos, "value must be a list of objects")
        items = []
        kept = []
        for index, item in enumerate(value):
            ipath, ipos = (*path, index), (*pos, index)
            if isinstance(item, dict):
                items.append(self.decode(child, item, ipath, ipos))
                kept.append(index)
            elif item is None and not self.pj and sink.accepts("TYPE.null"):
                sink.add("TYPE.null", ipath, ipos, "null item dropped")
            else:
                sink.add("TYPE", ipath, ipos, "list item must be an object")
        if len(kept) != len(value):
            meta.index_map[fs.attr] = tuple(kept)
        return tuple(items)

    def _items(self, fs: FieldSpec, value: list[Any], path: Path, pos: Pos, meta: Meta) -> Any:
        items = []
        kept = []
        for index, item in enumerate(value):
            result = self._scalar_item(fs, item, (*path, index), (*pos, index))
            if result is not _ABSENT:
                items.append(result)
                kept.append(index)
        if len(kept) != len(value):
            meta.index_map[fs.attr] = tuple(kept)
        return tuple(items)

    def _scalar_item(self, fs: FieldSpec, item: Any, path: Path, pos: Pos) -> Any:
        sink = self.sink
        if fs.kind == "enums":
            if isinstance(item, str | int) and not isinstance(item, bool):
                if item == "" and not self.pj:
                    if sink.accepts("LENGTH.empty"):
                        sink.add("LENGTH.empty", path, pos, "empty value dropped")
                    else:
                        sink.add("LENGTH.empty", path, pos, "value is empty")
                    return _ABSENT
                code = self._code(fs.codes, item, path, pos)
                return _ABSENT if code is None else code
        elif isinstance(item, str):
            if item == "" and not self.pj and sink.accepts("LENGTH.empty"):
                sink.add("LENGTH.empty", path, pos, "empty value dropped")
                return _ABSENT
            return item  # an empty item stays: the checker reports LENGTH
        if item is None and not self.pj and sink.accepts("TYPE.null"):
            sink.add("TYPE.null", path, pos, "null item dropped")
            return _ABSENT
        sink.add("TYPE", path, pos, "list item has the wrong JSON type")
        return _ABSENT

    def _single(self, fs: FieldSpec, value: Any, path: Path, pos: Pos, meta: Meta) -> Any:
        sink = self.sink
        kind = fs.kind
        if kind == "num":
            return self._number(fs, value, path, pos, meta)
        if isinstance(value, dict | list):
            return self._broken(meta, fs, path, pos, "value must be a single scalar")
        if kind == "enum":
            if isinstance(value, bool) or not isinstance(value, str | int):
                return self._broken(meta, fs, path, pos, "code must be a string")
            if value == "":
                if self.pj:
                    return _ABSENT
                if sink.accepts("LENGTH.empty"):
                    sink.add("LENGTH.empty", path, pos, "empty value treated as absent")
                else:
                    meta.broken.add(fs.attr)
                    sink.add("LENGTH.empty", path, pos, "value is empty")
                return _ABSENT
            code = self._code(fs.codes, value, path, pos)
            if code is None:
                meta.broken.add(fs.attr)
                return _ABSENT
            return code
        if not isinstance(value, str):
            return self._broken(meta, fs, path, pos, "value must be a string")
        if kind == "version":
            return self._version(fs, value, path, pos, meta)
        if value == "":
            if self.pj:
                return _ABSENT
            if sink.accepts("LENGTH.empty"):
                sink.add("LENGTH.empty", path, pos, "empty value treated as absent")
                return _ABSENT
            return value  # the checker reports LENGTH
        if fs.fmt == "country" and not is_country_shape(value):
            upper = upper_ascii(value)
            if upper and is_country_shape(upper) and sink.accepts("FORMAT.COUNTRY.case"):
                sink.add("FORMAT.COUNTRY.case", path, pos, "lower-case country code upper-cased")
                return upper
        return value

    def _code(self, codes: CodeList | None, value: str | int, path: Path, pos: Pos) -> str | None:
        assert codes is not None
        sink = self.sink
        code: str | None = None
        minority = False
        if isinstance(value, int):
            code = codes.by_number.get(value)
            minority = not self.pj
        elif value in codes.numbers and self.accept_short:
            code = value
            minority = self.pj
        elif value in codes.by_proto_name and self.accept_long:
            code = codes.by_proto_name[value]
            minority = not self.pj
        elif self.accept_short:
            upper = value.upper() if value.isascii() else ""
            normal = codes.by_upper.get(upper)
            if normal is not None:
                sink.add("ENUM.case", path, pos, f"code {normal} is written in the wrong case")
                code = normal
                minority = self.pj
            elif upper == codes.zero and not codes.zero_is_ivms:
                code = codes.zero
        if code is None:
            sink.add("ENUM", path, pos, f"value is not a code of {codes.name}")
            return None
        if minority:
            self._contradiction(path, pos, "code spelling")
        if code == codes.zero and not codes.zero_is_ivms:
            if sink.accepts("ENUM.misc"):
                sink.add(
                    "ENUM.misc", path, pos, f"MISC is not an IVMS101 {codes.name}; kept as unknown"
                )
            else:
                sink.add("ENUM.misc", path, pos, f"MISC is not a code of {codes.name}")
                return None
        return code

    def _number(self, fs: FieldSpec, value: Any, path: Path, pos: Pos, meta: Meta) -> Any:
        sink = self.sink
        number: int | None = None
        lenient = False
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and is_digits(value):
            number = int(value) if len(value) <= 18 else MAX_NUMBER + 1
            lenient = not self.pj
        elif isinstance(value, float) and not self.pj and value.is_integer():
            number = int(value)
            lenient = True
        elif isinstance(value, dict | list):
            return self._broken(meta, fs, path, pos, "sequence must be an integer")
        if number is None or not 0 <= number <= MAX_NUMBER:
            meta.broken.add(fs.attr)
            sink.add("FORMAT.NUMBER", path, pos, "sequence must be an integer of 0 to 18 digits")
            return _ABSENT
        if lenient:
            if not sink.accepts("FORMAT.NUMBER.lenient"):
                meta.broken.add(fs.attr)
                sink.add("FORMAT.NUMBER.lenient", path, pos, "sequence must be a JSON integer")
                return _ABSENT
            sink.add("FORMAT.NUMBER.lenient", path, pos, "sequence read as an integer")
        return number

    def _version(self, fs: FieldSpec, value: str, path: Path, pos: Pos, meta: Meta) -> Any:
        if value in (PAYLOAD_VERSION_2020, PAYLOAD_VERSION_2023):
            return value
        if value == PAYLOAD_VERSION_PRINTED:
            if self.sink.accepts("ENUM.version_printed"):
                self.sink.add(
                    "ENUM.version_printed",
                    path,
                    pos,
                    "payloadVersion IVMS101.2023 read as 101.2023",
                )
                return PAYLOAD_VERSION_2023
            meta.broken.add(fs.attr)
            self.sink.add(
                "ENUM.version_printed", path, pos, "payloadVersion must be 101 or 101.2023"
            )
            return _ABSENT
        meta.broken.add(fs.attr)
        self.sink.add("ENUM", path, pos, "payloadVersion must be 101 or 101.2023")
        return _ABSENT
