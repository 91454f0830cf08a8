"""`travelgate envelope seal|open`: SecureEnvelopes as protobuf JSON on the command line."""

from __future__ import annotations

import argparse
from typing import Any

from travelgate.commands._io import command_group, print_json, read_input
from travelgate.errors import TravelgateError, UsageError

ENVELOPE_LIMIT = 16 * 1024 * 1024


def register(groups: argparse._SubParsersAction[Any]) -> None:
    commands = command_group(
        groups,
        "envelope",
        help="seal and open TRISA SecureEnvelopes (protobuf JSON)",
        description="Seal a Payload for a recipient, or open a SecureEnvelope with our key.",
    )

    seal = commands.add_parser(
        "seal",
        help="seal a Payload for a recipient",
        description=(
            "Encrypt PAYLOAD_JSON (protobuf JSON of trisa.api.v1beta1.Payload, Any fields with "
            '"@type") for the recipient and print the sealed SecureEnvelope as protobuf JSON.'
        ),
    )
    seal.add_argument("payload", metavar="PAYLOAD_JSON", help='payload file, "-" for stdin')
    seal.add_argument(
        "--recipient", required=True, metavar="PEM", help="recipient certificate or public key"
    )
    seal.add_argument("--id", metavar="UUID", help="envelope id (default: a new UUID4)")
    seal.add_argument(
        "--transfer-state",
        default="STARTED",
        metavar="NAME",
        help="transfer_state name, e.g. STARTED (default), ACCEPTED, COMPLETED",
    )
    seal.set_defaults(handler=_seal)

    opener = commands.add_parser(
        "open",
        help="open a SecureEnvelope with our private key",
        description=(
            "Check and decrypt ENVELOPE_JSON in the receive order of the TRISA spec and print "
            '{"id", "timestamp", "transferState", "payload"} (or "error" for an error '
            "envelope). Exit 1 when it cannot be opened; the last stderr line then starts "
            "with the TRISA error code name."
        ),
    )
    opener.add_argument("envelope", metavar="ENVELOPE_JSON", help='envelope file, "-" for stdin')
    opener.add_argument(
        "--key", required=True, metavar="PEM", help="our private key (PKCS#1 or PKCS#8)"
    )
    opener.set_defaults(handler=_open)


def transfer_state(name: str) -> Any:
    from travelgate._pb.trisa.api.v1beta1 import api_pb2

    try:
        return api_pb2.TransferState.Value(name.strip().upper())
    except ValueError:
        names = ", ".join(api_pb2.TransferState.keys())
        raise UsageError(f"unknown transfer state {name!r}; use one of {names}") from None


def _key_file(path: str, what: str) -> bytes:
    return read_input(path, limit=1024 * 1024, what=what)


def _seal(args: argparse.Namespace) -> int:
    from travelgate import envelope as env

    state = transfer_state(args.transfer_state)
    if args.id is not None:
        try:
            env.normalize_envelope_id(args.id)
        except TravelgateError:
            raise UsageError(f"--id {args.id!r} is not a UUID") from None
    try:
        recipient = env.require_sealing_key(
            env.load_public_key(_key_file(args.recipient, "recipient"))
        )
    except env.KeyLoadError as exc:
        raise UsageError(f"recipient {args.recipient}: {exc.message}") from None
    try:
        payload = env.payload_from_json(read_input(args.payload, what="payload"))
    except env.JsonFormatError as exc:
        raise UsageError(exc.message) from None
    sealed = env.seal(payload, recipient, envelope_id=args.id, transfer_state=state)
    print_json(env.message_to_dict(sealed))
    return 0


def _open(args: argparse.Namespace) -> int:
    from travelgate import envelope as env
    from travelgate.errors import BadRequestError

    try:
        private_key = env.load_private_key(_key_file(args.key, "key"))
        keys = env.KeyRing.of([private_key])
    except env.KeyLoadError as exc:
        raise UsageError(f"key {args.key}: {exc.message}") from None
    try:
        envelope = env.envelope_from_json(
            read_input(args.envelope, limit=ENVELOPE_LIMIT, what="envelope")
        )
    except env.JsonFormatError as exc:
        raise BadRequestError(exc.message) from None
    kind = env.check_structure(envelope)
    if env.has_error(envelope):
        print_json(opened_json(envelope, None))
        return 0
    opened = env.open_envelope(envelope, keys, allow_unsealed=kind is env.EnvelopeKind.UNSEALED)
    print_json(opened_json(envelope, opened.payload))
    return 0


def opened_json(envelope: Any, payload: Any) -> dict[str, Any]:
    """The contract's JSON of an opened envelope: payload, or the error of an error envelope."""
    from travelgate import envelope as env
    from travelgate.trisa._exchange import state_name

    head: dict[str, Any] = {
        "id": envelope.id,
        "timestamp": envelope.timestamp,
        "transferState": state_name(envelope.transfer_state),
    }
    if env.has_error(envelope) or payload is None:
        return {**head, "error": env.message_to_dict(envelope.error)}
    return {**head, "payload": env.message_to_dict(payload)}
