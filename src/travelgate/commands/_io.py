"""Input and output helpers shared by the CLI commands ("-" is standard input)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from travelgate.errors import UsageError

DEFAULT_INPUT_LIMIT = 16 * 1024 * 1024


def read_input(path: str, *, limit: int = DEFAULT_INPUT_LIMIT, what: str = "input") -> bytes:
    """Read a file (or stdin for "-") up to `limit` bytes; a bigger input is refused."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with Path(path).open("rb") as handle:
                data = handle.read(limit + 1)
    except FileNotFoundError:
        raise UsageError(f"{what} file not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"{what} path is a directory: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise UsageError(f"{what} {path} is larger than the {limit}-byte limit")
    return data


def print_json(value: Any) -> None:
    """Write one JSON document to stdout (UTF-8, indented, newline-terminated)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def command_group(
    groups: argparse._SubParsersAction[Any], name: str, *, help: str, description: str
) -> argparse._SubParsersAction[Any]:
    """A `travelgate NAME` group whose bare call shows its help (a usage error, exit 2)."""
    group = groups.add_parser(name, help=help, description=description)
    group.set_defaults(handler=lambda _args: group_usage(group))
    commands: argparse._SubParsersAction[Any] = group.add_subparsers(
        dest=f"{name}_command", metavar="COMMAND"
    )
    return commands


def group_usage(parser: argparse.ArgumentParser) -> int:
    """A command group called without a sub-command: show its help, exit as a usage error."""
    parser.print_help(sys.stderr)
    return 2


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="node configuration (TOML); default $TRAVELGATE_CONFIG, else the environment only",
    )


def load_config_from(args: argparse.Namespace) -> Any:
    """Load the node config named on the command line and set up logging to stderr."""
    import os

    from travelgate.config import load_config
    from travelgate.logging import configure

    path = args.config or os.environ.get("TRAVELGATE_CONFIG")
    config = load_config(path)
    configure(config.logging.level, config.logging.format)
    return config


# What grpc's transport says, in words an operator can act on; first match wins.
_TRANSPORT_PROBLEMS = (
    (
        "CERTIFICATE_VERIFY_FAILED",
        "TLS handshake failed: its certificate does not chain to our [tls] trust",
    ),
    (
        "is not in peer certificate",
        "TLS handshake failed: its certificate is not issued for its name",
    ),
    ("ALERT_UNKNOWN_CA", "TLS handshake failed: it does not trust the CA of our certificate"),
    ("ALERT_BAD_CERTIFICATE", "TLS handshake failed: it refused our certificate"),
    ("CERTIFICATE_REQUIRED", "TLS handshake failed: it refused our certificate"),
    ("handshake", "TLS handshake failed"),
    ("Connection refused", "connection refused: nothing listens at its endpoint"),
)


def no_reply_line(exc: Any) -> str:
    """The one stderr line for a peer that sent no envelope back (PeerUnavailableError)."""
    details = str(getattr(exc, "details", ""))
    status = getattr(exc, "status", None)
    for marker, plain in _TRANSPORT_PROBLEMS:
        if marker.lower() in details.lower():
            return f"no reply: {exc.peer}: {plain}"
    if status is not None and status.name == "DEADLINE_EXCEEDED":
        return f"no reply: {exc.peer}: no answer before the deadline ([trisa] transfer_timeout)"
    return f"no reply: {exc.message}"
