"""`travelgate dev run|demo`: the local two-node setup behind `make run` and `make demo`."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

from travelgate.commands._io import command_group
from travelgate.config import check_environment


def register(groups: argparse._SubParsersAction[Any]) -> None:
    commands = command_group(
        groups,
        "dev",
        help="local demo: the gateway with a robot counterparty",
        description="Run the gateway locally with a robot counterparty (dev PKI in DIR).",
    )
    run = commands.add_parser(
        "run",
        help="start alice (gateway) and bob (sync-accept robot) until Ctrl-C",
        description=(
            "Create the dev PKI in DIR if missing, start alice (the gateway, on DIR/alice.db) "
            "and bob (a sync-accept robot), print the URLs, an API key and a curl line; "
            "Ctrl-C stops both cleanly."
        ),
    )
    run.add_argument(
        "dir", nargs="?", default="certs", metavar="DIR", help="dev PKI folder (default certs)"
    )
    run.set_defaults(handler=_run)
    demo = commands.add_parser(
        "demo",
        help="scripted end-to-end run: one withdrawal per robot policy",
        description=(
            "One withdrawal per robot policy (sync accept, async accept, repair, reject, "
            "unknown beneficiary) through the internal API, printing each hold's states and "
            "a final table. Exit 1 if any outcome is not the expected one."
        ),
    )
    demo.add_argument(
        "dir", nargs="?", default="certs", metavar="DIR", help="dev PKI folder (default certs)"
    )
    demo.set_defaults(handler=_demo)


def _run(args: argparse.Namespace) -> int:
    from travelgate.demo import run_pair

    # The dev nodes take their settings from DIR, never from the environment; a
    # misspelt TRAVELGATE_ variable is still refused, as it would be by `serve`.
    check_environment(os.environ)
    return asyncio.run(run_pair(Path(args.dir)))


def _demo(args: argparse.Namespace) -> int:
    from travelgate.demo import run_demo

    check_environment(os.environ)
    return asyncio.run(run_demo(Path(args.dir)))
