"""`travelgate user create|list|disable|enable|reset`: the people of the compliance console.

`create` and `reset` print a one-time password and a TOTP provisioning URI (shown once: only
an argon2id hash and the sealed secret are stored). Every change is an audit record.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from travelgate.commands._io import (
    add_config_argument,
    command_group,
    load_config_from,
    print_json,
)
from travelgate.commands._operator import OPERATOR_ACTOR, operator_identity

T = TypeVar("T")
ROLE_CHOICES = ("admin", "compliance", "observer")


def register(groups: argparse._SubParsersAction[Any]) -> None:
    commands = command_group(
        groups,
        "user",
        help="people of the compliance console",
        description=(
            "People who sign in to the console. Roles: observer reads; compliance also "
            "decides reviews, cancels holds and exports records; admin also manages users, "
            "API keys and counterparties."
        ),
    )
    create = commands.add_parser(
        "create",
        help="add a person; prints a one-time password and a TOTP provisioning URI",
        description=(
            "Add a person with a role. Prints a one-time password (changed at first sign-in) "
            "and an otpauth:// URI to enrol in an authenticator app; both are shown once."
        ),
    )
    add_config_argument(create)
    create.add_argument("--email", required=True, metavar="E")
    create.add_argument("--role", required=True, choices=ROLE_CHOICES)
    create.add_argument("--format", choices=("text", "json"), default="text")
    create.set_defaults(handler=_create)

    listing = commands.add_parser("list", help="list the people and their roles")
    add_config_argument(listing)
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.set_defaults(handler=_list)

    for name, text in (
        ("disable", "stop a person from signing in (their records stay)"),
        ("enable", "let a disabled person sign in again"),
    ):
        parser = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        add_config_argument(parser)
        parser.add_argument("email", metavar="E")
        parser.set_defaults(handler=_disable if name == "disable" else _enable)

    reset = commands.add_parser(
        "reset",
        help="new one-time password and TOTP secret for a person",
        description=(
            "Replace a person's password and TOTP secret (the old ones stop working at once) "
            "and lift a lock-out; prints the new one-time password and provisioning URI."
        ),
    )
    add_config_argument(reset)
    reset.add_argument("email", metavar="E")
    reset.add_argument("--format", choices=("text", "json"), default="text")
    reset.set_defaults(handler=_reset)


def _login() -> dict[str, Any]:
    return {"login": operator_identity()["login"]}


def _show_enrolment(enrolment: Any, fmt: str, verb: str) -> None:
    user = enrolment.user
    if fmt == "json":
        print_json(
            {
                "id": user.id,
                "email": user.email,
                "role": user.role,
                "one_time_password": enrolment.one_time_password,
                "totp_uri": enrolment.totp_uri,
            }
        )
        return
    sys.stdout.write(
        f"{verb} {user.email} ({user.role})\n"
        f"one-time password: {enrolment.one_time_password}\n"
        f"TOTP provisioning URI: {enrolment.totp_uri}\n"
    )
    sys.stdout.flush()


def _create(args: argparse.Namespace) -> int:
    from travelgate.service import create_user

    _config, enrolment = _with_database(
        args,
        lambda db, config: create_user(
            db, args.email, args.role, actor=OPERATOR_ACTOR, issuer=_issuer(config), **_login()
        ),
    )
    _show_enrolment(enrolment, args.format, "created")
    return 0


def _issuer(config: Any) -> str:
    return f"travelgate {config.node.name}"


def _list(args: argparse.Namespace) -> int:
    from travelgate.service import list_users

    _config, users = _with_database(args, lambda db, _config: list_users(db))
    rows = [
        {
            "id": user.id,
            "email": user.email,
            "role": user.role,
            "status": "disabled" if user.disabled_at else "active",
            "created_at": user.created_at,
            "last_sign_in_at": user.last_sign_in_at,
            "disabled_at": user.disabled_at,
        }
        for user in users
    ]
    if args.format == "json":
        print_json(rows)
        return 0
    header = ("EMAIL", "ROLE", "STATUS", "CREATED", "LAST SIGN-IN")
    table = [header] + [
        (
            user.email,
            user.role,
            "disabled" if user.disabled_at else "active",
            user.created_at[:19] + "Z",
            user.last_sign_in_at[:19] + "Z" if user.last_sign_in_at else "never",
        )
        for user in users
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        cells = "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
        sys.stdout.write(cells.rstrip() + "\n")
    sys.stdout.flush()
    return 0


def _disable(args: argparse.Namespace) -> int:
    return _set_disabled(args, disabled=True)


def _enable(args: argparse.Namespace) -> int:
    return _set_disabled(args, disabled=False)


def _set_disabled(args: argparse.Namespace, *, disabled: bool) -> int:
    from travelgate.service import set_user_disabled

    _config, (user, changed) = _with_database(
        args,
        lambda db, _config: set_user_disabled(
            db, args.email, disabled=disabled, actor=OPERATOR_ACTOR, **_login()
        ),
    )
    state = "disabled" if disabled else "enabled"
    note = "" if changed else " (already)"
    sys.stdout.write(f"{state}{note} {user.email} ({user.role})\n")
    sys.stdout.flush()
    return 0


def _reset(args: argparse.Namespace) -> int:
    from travelgate.service import reset_user

    _config, enrolment = _with_database(
        args,
        lambda db, config: reset_user(
            db, args.email, actor=OPERATOR_ACTOR, issuer=_issuer(config), **_login()
        ),
    )
    _show_enrolment(enrolment, args.format, "reset")
    if enrolment.user.disabled_at:
        sys.stderr.write(f"note: {enrolment.user.email} is disabled (see `user enable`)\n")
    return 0


def _with_database(
    args: argparse.Namespace, work: Callable[[Any, Any], Awaitable[T]]
) -> tuple[Any, T]:
    config = load_config_from(args)

    async def run() -> T:
        from travelgate.store import database_for

        db = database_for(config)
        await db.open()
        try:
            return await work(db, config)
        finally:
            await db.close()

    return config, asyncio.run(run())
