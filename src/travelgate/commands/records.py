"""`travelgate records export|verify`: the records a law-enforcement request covers, as a
signed zip, and checking such a zip.

`export` selects by customer, address, hold or deposit (any mix, repeatable), optionally
within a time window, and writes manifest.json (signed), records.json, records.csv and the
subjects' audit records; the export is itself an audit record. `verify` needs only the zip:
exit 0 when every hash and the signature hold, 1 naming each thing that failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from travelgate.commands._io import add_config_argument, command_group, load_config_from
from travelgate.commands._operator import operator_identity
from travelgate.errors import TravelgateError, UsageError

_CASE_LIMIT = 200


def register(groups: argparse._SubParsersAction[Any]) -> None:
    commands = command_group(
        groups,
        "records",
        help="records for a law-enforcement request: export a signed zip, verify one",
        description=(
            "Hand over exactly the records a request covers, in a form the recipient can "
            "verify with the node's audit public key."
        ),
    )
    export = commands.add_parser(
        "export",
        help="write the records a selection covers to a signed zip",
        description=(
            "Select withdrawals (holds) and deposits by --customer, --address, --hold or "
            "--deposit (repeat any of them), optionally created from --from (inclusive) to "
            "--to (exclusive), and write FILE.zip: manifest.json (case, who, when, the "
            "selection, each file's SHA-256, the audit public key, an Ed25519 signature), "
            "records.json, records.csv (one row per transfer) and audit.jsonl. Records "
            "purged after retention are listed as purged."
        ),
    )
    add_config_argument(export)
    export.add_argument("--customer", action="append", default=[], metavar="ID")
    export.add_argument("--address", action="append", default=[], metavar="ADDR")
    export.add_argument("--hold", action="append", default=[], metavar="ID")
    export.add_argument("--deposit", action="append", default=[], metavar="ID")
    export.add_argument("--from", dest="since", metavar="T", help="created at or after T")
    export.add_argument("--to", dest="until", metavar="T", help="created before T")
    export.add_argument("--case", required=True, metavar="CASE_REF", help="the request's reference")
    export.add_argument("--out", required=True, metavar="FILE.zip", help="new file (mode 0600)")
    export.set_defaults(handler=_export)

    verify = commands.add_parser(
        "verify",
        help="check a records zip: every SHA-256 and the signature",
        description=(
            "Check a records zip: the manifest's signature, each file's SHA-256, no file "
            "added or missing, and each audit record's hash and signature. Exit 0 when all "
            "hold, 1 naming each failure. --public-key pins the signer (as the node's "
            "operator published it); without it the key in the manifest is used."
        ),
    )
    verify.add_argument("file", metavar="FILE.zip")
    verify.add_argument("--public-key", metavar="KEY", help="ed25519:<base64> expected signer")
    verify.set_defaults(handler=_verify)


def _export(args: argparse.Namespace) -> int:
    from travelgate.audit._trail import parse_moment
    from travelgate.service._exports import Selection, export_records

    if not (args.customer or args.address or args.hold or args.deposit):
        raise UsageError("select something: --customer, --address, --hold or --deposit")
    case = args.case.strip()
    if not case or len(case) > _CASE_LIMIT or not case.isprintable():
        raise UsageError(f"--case must be 1 to {_CASE_LIMIT} printable characters")
    try:
        since = None if args.since is None else parse_moment(args.since, "--from")
        until = None if args.until is None else parse_moment(args.until, "--to")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if since is not None and until is not None and since >= until:
        raise UsageError("--from must be before --to")
    out = Path(args.out)
    if out.exists():
        raise UsageError(f"{out} exists: an export never overwrites a file, choose another --out")
    if not out.parent.is_dir():
        raise UsageError(f"{out.parent} is not a directory")
    selection = Selection(
        customers=tuple(dict.fromkeys(args.customer)),
        addresses=tuple(dict.fromkeys(args.address)),
        holds=tuple(dict.fromkeys(args.hold)),
        deposits=tuple(dict.fromkeys(args.deposit)),
        since=since,
        until=until,
    )
    from travelgate.commands.audit import require_existing

    config = load_config_from(args)
    require_existing(config)
    keyring = _keyring(config)

    async def run() -> Any:
        from travelgate.store import database_for

        db = database_for(config)
        await db.open()
        try:
            return await export_records(
                db,
                selection,
                case=case,
                exported_by=operator_identity(),
                node=config.node.name,
                keyring=keyring,
            )
        finally:
            await db.close()

    result = asyncio.run(run())
    _write_new(out, result.bundle)
    sys.stdout.write(
        f"case {case}: {result.holds} withdrawals, {result.deposits} deposits, "
        f"{result.purged} purged, {result.audit_records} audit records written to {out} "
        f"(audit record {result.audit_seq})\n"
    )
    sys.stdout.flush()
    return 0


def _keyring(config: Any) -> Any:
    """The node's private keys, to decrypt the envelopes we received (None: not loadable,
    the export then says so per envelope)."""
    from travelgate.trisa import load_credentials

    try:
        return load_credentials(config).keyring
    except TravelgateError as exc:
        sys.stderr.write(f"warning: received envelopes are not decrypted: {exc.message}\n")
        return None


def _write_new(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(partial, path)  # fails rather than replace a file made meanwhile
    except OSError as exc:
        raise TravelgateError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)


def _verify(args: argparse.Namespace) -> int:
    from travelgate.audit import fingerprint, parse_public_key
    from travelgate.audit._bundle import check_bundle
    from travelgate.commands._io import read_input

    expected = None
    if args.public_key:
        try:
            expected = parse_public_key(args.public_key.strip())
        except ValueError as exc:
            raise UsageError(f"--public-key: {exc}") from None
    data = read_input(args.file, limit=2 << 30, what="records zip")
    report = check_bundle(data, expected_key=expected)
    if not report.holds:
        for problem in report.problems:
            sys.stderr.write(f"FAILED: {problem}\n")
        sys.stderr.write(
            f"travelgate: error: {args.file} does not verify ({len(report.problems)} "
            f"problem{'s' if len(report.problems) != 1 else ''})\n"
        )
        return 1
    key = report.public_key or ""
    try:
        named = f"{key} (fingerprint {fingerprint(parse_public_key(key))})"
    except ValueError:
        named = key
    sys.stdout.write(
        f"{args.file}: manifest signature holds, signed by {named}\n"
        f"{len(report.files)} files, every SHA-256 holds: {', '.join(report.files)}\n"
        f"{report.audit_records} audit records, each hash and signature holds\n"
    )
    if expected is None:
        sys.stdout.write("note: compare the key with the one the node's operator published\n")
    sys.stdout.flush()
    return 0
