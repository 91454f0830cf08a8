"""`travelgate directory lookup`: what the TRISA Global Directory Service says of a VASP.

Exit codes: 0 the record is printed as JSON (its `usable` and `problem` keys say whether
the node would accept it as a counterparty), 1 the directory has no record of the name,
2 the configuration is wrong or the directory cannot be reached.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from travelgate.commands._io import (
    add_config_argument,
    command_group,
    load_config_from,
    print_json,
)
from travelgate.errors import ConfigError, UsageError


def register(groups: argparse._SubParsersAction[Any]) -> None:
    commands = command_group(
        groups,
        "directory",
        help="ask the TRISA directory about counterparties",
        description="Look counterparties up in the TRISA Global Directory Service.",
    )
    lookup = commands.add_parser(
        "lookup",
        help="print the directory's record of a VASP as JSON",
        description=(
            "Call TRISADirectory/Lookup on [directory] gds for NAME, the VASP's certificate "
            "common name, over mTLS with the node's [tls] identity (trusting [directory] "
            "gds_trust, else [tls] trust), and print the record as JSON: endpoint, country, "
            "verified_on, certificates with fingerprints and the TLS pin the node would "
            "enforce. Exit 1 when the directory has no record, 2 when the configuration is "
            "wrong or the directory cannot be reached."
        ),
    )
    add_config_argument(lookup)
    lookup.add_argument("name", metavar="NAME", help="the VASP's certificate common name")
    lookup.set_defaults(handler=_lookup)


def _lookup(args: argparse.Namespace) -> int:
    import asyncio

    from travelgate.trisa import Directory, gds_client, load_credentials

    try:
        config = load_config_from(args)
        if not config.directory.gds:
            raise UsageError(
                "[directory] gds is not set: name the TRISA directory as HOST:PORT in the "
                "config file or TRAVELGATE_DIRECTORY_GDS"
            )
        client = gds_client(config, load_credentials(config))
        listed = Directory.load(config.directory.file).get(args.name)
    except ConfigError as exc:
        raise UsageError(exc.message) from None
    return asyncio.run(_ask(client, args.name, listed is not None))


async def _ask(client: Any, name: str, listed: bool) -> int:
    from travelgate.trisa import DirectoryRecordError, DirectoryUnavailableError, record_from_reply

    target = client.target
    try:
        reply = await client.lookup(name)
    except DirectoryUnavailableError as exc:
        raise UsageError(exc.message) from None
    finally:
        await client.close()
    if reply is None:
        print(f"travelgate: error: {name} is not in the TRISA directory {target}", file=sys.stderr)
        return 1
    try:
        record = record_from_reply(reply)
    except DirectoryRecordError as exc:
        print(
            f"travelgate: error: the directory's record of {name} is unusable: {exc.message}",
            file=sys.stderr,
        )
        return 1
    # peers.toml always wins: say so, since the node will not use this record.
    print_json({**record.as_json(name), "overridden_by_peers_file": listed})
    return 0
