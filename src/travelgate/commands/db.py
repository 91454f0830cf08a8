"""`travelgate db migrate|status`: the schema of the node's database (SQLite or PostgreSQL)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from travelgate.commands._io import add_config_argument, command_group, load_config_from


def register(groups: argparse._SubParsersAction[Any]) -> None:
    commands = command_group(
        groups,
        "db",
        help="the node's database schema: migrate it, show where it stands",
        description=(
            "Bring the node's database schema up to date, or show where it stands. The same "
            "numbered migrations run on SQLite and PostgreSQL; `serve` migrates on start too."
        ),
    )
    migrate = commands.add_parser(
        "migrate",
        help="apply the migrations the database lacks and print what was done",
        description=(
            "Apply every migration the database lacks, in order, in one transaction (on "
            "PostgreSQL under an advisory lock, so replicas starting at the same time are "
            "safe). Prints the migrations applied and the version reached."
        ),
    )
    add_config_argument(migrate)
    migrate.set_defaults(handler=_migrate)
    status = commands.add_parser(
        "status",
        help="show backend, current and latest schema version, pending migrations",
        description=(
            "Print the backend, the database's schema version, the latest this travelgate "
            "knows and the migrations pending. Exit 0 when current, 1 when some are pending. "
            "Changes nothing."
        ),
    )
    add_config_argument(status)
    status.set_defaults(handler=_status)


def _migrate(args: argparse.Namespace) -> int:
    from travelgate.store import database_for

    config = load_config_from(args)
    store = database_for(config)

    async def run() -> tuple[list[int], int]:
        try:
            applied = await store.migrate()
            return applied, (await store.status()).current
        finally:
            await store.close()

    applied, version = asyncio.run(run())
    where = f"{store.dialect} database {store.where}"
    if applied:
        numbers = ", ".join(str(number) for number in applied)
        print(f"{where}: applied migration{'s' if len(applied) > 1 else ''} {numbers}")
    else:
        print(f"{where}: nothing to apply")
    print(f"schema version {version}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from travelgate.store import schema_status

    config = load_config_from(args)
    status = asyncio.run(schema_status(config))
    pending = ", ".join(str(number) for number in status.pending) or "none"
    print(f"backend: {status.backend}")
    print(f"database: {status.where}")
    print(f"current version: {status.current}")
    print(f"latest version: {status.latest}")
    print(f"pending migrations: {pending}")
    return 1 if status.pending else 0
