"""The GLEIF Registration Authorities list used by C10 and the RA.COUNTRY hint (GLEIF RA list).

The package ships `gleif_ra.json`, derived from the vendored GLEIF list
(`tests/vectors/trisa/pkg/gleif/testdata/registrationAuthorities.json`): every code with the
country of each record that carries it, plus the SHA-256 of the source file, because the
file states no list version. A deployment can load a newer GLEIF export with
`RaRegistry.from_gleif_file` without a release.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

RA_PATTERN = re.compile(r"RA[0-9]{6}")

# Codes that stand for "no register": they carry no country (GLEIF RA list).
SPECIAL_CODES: frozenset[str] = frozenset({"RA777777", "RA888888", "RA999999"})

_DATA_FILE = "gleif_ra.json"


@dataclass(frozen=True)
class RaRecord:
    """One row of the GLEIF list, reduced to what validation needs."""

    code: str
    country: str  # ISO 3166-1 alpha-2 of the register; "" for the special codes
    jurisdiction: str


class RaRegistry:
    """Registration authority codes, each with the list of records that carry it."""

    def __init__(self, records: Iterable[RaRecord], *, sha256: str, source: str) -> None:
        by_code: dict[str, list[RaRecord]] = {}
        for record in records:
            by_code.setdefault(record.code, []).append(record)
        self._by_code: dict[str, tuple[RaRecord, ...]] = {
            code: tuple(rows) for code, rows in sorted(by_code.items())
        }
        self._countries: dict[str, frozenset[str]] = {
            code: frozenset(r.country for r in rows if r.country)
            for code, rows in self._by_code.items()
        }
        self.sha256 = sha256
        self.source = source

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self._by_code)

    def records(self, code: str) -> tuple[RaRecord, ...]:
        return self._by_code.get(code, ())

    def countries(self, code: str) -> frozenset[str]:
        """Countries of the registers behind `code` (empty for special or unknown codes)."""
        return self._countries.get(code, frozenset())

    @classmethod
    def from_gleif_file(cls, path: str | Path) -> RaRegistry:
        """Load a GLEIF export: a JSON array of objects with `option`, `country`, ..."""
        raw = Path(path).read_bytes()
        rows = json.loads(raw)
        return cls(
            _records_from_gleif(rows), sha256=hashlib.sha256(raw).hexdigest(), source=str(path)
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RaRegistry:
        """Load the compact form shipped with the package (see `build_package_data`)."""
        records = [
            RaRecord(code, country, jurisdiction)
            for code, rows in data["codes"].items()
            for country, jurisdiction in rows
        ]
        return cls(records, sha256=str(data["source_sha256"]), source=str(data["source"]))


def _records_from_gleif(rows: Any) -> list[RaRecord]:
    if not isinstance(rows, list):
        raise ValueError("a GLEIF registration authority list is a JSON array")
    records = []
    for row in rows:
        code = row.get("option") if isinstance(row, dict) else None
        if not isinstance(code, str) or not RA_PATTERN.fullmatch(code):
            raise ValueError("every GLEIF record needs an `option` of the form RA + 6 digits")
        records.append(
            RaRecord(code, str(row.get("country") or ""), str(row.get("jurisdiction") or ""))
        )
    return records


def build_package_data(source: Path) -> dict[str, Any]:
    """The compact registry document shipped as `gleif_ra.json`, built from a GLEIF export."""
    raw = source.read_bytes()
    records = _records_from_gleif(json.loads(raw))
    codes: dict[str, list[list[str]]] = {}
    for record in records:
        codes.setdefault(record.code, []).append([record.country, record.jurisdiction])
    return {
        "source": source.name,
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "records": len(records),
        "codes": dict(sorted(codes.items())),
    }


@functools.cache
def default_registry() -> RaRegistry:
    """The registry shipped with the package."""
    text = resources.files(__package__).joinpath(_DATA_FILE).read_text(encoding="utf-8")
    return RaRegistry.from_mapping(json.loads(text))


if __name__ == "__main__":  # regenerate: python -m travelgate.ivms101._registry SOURCE
    import sys

    document = build_package_data(Path(sys.argv[1]))
    target = Path(__file__).with_name(_DATA_FILE)
    head = {key: value for key, value in document.items() if key != "codes"}
    lines = [json.dumps(head, ensure_ascii=False)[:-1] + ', "codes": {']
    rows = [
        f"{json.dumps(c)}: {json.dumps(r, ensure_ascii=False)}"
        for c, r in document["codes"].items()
    ]
    lines.append(",\n".join(rows))
    lines.append("}}")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{target}: {len(document['codes'])} codes from {document['records']} records")
