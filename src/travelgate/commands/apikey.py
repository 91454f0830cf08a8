"""`travelgate apikey create|list|revoke`: keys of the internal API, managed by people.

A key is printed once, when it is made; only its hash and its prefix (`tgk_<id>`) are
stored, so `list` and `revoke` name a key by its prefix and never show the key itself.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from travelgate.commands._io import (
    add_config_argument,
    command_group,
    load_config_from,
    print_json,
)
from travelgate.errors import TravelgateError, UsageError

T = TypeVar("T")


def register(groups: argparse._SubParsersAction[Any]) -> None:
    commands = command_group(
        groups,
        "apikey",
        help="API keys of the internal API",
        description="API keys of the internal API (Authorization: Bearer KEY).",
    )
    create = commands.add_parser(
        "create",
        help="create an API key and print it (once)",
        description=(
            "Create an API key for the node's database and print it alone on one stdout "
            "line. Only its hash is stored: keep the key now, it cannot be shown again. "
            "Without --scope the key gets every scope but admin."
        ),
    )
    add_config_argument(create)
    create.add_argument(
        "--name", "--label", dest="name", default="", help="who or what uses the key"
    )
    create.add_argument(
        "--scope",
        dest="scopes",
        action="append",
        metavar="SCOPE",
        help="grant a scope (withdrawals, deposits, customers, reviews, admin); repeat it",
    )
    create.set_defaults(handler=_create)

    listing = commands.add_parser(
        "list",
        help="list the API keys (never the keys themselves)",
        description="List the node's API keys: name, prefix, scopes, created, last used.",
    )
    add_config_argument(listing)
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.set_defaults(handler=_list)

    revoke = commands.add_parser(
        "revoke",
        help="revoke an API key by its prefix",
        description=(
            "Revoke the API key with this prefix (tgk_<id>, as `apikey list` shows it); "
            "it is refused from the next request on. Exit 1 when no key has the prefix."
        ),
    )
    add_config_argument(revoke)
    revoke.add_argument("prefix", metavar="PREFIX")
    revoke.set_defaults(handler=_revoke)


def _create(args: argparse.Namespace) -> int:
    from travelgate.service import check_scopes, create_api_key

    scopes = None
    if args.scopes:
        try:
            scopes = check_scopes(args.scopes)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    _key_id, key = _with_database(args, lambda db: create_api_key(db, args.name, scopes))
    sys.stdout.write(key + "\n")
    sys.stdout.flush()
    return 0


def _list(args: argparse.Namespace) -> int:
    from travelgate.service import key_prefix, list_api_keys

    keys = _with_database(args, list_api_keys)
    rows = [
        {
            "name": key.label,
            "prefix": key_prefix(key.id),
            "scopes": list(key.scopes),
            "created_at": key.created_at,
            "last_used_at": key.last_used_at,
            "revoked_at": key.revoked_at,
        }
        for key in keys
    ]
    if args.format == "json":
        print_json(rows)
        return 0
    header = ("NAME", "PREFIX", "SCOPES", "CREATED", "LAST USED", "REVOKED")
    table = [header] + [
        (
            key.label or "-",
            key_prefix(key.id),
            ",".join(key.scopes),
            _seconds(key.created_at),
            _seconds(key.last_used_at) if key.last_used_at else "never",
            _seconds(key.revoked_at) if key.revoked_at else "-",
        )
        for key in keys
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        sys.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
        sys.stdout.write("\n")
    sys.stdout.flush()
    return 0


def _seconds(stamp: str) -> str:
    """A store time to the second, for a table a person reads."""
    return stamp[:19] + "Z"


def _revoke(args: argparse.Namespace) -> int:
    from travelgate.service import key_prefix, revoke_api_key

    if not args.prefix.strip():
        raise UsageError("PREFIX must not be empty (see `travelgate apikey list`)")
    record = _with_database(args, lambda db: revoke_api_key(db, args.prefix))
    if record is None:
        raise TravelgateError(f"no API key has the prefix {args.prefix!r} (see `apikey list`)")
    sys.stdout.write(f"revoked {key_prefix(record.id)} ({record.label or 'no name'})\n")
    sys.stdout.flush()
    return 0


def _with_database(args: argparse.Namespace, work: Callable[[Any], Awaitable[T]]) -> T:
    config = load_config_from(args)

    async def run() -> T:
        from travelgate.store import database_for

        db = database_for(config)
        await db.open()
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())
