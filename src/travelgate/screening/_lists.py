"""Sanctions list files: the list model and the two readers (CSV and the OFAC SDN XML).

A file is read whole and checked before anything is stored: one bad row, a hostile or
oversized XML document, or a file with no address at all refuses the load, and the lists
already loaded stay as they were.

CSV: columns `address,asset,list,reference` (a header row naming them is optional and may
order them differently). OFAC SDN XML (sdn.xml): every `sdnEntry` whose `idList/id` has an
`idType` "Digital Currency Address - <TICKER>" gives one address (`idNumber`); the entry's
`uid` and name are the reference. The XML is parsed by defusedxml with DTDs, entities and
external references forbidden, streamed, and bounded in size.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

import defusedxml
import defusedxml.ElementTree as SafeElementTree

from travelgate.errors import ScreeningListError
from travelgate.screening._addresses import address_key

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element  # a type only: defusedxml does the parsing

ListFormat = Literal["csv", "ofac-sdn-xml"]
LIST_FORMATS: tuple[ListFormat, ...] = ("csv", "ofac-sdn-xml")
OFAC_LIST_NAME = "OFAC-SDN"
DEFAULT_SIZE_LIMIT = 256 * 1024 * 1024  # the whole SDN XML is far below this

_CSV_COLUMNS = ("address", "asset", "list", "reference")
_LIST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ASSET = re.compile(r"[A-Za-z0-9.]{1,16}")
_DIGITAL_CURRENCY = "Digital Currency Address - "
# OFAC's tickers that differ from ours.
_OFAC_TICKERS = {"XBT": "BTC"}


@dataclass(frozen=True)
class ListEntry:
    address: str
    asset: str
    reference: str

    @property
    def key(self) -> str:
        return address_key(self.address)


@dataclass(frozen=True)
class ListFile:
    """A parsed file: the entries of each list it names, with where it came from."""

    source: str
    format: ListFormat
    digest: str
    lists: dict[str, tuple[ListEntry, ...]]

    @property
    def total(self) -> int:
        return sum(len(entries) for entries in self.lists.values())


def check_list_name(name: str) -> str:
    if not _LIST_NAME.fullmatch(name):
        raise ScreeningListError(
            f"list name {name!r} must be 1-64 letters, digits, '.', '_' or '-'"
        )
    return name


def detect_format(path: Path, head: bytes) -> ListFormat:
    if path.suffix.lower() == ".xml" or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "ofac-sdn-xml"
    return "csv"


def read_list_file(
    path: Path,
    *,
    format: ListFormat | None = None,
    list_name: str | None = None,
    limit: int = DEFAULT_SIZE_LIMIT,
) -> ListFile:
    """Read and check a list file; `list_name` puts every address on that one list."""
    if list_name is not None:
        check_list_name(list_name)
    try:
        with path.open("rb") as handle:
            digest = hashlib.sha256()
            bounded = _BoundedReader(handle, limit, digest, str(path))
            chosen = format or detect_format(path, handle.peek(64)[:64])
            if chosen == "csv":
                lists = _read_csv(bounded.read_all(), list_name, str(path))
            else:
                lists = _read_ofac_xml(bounded, list_name or OFAC_LIST_NAME, str(path))
            bounded.read_all()  # the digest covers the whole file, trailing bytes too
    except FileNotFoundError:
        raise ScreeningListError(f"list file not found: {path}") from None
    except IsADirectoryError:
        raise ScreeningListError(f"list path is a directory: {path}") from None
    except PermissionError:
        raise ScreeningListError(f"list file is not readable: {path}") from None
    except OSError as exc:
        raise ScreeningListError(f"cannot read list file {path}: {exc.strerror}") from None
    if not any(lists.values()):
        raise ScreeningListError(f"{path} holds no address; no list was changed")
    return ListFile(str(path), chosen, digest.hexdigest(), lists)


class _BoundedReader:
    """A binary reader that refuses to go past `limit` bytes and hashes what it hands out."""

    def __init__(self, raw: IO[bytes], limit: int, digest: hashlib._Hash, name: str) -> None:
        self._raw = raw
        self._left = limit
        self._limit = limit
        self._digest = digest
        self._name = name

    def read(self, size: int = -1) -> bytes:
        want = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        data = self._raw.read(want)
        self._left -= len(data)
        if self._left < 0:
            raise ScreeningListError(
                f"{self._name} is larger than the {self._limit}-byte limit; no list was changed"
            )
        self._digest.update(data)
        return data

    def read_all(self) -> bytes:
        chunks = []
        while chunk := self.read(1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)


# -- CSV -------------------------------------------------------------------------------


def _read_csv(data: bytes, list_name: str | None, source: str) -> dict[str, tuple[ListEntry, ...]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScreeningListError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    columns: tuple[str, ...] = _CSV_COLUMNS
    found: dict[str, dict[tuple[str, str, str], ListEntry]] = {}
    try:
        for line, row in enumerate(rows, start=1):
            cells = [cell.strip() for cell in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if line == 1 and "address" in (cell.lower() for cell in cells):
                columns = _csv_header(cells, source)
                continue
            entry, name = _csv_entry(dict(zip(columns, cells, strict=False)), cells, columns)
            list_of_row = list_name or name
            if not list_of_row:
                raise ValueError("the list column is empty (or pass --list NAME)")
            try:
                check_list_name(list_of_row)
            except ScreeningListError as exc:
                raise ValueError(exc.message) from None
            found.setdefault(list_of_row, {})[(entry.key, entry.asset, entry.reference)] = entry
    except ValueError as exc:
        raise ScreeningListError(f"{source} line {rows.line_num}: {exc}") from None
    except csv.Error as exc:
        raise ScreeningListError(f"{source} line {rows.line_num}: not valid CSV: {exc}") from None
    return {name: tuple(entries.values()) for name, entries in found.items()}


def _csv_header(cells: list[str], source: str) -> tuple[str, ...]:
    header = tuple(cell.lower() for cell in cells)
    unknown = [cell for cell in header if cell not in _CSV_COLUMNS]
    if unknown or len(set(header)) != len(header):
        raise ScreeningListError(
            f"{source} line 1: the header must name the columns {', '.join(_CSV_COLUMNS)} "
            f"(each once), not {', '.join(cells)}"
        )
    return header


def _csv_entry(
    values: dict[str, str], cells: list[str], columns: tuple[str, ...]
) -> tuple[ListEntry, str]:
    if len(cells) > len(columns):
        raise ValueError(f"{len(cells)} columns, expected at most {len(columns)}")
    address = values.get("address", "")
    if not address:
        raise ValueError("the address column is empty")
    if len(address) > 128 or any(char.isspace() for char in address):
        raise ValueError(f"{address[:40]!r} is not an address")
    asset = values.get("asset", "").upper()
    if asset and not _ASSET.fullmatch(asset):
        raise ValueError(f"{asset[:40]!r} is not an asset ticker")
    reference = values.get("reference", "")
    if len(reference) > 512:
        raise ValueError("the reference is longer than 512 characters")
    return ListEntry(address, asset, reference), values.get("list", "")


# -- OFAC SDN XML ----------------------------------------------------------------------


def _read_ofac_xml(
    stream: _BoundedReader, list_name: str, source: str
) -> dict[str, tuple[ListEntry, ...]]:
    found: dict[tuple[str, str, str], ListEntry] = {}
    try:
        events = SafeElementTree.iterparse(
            stream, events=("end",), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        for _event, element in events:
            if _local(element.tag) != "sdnEntry":
                continue
            for entry in _entry_addresses(element):
                found[(entry.key, entry.asset, entry.reference)] = entry
            element.clear()  # keep memory flat on the full list
    except defusedxml.DefusedXmlException as exc:
        raise ScreeningListError(
            f"{source}: refused unsafe XML ({type(exc).__name__}: DTDs, entities and "
            "external references are not allowed); no list was changed"
        ) from None
    except SafeElementTree.ParseError as exc:
        raise ScreeningListError(f"{source}: not well-formed XML: {exc}") from None
    return {list_name: tuple(found.values())}


def _local(tag: object) -> str:
    text = tag if isinstance(tag, str) else ""
    return text.rpartition("}")[2]


def _child_text(element: Element, name: str) -> str:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def _entry_addresses(entry: Element) -> Iterator[ListEntry]:
    uid = _child_text(entry, "uid")
    name = " ".join(
        part for part in (_child_text(entry, "firstName"), _child_text(entry, "lastName")) if part
    )
    reference = f"SDN uid {uid}: {name}" if name else f"SDN uid {uid}"
    for id_list in entry:
        if _local(id_list.tag) != "idList":
            continue
        for identifier in id_list:
            id_type = _child_text(identifier, "idType")
            if not id_type.startswith(_DIGITAL_CURRENCY):
                continue
            ticker = id_type[len(_DIGITAL_CURRENCY) :].strip().upper()
            address = _child_text(identifier, "idNumber")
            if address and not any(char.isspace() for char in address):
                yield ListEntry(address, _OFAC_TICKERS.get(ticker, ticker), reference)
