"""`travelgate ivms validate|convert`: IVMS101 identity payloads on the command line."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Literal

from travelgate.commands._io import command_group, print_json, read_input

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_UNPARSEABLE = 2

# Dialect ids of the package -> the encoding names of the CLI contract.
ENCODINGS = {"ivms": "ivms101", "trisa-pj": "protojson", "trisa-pb": "protobuf"}
TARGETS: dict[str, Literal["ivms-2020", "ivms-2023", "trisa-pj"]] = {
    "ivms101": "ivms-2020",
    "ivms101-2023": "ivms-2023",
    "protojson": "trisa-pj",
}


def register(groups: argparse._SubParsersAction[Any]) -> None:
    commands = command_group(
        groups,
        "ivms",
        help="validate and convert IVMS101 identity payloads",
        description="Validate an IVMS101 IdentityPayload, or convert it between encodings.",
    )

    check = commands.add_parser(
        "validate",
        help="report every violation of an IdentityPayload",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Validate FILE, an IdentityPayload in IVMS101 JSON (2020 or 2023 edition) or TRISA\n"
            "protojson (detected automatically; binary protobuf is accepted too).\n\n"
            "Exit status: 0 valid (warnings alone do not fail), 1 at least one error-severity\n"
            "violation, 2 the file cannot be parsed, or a usage error. With --format json one\n"
            'object is printed, also on exit 2: {"valid", "encoding", "edition", "violations":\n'
            '[{"id", "severity", "path", "message"}]}; "encoding" is "ivms101" or "protojson"\n'
            '("protobuf" for binary input).'
        ),
    )
    check.add_argument("file", metavar="FILE", help='IdentityPayload file, "-" for stdin')
    _common_options(check)
    check.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    check.set_defaults(handler=_validate)

    convert = commands.add_parser(
        "convert",
        help="convert an IdentityPayload between IVMS101 JSON and protojson",
        description=(
            "Decode FILE (any accepted encoding) and print it in the --to encoding: ivms101 "
            "(IVMS101 JSON, 2020 edition), ivms101-2023, or protojson. A document with "
            "error-severity violations under --profile is not converted (exit 1, the "
            "violations on stderr) unless --force is given; exit 2 when it cannot be parsed."
        ),
    )
    convert.add_argument("file", metavar="FILE", help='IdentityPayload file, "-" for stdin')
    convert.add_argument("--to", required=True, choices=tuple(TARGETS), help="target encoding")
    _common_options(convert)
    convert.add_argument(
        "--force", action="store_true", help="convert even when the document has errors"
    )
    convert.add_argument(
        "--proto-names",
        action="store_true",
        help="protojson with proto field names (snake_case) instead of JSON names",
    )
    convert.set_defaults(handler=_convert)


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        choices=("strict", "standard", "interop"),
        default="standard",
        help="validation profile (default standard)",
    )
    parser.add_argument(
        "--edition",
        choices=("auto", "2020", "2023"),
        default="auto",
        help="IVMS101 edition to validate against (default: detected)",
    )
    parser.add_argument(
        "--rekey",
        action="store_true",
        help="accept the alias keys of back-office JSON (never for counterparty data)",
    )


def _violation_json(violation: Any) -> dict[str, Any]:
    return {
        "id": violation.rule,
        "severity": violation.severity,
        "path": violation.path,
        "message": violation.message,
    }


def _print_text(result: Any, stream: Any) -> None:
    for v in result.violations:
        where = v.path or "(document)"
        stream.write(f"{v.severity:7} {v.rule:20} {where}: {v.message}\n")
    errors = sum(1 for v in result.violations if v.severity == "error")
    warnings = len(result.violations) - errors
    encoding = ENCODINGS[result.dialect]
    verdict = "valid" if result.valid else "invalid"
    stream.write(
        f"{verdict}: {errors} error(s), {warnings} warning(s) "
        f"[{encoding}, edition {result.edition}, profile {result.profile}]\n"
    )


def _run(args: argparse.Namespace) -> Any:
    from travelgate.ivms101 import validate

    data = read_input(args.file, what="IdentityPayload")
    return validate(data, profile=args.profile, edition=args.edition, rekey=args.rekey)


def _validate(args: argparse.Namespace) -> int:
    result = _run(args)
    parse_failed = result.model is None
    if args.format == "json":
        print_json(
            {
                "valid": result.valid,
                "encoding": ENCODINGS[result.dialect],
                "edition": result.edition,
                "violations": [_violation_json(v) for v in result.violations],
            }
        )
    else:
        _print_text(result, sys.stdout)
        sys.stdout.flush()
    if parse_failed:
        return EXIT_UNPARSEABLE
    return EXIT_VALID if result.valid else EXIT_INVALID


def _convert(args: argparse.Namespace) -> int:
    from travelgate.ivms101 import IvmsEncodeError, encode

    result = _run(args)
    if result.model is None:
        _print_text(result, sys.stderr)
        return EXIT_UNPARSEABLE
    if result.violations:
        _print_text(result, sys.stderr)
    if not result.valid and not args.force:
        sys.stderr.write("travelgate: error: not converted (use --force to convert anyway)\n")
        return EXIT_INVALID
    try:
        document = encode(result.model, TARGETS[args.to], proto_names=args.proto_names)
    except IvmsEncodeError as exc:
        sys.stderr.write(f"travelgate: error: {exc.message}\n")
        return EXIT_INVALID
    try:
        print_json(document)
    except UnicodeEncodeError:  # a lone surrogate (only with --force): escape everything
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=True) + "\n")
    return EXIT_VALID
