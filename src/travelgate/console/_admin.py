"""For admins: people of the console and API keys; for everyone: the counterparties.

People and keys are changed through the same service functions as `travelgate user` and
`travelgate apikey`, audited under the admin's own name. A new person's one-time password
and TOTP secret, and a new API key, are shown once, on the answer to the form.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from travelgate.console._auth import require
from travelgate.console._context import back_to, render, required_reason, services
from travelgate.errors import ApiError, TravelgateError
from travelgate.service import (
    SCOPES,
    create_api_key,
    create_user,
    list_api_keys,
    list_users,
    reset_user,
    revoke_api_key,
    set_user_disabled,
)
from travelgate.store import ROLES, Tx, User, now_text
from travelgate.trisa import format_pin, spki_digest

MAX_LABEL = 100


def _issuer(request: web.Request) -> str:
    return f"travelgate {services(request).node_name}"


async def users(request: web.Request) -> web.Response:
    await require(request, "admin", "manage people", "users")
    people = await list_users(services(request).db)
    return render(request, "users.html", {"users": people, "roles": ROLES, "enrolment": None})


async def _person(request: web.Request) -> User:
    user_id = request.match_info["id"]
    found = await services(request).db.read(lambda tx: tx.user(user_id))
    if found is None:
        raise ApiError(404, "not_found", "No such person.")
    return found


async def add_user(request: web.Request) -> web.Response:
    admin = await require(request, "admin", "add a person", "users")
    form = await request.post()
    email, role = str(form.get("email", "")).strip(), str(form.get("role", ""))
    try:
        enrolment = await create_user(
            services(request).db,
            email,
            role,
            actor=admin.actor,
            issuer=_issuer(request),
            via="console",
        )
    except TravelgateError as exc:
        raise ApiError(422, "invalid_field", exc.message) from None
    return await _show_enrolment(request, enrolment, "added")


async def _show_enrolment(request: web.Request, enrolment: Any, verb: str) -> web.Response:
    from urllib.parse import parse_qs, urlsplit

    secret = parse_qs(urlsplit(enrolment.totp_uri).query).get("secret", [""])[0]
    people = await list_users(services(request).db)
    return render(
        request,
        "users.html",
        {
            "users": people,
            "roles": ROLES,
            "enrolment": {
                "verb": verb,
                "user": enrolment.user,
                "password": enrolment.one_time_password,
                "uri": enrolment.totp_uri,
                "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            },
        },
    )


async def change_user(request: web.Request) -> web.Response:
    admin = await require(request, "admin", "change a person's access", "users")
    target = await _person(request)
    action = request.match_info["action"]
    if target.id == admin.user.id and action in ("disable", "reset"):
        raise ApiError(
            409, "own_access", "You cannot disable or reset yourself: ask another admin."
        )
    db = services(request).db
    if action == "reset":
        enrolment = await reset_user(
            db, target.email, actor=admin.actor, issuer=_issuer(request), via="console"
        )
        await _end_sessions(request, target.id)
        return await _show_enrolment(request, enrolment, "reset")
    await set_user_disabled(
        db, target.email, disabled=action == "disable", actor=admin.actor, via="console"
    )
    if action == "disable":
        await _end_sessions(request, target.id)
    return back_to("users", "disabled" if action == "disable" else "enabled")


async def _end_sessions(request: web.Request, user_id: str) -> None:
    stamp = now_text()
    await services(request).db.write(lambda tx: tx.end_console_sessions_of(user_id, stamp))


async def api_keys(request: web.Request) -> web.Response:
    await require(request, "admin", "manage API keys", "apikeys")
    keys = await list_api_keys(services(request).db)
    return render(request, "api_keys.html", {"keys": keys, "scopes": SCOPES, "created": None})


async def add_api_key(request: web.Request) -> web.Response:
    admin = await require(request, "admin", "create an API key", "apikeys")
    form = await request.post()
    label = str(form.get("name", "")).strip()
    chosen = tuple(str(scope) for scope in form.getall("scope", []))
    if not label or len(label) > MAX_LABEL or not label.isprintable():
        raise ApiError(422, "invalid_field", f"Name the key (1 to {MAX_LABEL} characters).")
    if not chosen:
        raise ApiError(422, "missing_field", "Choose at least one scope.")
    try:
        key_id, key = await create_api_key(services(request).db, label, chosen, actor=admin.actor)
    except ValueError as exc:
        raise ApiError(422, "invalid_field", str(exc)) from None
    keys = await list_api_keys(services(request).db)
    return render(
        request,
        "api_keys.html",
        {"keys": keys, "scopes": SCOPES, "created": {"id": key_id, "key": key}},
    )


async def revoke_key(request: web.Request) -> web.Response:
    admin = await require(request, "admin", "revoke an API key", "apikeys")

    if (
        await revoke_api_key(services(request).db, request.match_info["id"], actor=admin.actor)
        is None
    ):
        raise ApiError(404, "not_found", "No such API key.")
    return back_to("api-keys", "revoked")


@dataclass(frozen=True)
class CounterpartyRow:
    name: str
    endpoint: str
    protocol: str
    fingerprints: list[str]
    blocked: bool
    blocked_by: tuple[str, str] | None  # by an admin in the console: (who, when)
    not_after: str | None
    last_exchange_at: str | None
    failed_envelopes: int
    dead_letters: int


async def counterparties(request: web.Request) -> web.Response:
    console = services(request)
    # A peers file shared by several nodes names this node too: it is no counterparty.
    peers = sorted(
        (peer for peer in console.directory if peer.name != console.node_name),
        key=lambda peer: peer.name,
    )
    expiry = {
        owner.removeprefix("peer:"): cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        for owner, cert in console.certificates()
        if owner.startswith("peer:")
    }

    def read(tx: Tx) -> Any:
        activity = tx.peer_activity([p.name for p in peers])
        return {found.peer: found for found in activity}, tx.counterparty_blocks()

    activity, blocks = await console.db.read(read)
    rows = []
    for peer in peers:
        fingerprints = sorted(format_pin(pin) for pin in peer.pins)
        if peer.pinned_key is not None:
            fingerprints.insert(0, format_pin(spki_digest(peer.pinned_key)))
        seen = activity[peer.name]
        rows.append(
            CounterpartyRow(
                name=peer.name,
                endpoint=peer.endpoint,
                protocol="TRISA",
                fingerprints=list(dict.fromkeys(fingerprints)),
                blocked=peer.blocked,
                blocked_by=blocks.get(peer.name),
                not_after=expiry.get(peer.name),
                last_exchange_at=seen.last_exchange_at,
                failed_envelopes=seen.failed_envelopes,
                dead_letters=seen.dead_letters,
            )
        )
    return render(request, "counterparties.html", {"rows": rows})


async def block_counterparty(request: web.Request) -> web.Response:
    """Block or unblock a counterparty at once (envelopes from it are refused, nothing is
    sent to it) and across restarts; the peers file's own `blocked` is not changed."""
    name, action = request.match_info["name"], request.match_info["action"]
    admin = await require(request, "admin", f"{action} a counterparty", f"peer:{name}")
    console = services(request)
    listed = console.directory.get(name)
    if listed is None:
        raise ApiError(404, "not_found", f"No counterparty {name!r} in the directory.")
    reason = required_reason(await request.post())
    stamp = now_text()

    def write(tx: Tx) -> bool:
        if action == "block":
            changed = tx.block_counterparty(name, actor=admin.actor, stamp=stamp)
        else:
            changed = tx.unblock_counterparty(name)
        if changed:
            tx.audit(
                actor=admin.actor,
                action=f"counterparty.{action}ed",
                subject=f"peer:{name}",
                detail={"reason": reason, "via": "console"},
                stamp=stamp,
            )
        return changed

    if not await console.db.write(write):
        raise ApiError(409, "unchanged", f"{name} is already {action}ed here.")
    console.directory.put(dataclasses.replace(listed, blocked=action == "block"))
    return back_to("counterparties", f"{action}ed")


def routes(router: web.UrlDispatcher) -> None:
    router.add_post(r"/counterparties/{name}/{action:block|unblock}", block_counterparty)
    router.add_get("/users", users)
    router.add_post("/users", add_user)
    router.add_post(r"/users/{id}/{action:disable|enable|reset}", change_user)
    router.add_get("/api-keys", api_keys)
    router.add_post("/api-keys", add_api_key)
    router.add_post("/api-keys/{id}/revoke", revoke_key)
    router.add_get("/counterparties", counterparties)
