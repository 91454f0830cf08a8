"""`travelgate conformance`: check a TRISA peer against the TRISA v1beta1 protocol.

Exit codes: 0 when every case of the --level that ran passed (skips do not count), 1 when
one failed, 2 for a usage error (bad target, unreadable config, a --case that matches
nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from travelgate.commands._io import add_config_argument, load_config_from
from travelgate.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from travelgate.conformance import Case, CaseResult
    from travelgate.trisa import Directory, Peer


def register(groups: argparse._SubParsersAction[Any]) -> None:
    from travelgate.conformance import DEFAULT_TIMEOUT, FORMATS, LEVELS

    parser = groups.add_parser(
        "conformance",
        help="check a TRISA peer against the protocol, case by case",
        description=(
            "Connect to the TRISA peer at HOST:PORT as the node of --config (its mTLS "
            "identity, trust pool and directory) and run one named case per behaviour of "
            "the TRISA v1beta1 protocol: health, key exchange, a valid transfer and its sealed "
            "reply, tampered envelopes, unknown algorithms, payload rules, duplicates, "
            "TransferStream and mTLS refusals. Each case prints PASS, FAIL (expected and "
            "actual) or SKIP (why). A peer that refuses the valid transfer is conformant; "
            "the cases that need an acceptance are then skipped. Each case has a level: "
            "required (what the protocol requires, as the TRISA reference library behaves) "
            "or recommended (a stricter rule of the TRISA v1beta1 documentation). Exit 0 "
            "when no case of --level "
            "failed, 1 when one did, 2 for a usage error. With --format json or junit the "
            "progress lines go to stderr and stdout holds only the document."
        ),
    )
    parser.add_argument(
        "--target", metavar="HOST:PORT", help="where the peer's TRISA server listens"
    )
    add_config_argument(parser)
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="report format (default text)"
    )
    parser.add_argument(
        "--level",
        choices=LEVELS,
        default=LEVELS[0],
        help=(
            "which failures fail the run: required (default; the protocol as the reference "
            "library behaves) or recommended (also the TRISA documentation's stricter rules)"
        ),
    )
    parser.add_argument(
        "--target-name",
        metavar="NAME",
        help=(
            "TLS server name (the peer's certificate common name); default: the directory "
            "peer whose endpoint is the target, else the target's host"
        ),
    )
    parser.add_argument(
        "--beneficiary-address",
        metavar="ADDR",
        help=(
            "an address of one of the peer's customers, for the valid transfer; default: the "
            "first of the directory peer's addresses"
        ),
    )
    parser.add_argument(
        "--beneficiary-name",
        metavar='"SURNAME, GIVEN"',
        help="that customer's name as the peer knows it (default: a made-up name)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"deadline of each call (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--case",
        action="append",
        default=[],
        metavar="PATTERN",
        help="run only matching cases: a name, a group (tamper) or a glob; repeatable",
    )
    parser.add_argument(
        "--output", metavar="FILE", help="also write the report (in --format) to FILE"
    )
    parser.add_argument(
        "--list", action="store_true", help="list the cases (after --case) and exit"
    )
    parser.set_defaults(handler=_conformance)


def _conformance(args: argparse.Namespace) -> int:
    from travelgate import conformance as conf

    try:
        cases = conf.select(args.case)
    except ValueError as exc:
        raise UsageError(f"--case: {exc}") from None
    if args.list:
        _list(cases)
        return 0
    if not args.target:
        raise UsageError("--target HOST:PORT is required")
    host, _port = _target(args.target)
    if not args.timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    name = _beneficiary_name(args.beneficiary_name)
    output = _output(args.output)
    if not args.config:
        import os

        if not os.environ.get("TRAVELGATE_CONFIG"):
            raise UsageError("--config FILE is required: the tester's own node configuration")
    from travelgate.trisa import Directory, load_credentials

    try:
        config = load_config_from(args)
        credentials = load_credentials(config)
        directory = Directory.load(config.directory.file)
    except ConfigError as exc:
        raise UsageError(exc.message) from None
    peer = _peer(directory, args.target_name, args.target)
    addresses = peer.addresses if peer is not None else ()
    settings = conf.Settings(
        target=args.target,
        peer_name=args.target_name or (peer.name if peer is not None else host),
        parties=conf.Parties(
            beneficiary_address=args.beneficiary_address
            or (addresses[0] if addresses else conf.DEFAULT_BENEFICIARY_ADDRESS),
            beneficiary_name=name,
            vasp_legal_name=config.node.legal_name,
            vasp_country=config.node.country,
        ),
        timeout=args.timeout,
        pinned_key=peer.pinned_key if peer is not None else None,
        max_message_bytes=config.trisa.max_message_bytes,
    )
    text = args.format == "text"
    progress_stream: TextIO = sys.stdout if text else sys.stderr
    print(conf.header(settings.target, settings.peer_name), file=progress_stream, flush=True)

    def progress(result: CaseResult) -> None:
        print(conf.progress_line(result, verbose=text), file=progress_stream, flush=True)

    report = asyncio.run(
        conf.run_suite(
            settings, credentials, cases=cases, progress=progress, level=conf.Level(args.level)
        )
    )
    print(conf.summary_line(report), file=progress_stream, flush=True)
    document = conf.render(report, args.format)
    if not text:
        sys.stdout.write(document)
        sys.stdout.flush()
    if output is not None:
        _write(output, document)
    return 0 if report.ok else 1


def _target(text: str) -> tuple[str, int]:
    from travelgate.config import parse_listen

    try:
        host, port = parse_listen(text)
    except ValueError as exc:
        raise UsageError(f"--target: {exc}") from None
    if port == 0:
        raise UsageError("--target: port 0 is not a port a peer listens on")
    return host, port


def _beneficiary_name(text: str | None) -> tuple[str, str]:
    from travelgate.conformance import DEFAULT_BENEFICIARY_NAME

    if text is None:
        return DEFAULT_BENEFICIARY_NAME
    surname, comma, given = text.partition(",")
    if not comma or not surname.strip() or not given.strip():
        raise UsageError('--beneficiary-name must read "Surname, Given names"')
    return surname.strip(), given.strip()


def _output(path: str | None) -> Path | None:
    if path is None:
        return None
    output = Path(path)
    if output.is_dir():
        raise UsageError(f"--output {path} is a directory")
    if not output.parent.is_dir():
        raise UsageError(f"--output: folder {output.parent} does not exist")
    return output


def _write(path: Path, document: str) -> None:
    from travelgate.errors import TravelgateError

    try:
        path.write_text(document, encoding="utf-8")
    except OSError as exc:
        raise TravelgateError(f"cannot write {path}: {exc.strerror}") from None


def _peer(directory: Directory, name: str | None, target: str) -> Peer | None:
    """The directory entry for the target: by name if given, else by its endpoint."""
    from travelgate.config import parse_listen

    if name:
        return directory.get(name)
    host, port = parse_listen(target)
    for peer in directory:
        try:
            peer_host, peer_port = parse_listen(peer.endpoint)
        except ValueError:
            continue
        if peer_port == port and peer_host.lower() == host.lower():
            return peer
    return None


def _list(cases: tuple[Case, ...]) -> None:
    width = max((len(case.name) for case in cases), default=0)
    for case in cases:
        print(f"{case.name:<{width}}  [{case.level.value}] {case.checks}")
        print(f"{'':<{width}}  expects {case.expectation}")
        if case.reference:
            print(f"{'':<{width}}  the reference library: {case.reference}")
