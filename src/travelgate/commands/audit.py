"""`travelgate audit verify|export`: check the signed audit chain, hand it over.

`verify` exits 0 printing `N records, chain intact`, 1 naming the first record that fails.
`export` writes the records of a time window as JSON lines, each with the audit public
key; the export is itself an audit record.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from travelgate.commands._io import add_config_argument, command_group, load_config_from
from travelgate.commands._operator import OPERATOR_ACTOR, operator_identity
from travelgate.errors import TravelgateError, UsageError

T = TypeVar("T")


def register(groups: argparse._SubParsersAction[Any]) -> None:
    commands = command_group(
        groups,
        "audit",
        help="verify and export the signed audit trail",
        description=(
            "The audit trail: every state change, decision, export, user and key change, "
            "each record chained to the one before by its SHA-256 and signed with the node's "
            "audit key ([storage] audit_key_file)."
        ),
    )
    verify = commands.add_parser(
        "verify",
        help="check the whole chain",
        description=(
            "Check every record: its hash, its signature by the audit key, and that it "
            "follows the record before it. Exit 0 printing `N records, chain intact`; exit 1 "
            "naming the first record that fails (changed, removed or reordered)."
        ),
    )
    add_config_argument(verify)
    verify.set_defaults(handler=_verify)

    export = commands.add_parser(
        "export",
        help="write the records of a time window as JSON lines",
        description=(
            "Write the audit records from --from (inclusive) to --to (exclusive) as JSON "
            "lines, oldest first, each with its hash, the hash before it, its signature and "
            "the audit public key, so the recipient can check them. Times are dates "
            "(2026-01-31, UTC midnight) or RFC 3339 times."
        ),
    )
    add_config_argument(export)
    export.add_argument("--from", dest="since", metavar="T", help="first moment (inclusive)")
    export.add_argument("--to", dest="until", metavar="T", help="last moment (exclusive)")
    export.add_argument(
        "--out", metavar="FILE", help="write to FILE instead of standard output (mode 0600)"
    )
    export.set_defaults(handler=_export)


def _verify(args: argparse.Namespace) -> int:
    from travelgate.audit._trail import verify_trail

    report = _with_database(args, verify_trail)
    if not report.intact:
        raise TravelgateError(
            f"audit chain broken after {report.checked} intact records: {report.failure}"
        )
    sys.stdout.write(report.summary() + "\n")
    sys.stdout.flush()
    return 0


def _export(args: argparse.Namespace) -> int:
    from travelgate.audit._trail import export_lines, parse_moment
    from travelgate.store import Tx, now_text

    try:
        since = None if args.since is None else parse_moment(args.since, "--from")
        until = None if args.until is None else parse_moment(args.until, "--to")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if since is not None and until is not None and since >= until:
        raise UsageError("--from must be before --to")
    who = operator_identity()

    def export(tx: Tx) -> list[str]:
        lines = list(export_lines(tx, since, until))
        tx.audit(
            actor=OPERATOR_ACTOR,
            action="audit.exported",
            subject="audit",
            detail={"from": since, "to": until, "records": len(lines), "login": who["login"]},
            stamp=now_text(),
        )
        return lines

    lines = _with_database(args, lambda db: db.write(export))
    text = "".join(line + "\n" for line in lines)
    if args.out:
        _write_private(Path(args.out), text.encode("utf-8"))
        sys.stderr.write(f"{len(lines)} records written to {args.out}\n")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0


def require_existing(config: Any) -> None:
    """Checking or exporting a trail never starts one: no new database, no new key (a new
    key would only make every record fail its signature)."""
    database = config.node.database
    if isinstance(database, Path) and not database.exists():  # a PostgreSQL URL: see open
        raise TravelgateError(f"[node] database {database} does not exist")
    if not config.storage.audit_key_file.exists():
        raise TravelgateError(
            f"[storage] audit_key_file {config.storage.audit_key_file} does not exist: "
            "the audit trail cannot be checked without the key that signed it"
        )


def _write_private(path: Path, data: bytes) -> None:
    import os

    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise TravelgateError(f"cannot write {path}: {exc.strerror}") from None


def _with_database(args: argparse.Namespace, work: Callable[[Any], Awaitable[T]]) -> T:
    config = load_config_from(args)
    require_existing(config)

    async def run() -> T:
        from travelgate.store import database_for

        db = database_for(config)
        await db.open()
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())
