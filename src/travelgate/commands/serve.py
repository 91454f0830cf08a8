"""`travelgate serve` and `travelgate robot`: run a node (or a scripted robot node)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from travelgate.commands._io import add_config_argument, load_config_from


def register(groups: argparse._SubParsersAction[Any]) -> None:
    serve = groups.add_parser(
        "serve",
        help="run the gateway (TRISA server, workers, internal API)",
        description=(
            "Run the travelgate node described by the config file (TOML; every value can "
            "also come from TRAVELGATE_<SECTION>_<KEY> environment variables). SIGTERM or "
            "Ctrl-C drains in-flight calls and exits 0."
        ),
    )
    add_config_argument(serve)
    serve.set_defaults(handler=_serve)

    robot = groups.add_parser(
        "robot",
        help="run a robot counterparty with a scripted decision",
        description=(
            "Run a real travelgate node whose beneficiary decisions are scripted: sync-accept "
            "(accept at once), async-accept (reply PENDING, accept later by a callback "
            "Transfer), repair (ask for a repair, accept the repaired REVIEW), reject. "
            "Unknown beneficiary addresses are always refused with UNKNOWN_WALLET_ADDRESS."
        ),
    )
    from travelgate.robots import POLICIES

    robot.add_argument("--policy", required=True, choices=POLICIES, help="the scripted decision")
    robot.add_argument(
        "--delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="async-accept: seconds before the acceptance callback (default 1)",
    )
    add_config_argument(robot)
    robot.set_defaults(handler=_robot)


def _serve(args: argparse.Namespace) -> int:
    from travelgate.node import build_node

    config = load_config_from(args)
    return asyncio.run(_run(build_node(config)))


def _robot(args: argparse.Namespace) -> int:
    from travelgate.node import build_node
    from travelgate.robots import RobotPolicy

    config = load_config_from(args)
    return asyncio.run(_run(build_node(config, robot=RobotPolicy(args.policy), delay=args.delay)))


async def _run(node: Any) -> int:
    await node.start()
    await node.run_until_signal()
    return 0
