"""The `travelgate` command: argument parsing and the exit-code contract.

Each command group lives in `travelgate.commands.<group>` and registers its sub-commands;
this module only wires them together and turns errors into exit codes without tracebacks:
0 success, 1 failure (the last stderr line names the problem), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from travelgate import __version__
from travelgate.errors import TravelgateError, TrisaError, UsageError

COMMAND_GROUPS = (
    "serve",
    "transfer",
    "apikey",
    "envelope",
    "keys",
    "ivms",
    "certs",
    "conformance",
    "dev",
    "traddr",
    "screening",
    "audit",
    "records",
    "user",
    "directory",
    "db",
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # the shell's code for a command ended by SIGINT


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors go through our exit-code contract."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="travelgate",
        description="Travel-rule gateway: TRISA node, IVMS101 validation, withdrawal holds.",
    )
    parser.add_argument("--version", action="version", version=f"travelgate {__version__}")
    groups = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_GROUPS:
        module = importlib.import_module(f"travelgate.commands.{name}")
        module.register(groups)
    return parser


def quiet_grpc_core() -> None:
    """Keep grpc's C core from writing its own log lines to stderr.

    Failures it logs (a port in use, a bad certificate) reach the operator as one
    travelgate error line instead. It must run before grpc is first imported; an
    operator who sets GRPC_VERBOSITY (e.g. to debug) keeps their choice.
    """
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")


def main(argv: Sequence[str] | None = None) -> int:
    quiet_grpc_core()
    try:
        # Building the parser imports every command group: seconds on a slow machine,
        # during which a Ctrl-C must end the command as quietly as it would later.
        parser = build_parser()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = handler(args)
    except UsageError as exc:
        print(f"travelgate: error: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except TrisaError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILURE
    except TravelgateError as exc:
        print(f"travelgate: error: {exc.message}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug must still not show a traceback to an operator
        print(f"travelgate: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return code


if __name__ == "__main__":
    sys.exit(main())
