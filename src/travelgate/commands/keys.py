"""`travelgate keys pks`: public key signatures of certificates and keys."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from travelgate.commands._io import group_usage, read_input
from travelgate.errors import UsageError


def register(groups: argparse._SubParsersAction[Any]) -> None:
    group = groups.add_parser(
        "keys",
        help="inspect keys and exchange them with peers",
        description="Public key signatures and key exchange.",
    )
    commands = group.add_subparsers(dest="keys_command", metavar="COMMAND")
    pks = commands.add_parser(
        "pks",
        help="print the public_key_signature of a certificate or key",
        description=(
            "Print the TRISA public_key_signature (ALG:base64 of the hash of the DER "
            "SubjectPublicKeyInfo) of a certificate, public key or private key in PEM or DER."
        ),
    )
    pks.add_argument("pem", metavar="PEM", help='certificate or key file, "-" for stdin')
    pks.add_argument(
        "--algorithm",
        default="SHA256",
        choices=["SHA256", "SHA512", "MD5"],
        help="hash of the signature (default SHA256, the only one the gateway emits)",
    )
    pks.set_defaults(handler=_pks)
    group.set_defaults(handler=lambda _args: group_usage(group))


def _pks(args: argparse.Namespace) -> int:
    from travelgate import envelope as env

    data = read_input(args.pem, limit=1024 * 1024, what="key")
    try:
        key = env.load_public_key(data)
    except env.KeyLoadError as exc:
        raise UsageError(f"{args.pem}: {exc.message}") from None
    sys.stdout.write(env.public_key_signature(key, args.algorithm) + "\n")
    return 0
