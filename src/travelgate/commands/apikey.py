"""`travelgate apikey create`: a key for the internal API, printed once."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from travelgate.commands._io import add_config_argument, command_group, load_config_from


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
            "line. Only its hash is stored: keep the key now, it cannot be shown again."
        ),
    )
    add_config_argument(create)
    create.add_argument("--label", default="", help="a note on who uses the key")
    create.set_defaults(handler=_create)


def _create(args: argparse.Namespace) -> int:
    config = load_config_from(args)
    key = asyncio.run(_new_key(config, args.label))
    sys.stdout.write(key + "\n")
    sys.stdout.flush()
    return 0


async def _new_key(config: Any, label: str) -> str:
    from travelgate.service import create_api_key
    from travelgate.store import Database, Sealer, load_or_create_key

    db = Database(config.node.database, Sealer(load_or_create_key(config.storage.key_file)))
    await db.open()
    try:
        _key_id, key = await create_api_key(db, label)
    finally:
        await db.close()
    return key
