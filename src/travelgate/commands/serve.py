"""`travelgate serve` and `travelgate robot`: run a node (or a scripted robot node)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from travelgate.commands._io import add_config_argument, load_config_from


def register(groups: argparse._SubParsersAction[Any]) -> None:
    serve = groups.add_parser(
        "serve",
        help="run the gateway (TRISA server, workers, internal API)",
        description=(
            "Run the travelgate node described by the config file (TOML; every value can "
            "also come from TRAVELGATE_<SECTION>_<KEY> environment variables). SIGTERM or "
            "Ctrl-C drains in-flight calls and exits 0. With --workers N, N processes share "
            "the listen ports (SO_REUSEPORT) under one supervising parent."
        ),
    )
    add_config_argument(serve)
    serve.add_argument(
        "--workers",
        type=worker_count,
        default=1,
        metavar="N",
        help="worker processes sharing the listen ports; 0 = one per core (default 1)",
    )
    # How the supervising parent starts each worker; not for people.
    serve.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)
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


def worker_count(text: str) -> int:
    """`--workers`: a whole number, 0 (one per core) or more."""
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(
            f"must be 0 (one worker per core) or a positive number of processes, not {text!r}"
        )
    return count


def _serve(args: argparse.Namespace) -> int:
    from travelgate.node import build_node
    from travelgate.supervisor import cores, serve_workers

    config = load_config_from(args)
    if args.worker_index is not None:
        return _serve_as_worker(config, args.worker_index)
    count = args.workers or cores()
    if count == 1:
        return asyncio.run(_run(build_node(config)))
    return serve_workers(config, count, args.config)


def _serve_as_worker(config: Any, index: int) -> int:
    import structlog

    from travelgate.node import build_node

    def tag(_logger: Any, _name: str, event: Any) -> Any:
        event.setdefault("worker", index)
        return event

    # Every line of this process says which worker wrote it, from any thread.
    structlog.configure(processors=[tag, *structlog.get_config()["processors"]])
    return asyncio.run(_run_worker(build_node(config, worker=index)))


def _robot(args: argparse.Namespace) -> int:
    from travelgate.node import build_node
    from travelgate.robots import RobotPolicy

    config = load_config_from(args)
    return asyncio.run(_run(build_node(config, robot=RobotPolicy(args.policy), delay=args.delay)))


async def _run(node: Any) -> int:
    await node.start()
    await node.run_until_signal()
    return 0


async def _run_worker(node: Any) -> int:
    """Serve as one worker: tell the parent on stdout once serving; stop when the parent
    says so (SIGTERM) or is gone (stdin closes)."""
    await node.start()
    loop = asyncio.get_running_loop()
    parent = sys.stdin.fileno()

    def parent_gone() -> None:
        try:
            alive = bool(os.read(parent, 512))
        except OSError:
            alive = False
        if not alive:
            loop.remove_reader(parent)
            node.request_stop()

    loop.add_reader(parent, parent_gone)
    report = {
        "ready": True,
        "pid": os.getpid(),
        "worker": node.worker,
        "trisa_port": node.trisa_port,
        "api_port": node.api_port,
    }
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()
    try:
        await node.run_until_signal()
    finally:
        loop.remove_reader(parent)
    return 0
