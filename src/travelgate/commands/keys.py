"""`travelgate keys pks`: public key signatures of certificates and keys."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from travelgate.commands._io import (
    add_config_argument,
    command_group,
    load_config_from,
    no_reply_line,
    print_json,
    read_input,
)
from travelgate.errors import UsageError


def register(groups: argparse._SubParsersAction[Any]) -> None:
    commands = command_group(
        groups,
        "keys",
        help="inspect keys and exchange them with peers",
        description="Public key signatures and key exchange.",
    )
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

    exchange = commands.add_parser(
        "exchange",
        help="exchange sealing keys with a peer and print theirs",
        description=(
            "Call KeyExchange on PEER (from the directory) with our sealing key and print the "
            "key it advertises as JSON: its public_key_signature and certificate details."
        ),
    )
    add_config_argument(exchange)
    exchange.add_argument("--to", required=True, metavar="PEER", help="the peer's common name")
    exchange.set_defaults(handler=_exchange)


def _pks(args: argparse.Namespace) -> int:
    from travelgate import envelope as env

    data = read_input(args.pem, limit=1024 * 1024, what="key")
    if not data.strip():
        raise UsageError(f"{args.pem} is empty; expected a certificate or key in PEM or DER")
    try:
        key = env.load_public_key(data)
    except env.KeyLoadError as exc:
        raise UsageError(f"{args.pem}: {exc.message}") from None
    sys.stdout.write(env.public_key_signature(key, args.algorithm) + "\n")
    return 0


def _exchange(args: argparse.Namespace) -> int:
    import asyncio

    config = load_config_from(args)
    return asyncio.run(_key_exchange(config, args.to))


async def _key_exchange(config: Any, name: str) -> int:
    from travelgate import envelope as env
    from travelgate.node import Gateway
    from travelgate.trisa import PeerUnavailableError

    gateway = await Gateway.open(config, seed_customers=False)
    try:
        resolution = await gateway.directory.resolve(name)  # peers.toml, else the GDS
        if resolution.unavailable is not None:
            raise UsageError(resolution.unavailable)
        peer = resolution.peer
        if peer is None:
            raise UsageError(f"{name} is not in the directory")
        if not peer.endpoint:
            raise UsageError(f"{name} has no TRISA endpoint: it is reached by email (sunrise)")
        try:
            key = await gateway.client.key_exchange(peer)
        except PeerUnavailableError as exc:
            print(no_reply_line(exc), file=sys.stderr)
            return 1
    finally:
        await gateway.close()
    print_json(
        {
            "peer": name,
            "public_key_signature": env.public_key_signature(key),
            "key_size": key.key_size,
        }
    )
    return 0
