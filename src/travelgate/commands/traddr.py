"""`travelgate traddr decode|encode`: Travel Addresses (and legacy LNURLs) on the command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from travelgate.commands._io import command_group, print_json


def register(groups: argparse._SubParsersAction[Any]) -> None:
    commands = command_group(
        groups,
        "traddr",
        help="decode and encode TRP Travel Addresses",
        description="Decode a TRP Travel Address (or a legacy LNURL) or encode one from a URL.",
    )

    decode = commands.add_parser(
        "decode",
        help="print the URL a Travel Address routes to",
        description=(
            'Print {"url", "host", "path", "query", "port"} for TA, a Travel Address ("ta...") '
            'or an LNURL. "host" includes the port when there is one, "query" has no "?". '
            "Exit 1 with the reason on stderr when TA is not valid."
        ),
    )
    decode.add_argument("address", metavar="TA", help="Travel Address or LNURL")
    decode.set_defaults(handler=_decode)

    encode = commands.add_parser(
        "encode",
        help="print the Travel Address of a URL",
        description=(
            "Print the Travel Address of URL, given without scheme and with t=i in its query "
            "(e.g. trp.example.com/transfers/a/TOKEN?t=i); the host must be an IP, localhost, "
            "a .local name or a name under a real top-level domain. Exit 1 with the reason "
            "otherwise. A note on stderr says when counterparties on the TRISA Go library "
            "cannot parse the address (a host not starting with a letter, with a port)."
        ),
    )
    encode.add_argument("url", metavar="URL", help="host[:port][/path]?t=i, no scheme")
    encode.set_defaults(handler=_encode)


def _decode(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from travelgate.errors import TravelAddressError
    from travelgate.trp import decode_lnurl, is_lnurl, travel_address_url

    address = args.address.strip()
    url = decode_lnurl(address) if is_lnurl(address) else travel_address_url(address)
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise TravelAddressError(f"invalid port in {url!r}") from None
    print_json(
        {"url": url, "host": parts.netloc, "path": parts.path, "query": parts.query, "port": port}
    )
    return 0


def _encode(args: argparse.Namespace) -> int:
    from travelgate.trp import encode_travel_address, reference_parse_problem

    url = args.url.strip()
    sys.stdout.write(encode_travel_address(url) + "\n")
    problem = reference_parse_problem(url)
    if problem is not None:
        sys.stderr.write(f"note: {problem}\n")
    return 0
