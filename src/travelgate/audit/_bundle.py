"""The zip handed over for a records request, and checking one.

`manifest.json` lists every other file of the zip with its SHA-256 and is signed (Ed25519,
the node's audit key) over its canonical JSON without the `signature` member; the audit
records in `audit.jsonl` carry their own chain hashes and signatures. `check_bundle` needs
nothing but the zip (and, to pin the signer, the expected public key).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from travelgate.audit._chain import AuditRecord, digest_of
from travelgate.audit._key import (
    AuditKey,
    fingerprint,
    parse_public_key,
    public_key_text,
    signature_holds,
)

FORMAT = "travelgate-records-export/1"
MANIFEST = "manifest.json"
AUDIT_FILE = "audit.jsonl"
# A bundle is evidence, not an archive of anything: members beyond this are refused.
MAX_MEMBER_BYTES = 1 << 30
MAX_MEMBERS = 64


def canonical_manifest(manifest: Mapping[str, Any]) -> bytes:
    body = {key: value for key, value in manifest.items() if key != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def file_entry(data: bytes) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def build_bundle(manifest: Mapping[str, Any], files: Mapping[str, bytes], key: AuditKey) -> bytes:
    """The zip: `manifest` completed with the files' digests, the public key and the
    signature, then the files."""
    signed: dict[str, Any] = {
        **manifest,
        "format": FORMAT,
        "files": {name: file_entry(data) for name, data in files.items()},
        "audit_public_key": key.public_key_text,
    }
    signed["signature"] = key.sign(canonical_manifest(signed)).hex()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(
            MANIFEST, json.dumps(signed, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )
        for name, data in files.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


@dataclass(frozen=True)
class BundleReport:
    problems: tuple[str, ...]
    files: tuple[str, ...]
    audit_records: int
    public_key: str | None

    @property
    def holds(self) -> bool:
        return not self.problems


def check_bundle(data: bytes, *, expected_key: bytes | None = None) -> BundleReport:
    """Every check a recipient can make, each failure named; nothing raised."""
    try:
        bundle = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return BundleReport(("the file is not a zip archive",), (), 0, None)
    with bundle:
        members = bundle.infolist()
        if len(members) > MAX_MEMBERS:
            return BundleReport((f"the zip holds {len(members)} files, too many",), (), 0, None)
        contents: dict[str, bytes] = {}
        problems: list[str] = []
        for member in members:
            if member.file_size > MAX_MEMBER_BYTES:
                problems.append(f"{member.filename}: larger than {MAX_MEMBER_BYTES} bytes")
                continue
            try:
                contents[member.filename] = bundle.read(member)
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                # A member whose bytes changed inside the zip fails its CRC here.
                problems.append(f"{member.filename}: cannot be read ({exc})")
    if MANIFEST not in contents:
        return BundleReport((*problems, f"{MANIFEST} is missing"), (), 0, None)
    try:
        manifest = json.loads(contents[MANIFEST])
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        return BundleReport((*problems, f"{MANIFEST} is not valid JSON: {exc}"), (), 0, None)
    key_text = manifest.get("audit_public_key")
    public_key = _key_of(key_text, problems)
    if public_key is not None:
        if expected_key is not None and public_key != expected_key:
            problems.append(
                f"{MANIFEST} is signed by key {fingerprint(public_key)}, "
                f"not the expected {fingerprint(expected_key)}"
            )
        signature = _hex(manifest.get("signature"))
        if not signature_holds(public_key, canonical_manifest(manifest), signature):
            problems.append(f"{MANIFEST}: the signature does not hold (the manifest was changed)")
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        problems.append(f"{MANIFEST} lists no files")
        listed = {}
    for name, entry in sorted(listed.items()):
        if name not in contents:
            problems.append(f"{name}: listed in the manifest but missing from the zip")
            continue
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if hashlib.sha256(contents[name]).hexdigest() != expected:
            problems.append(f"{name}: SHA-256 differs from the manifest (the file was changed)")
    for name in sorted(set(contents) - set(listed) - {MANIFEST}):
        problems.append(f"{name}: in the zip but not in the manifest")
    records = 0
    if public_key is not None and AUDIT_FILE in contents:
        records = _check_audit_lines(contents[AUDIT_FILE], public_key, problems)
    return BundleReport(
        tuple(problems),
        tuple(sorted(listed)),
        records,
        key_text if isinstance(key_text, str) else None,
    )


def _key_of(text: object, problems: list[str]) -> bytes | None:
    if not isinstance(text, str):
        problems.append(f"{MANIFEST} names no audit_public_key")
        return None
    try:
        return parse_public_key(text)
    except ValueError as exc:
        problems.append(f"{MANIFEST}: audit_public_key: {exc}")
        return None


def _hex(value: object) -> bytes:
    try:
        return bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        return b""


def _check_audit_lines(data: bytes, public_key: bytes, problems: list[str]) -> int:
    """Each audit record's own hash and signature (the file holds a subject's records,
    not a contiguous run of the chain, so links are checked only where records are
    consecutive)."""
    checked = 0
    previous: AuditRecord | None = None
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = AuditRecord.from_json(json.loads(line))
        except ValueError as exc:
            problems.append(f"{AUDIT_FILE} line {number}: {exc}")
            continue
        where = f"{AUDIT_FILE} record {record.seq} ({record.action})"
        if digest_of(record) != record.hash:
            problems.append(f"{where}: content was changed (hash differs)")
        elif not signature_holds(public_key, bytes.fromhex(record.hash), _hex(record.signature)):
            problems.append(
                f"{where}: signature does not verify with {public_key_text(public_key)}"
            )
        elif (
            previous is not None and record.seq == previous.seq + 1 and record.prev != previous.hash
        ):
            problems.append(f"{where}: does not follow record {previous.seq}")
        else:
            checked += 1
        previous = record
    return checked
