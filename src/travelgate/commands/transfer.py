"""`travelgate transfer send`: one Transfer to a peer, its reply printed as JSON."""

from __future__ import annotations

import argparse
import asyncio
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
        "transfer",
        help="send TRISA transfers",
        description="Send TRISA transfers to peers of the directory.",
    )
    send = commands.add_parser(
        "send",
        help="send one Transfer and print the reply",
        description=(
            "Seal PAYLOAD (protobuf JSON of trisa.api.v1beta1.Payload; sent_at is kept if set, "
            "else now) for the peer, send it with Transfer and print the reply as one JSON "
            'object like `envelope open`: {"id", "timestamp", "transferState", "payload"} or '
            '"error" for a rejection. Logs go to stderr. Exit 0 when a reply envelope came '
            "back (a rejection is a reply), 1 when none did. Works whether or not `serve` "
            "runs on the same database."
        ),
    )
    add_config_argument(send)
    send.add_argument("--to", required=True, metavar="PEER", help="the peer's common name")
    send.add_argument(
        "--payload", required=True, metavar="PAYLOAD", help='payload file, "-" for stdin'
    )
    send.add_argument("--id", metavar="UUID", help="envelope id (default: a new UUID4)")
    send.add_argument(
        "--transfer-state",
        default="STARTED",
        metavar="NAME",
        help="transfer_state of the envelope (default STARTED)",
    )
    send.set_defaults(handler=_send)


def _send(args: argparse.Namespace) -> int:
    from travelgate import envelope as env
    from travelgate.commands.envelope import transfer_state

    state = transfer_state(args.transfer_state)
    envelope_id = args.id or env.new_envelope_id()
    try:
        env.normalize_envelope_id(envelope_id)
    except Exception:
        raise UsageError(f"--id {args.id!r} is not a UUID") from None
    try:
        payload = env.payload_from_json(read_input(args.payload, what="payload"))
    except env.JsonFormatError as exc:
        raise UsageError(exc.message) from None
    if not payload.sent_at:
        payload.sent_at = env.format_timestamp()
    config = load_config_from(args)
    return asyncio.run(_exchange(config, args.to, envelope_id, state, payload))


async def _exchange(config: Any, peer: str, envelope_id: str, state: Any, payload: Any) -> int:
    from travelgate.commands.envelope import opened_json
    from travelgate.node import Gateway
    from travelgate.trisa import InvalidReplyError, PeerUnavailableError, UnknownPeerError

    gateway = await Gateway.open(config, seed_customers=False)
    try:
        result = await gateway.outbound.send(
            peer, envelope_id=envelope_id, state=state, payload=payload
        )
    except UnknownPeerError as exc:
        raise UsageError(exc.message) from None
    except (PeerUnavailableError, InvalidReplyError) as exc:
        print(no_reply_line(exc), file=sys.stderr)
        return 1
    finally:
        await gateway.close()
    print_json(opened_json(result.reply, result.parts.payload if result.parts else None))
    return 0
