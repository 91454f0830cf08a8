"""`travelgate screening import|lists|check`: sanctions lists in the node's database."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from travelgate.commands._io import (
    add_config_argument,
    command_group,
    load_config_from,
    print_json,
)
from travelgate.errors import UsageError

T = TypeVar("T")


def register(groups: argparse._SubParsersAction[Any]) -> None:
    commands = command_group(
        groups,
        "screening",
        help="sanctions lists used to screen addresses",
        description="Load sanctions lists into the node's database and screen addresses.",
    )
    load = commands.add_parser(
        "import",
        help="load a sanctions list file (replaces the lists it names)",
        description=(
            "Load a sanctions list into the node's database and print how many addresses it "
            "loaded. Every list the file names is replaced whole, atomically, and audited; "
            "a file with any bad row changes nothing. CSV columns: address,asset,list,"
            "reference (header optional). ofac-sdn-xml: OFAC's published sdn.xml (digital "
            "currency addresses only), list OFAC-SDN unless --list says otherwise."
        ),
    )
    add_config_argument(load)
    load.add_argument("file", metavar="FILE", help="the list file")
    load.add_argument(
        "--format",
        choices=("csv", "ofac-sdn-xml"),
        help="file format (default: ofac-sdn-xml for .xml or XML content, else csv)",
    )
    load.add_argument(
        "--list", dest="list_name", metavar="NAME", help="put every address on this list"
    )
    load.set_defaults(handler=_import)

    lists = commands.add_parser(
        "lists",
        help="show the loaded lists",
        description="Print the loaded lists as JSON: name, format, source, digest, entries.",
    )
    add_config_argument(lists)
    lists.set_defaults(handler=_lists)

    check = commands.add_parser(
        "check",
        help="screen one address against the loaded lists",
        description=(
            "Screen ADDRESS against every loaded list and print the result as JSON. "
            "Exit 0 when it is on no list, 1 when it is listed."
        ),
    )
    add_config_argument(check)
    check.add_argument("address", metavar="ADDRESS")
    check.add_argument("--asset", default="", help="asset ticker, e.g. BTC (for the record)")
    check.add_argument("--network", default="", help="network, e.g. bitcoin (for the record)")
    check.set_defaults(handler=_check)


def _import(args: argparse.Namespace) -> int:
    from travelgate.screening import import_list_file

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"list file not found: {path}")
    config = load_config_from(args)
    result = _with_database(
        config,
        lambda db: import_list_file(db, path, format=args.format, list_name=args.list_name),
    )
    sys.stdout.write(result.summary() + "\n")
    sys.stdout.flush()
    return 0


def _lists(args: argparse.Namespace) -> int:
    config = load_config_from(args)

    async def read(db: Any) -> list[dict[str, Any]]:
        lists = await db.read(lambda tx: tx.screening_lists())
        return [vars(item) for item in lists]

    print_json(_with_database(config, read))
    return 0


def _check(args: argparse.Namespace) -> int:
    from travelgate.screening import Screener

    config = load_config_from(args)
    result = _with_database(
        config, lambda db: Screener(db).screen(args.address, args.asset.upper(), args.network)
    )
    print_json(result.to_json())
    return 1 if result.listed else 0


def _with_database(config: Any, work: Callable[[Any], Awaitable[T]]) -> T:
    from travelgate.store import database_for

    async def run() -> T:
        db = database_for(config)
        await db.open()
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())
