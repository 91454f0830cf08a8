"""Signing in and out, and the role each action needs.

Sign-in goes through `service.sign_in` (argon2id password, TOTP code, lock-out), which
audits every attempt on a known person; an attempt on an unknown email is audited here
(without the email: the trail holds no personal data). A refusal for want of a role is
audited too, then shown.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from travelgate.console._context import (
    ROLE_RANK,
    VIEWER,
    Viewer,
    back_to,
    redirect,
    render,
    services,
    viewer,
)
from travelgate.console._sessions import (
    clear_cookie,
    cookie_name,
    end_session,
    set_cookie,
    sign_in_cookie_name,
    start_session,
)
from travelgate.errors import ApiError
from travelgate.service import sign_in
from travelgate.store import Database, Tx, now_text

MAX_FIELD = 254
ROLE_WORDS = {
    "compliance": "the compliance or admin role",
    "admin": "the admin role",
}


async def audit(db: Database, actor: str, action: str, subject: str, **detail: Any) -> None:
    stamp = now_text()

    def write(tx: Tx) -> None:
        tx.audit(actor=actor, action=action, subject=subject, detail=detail, stamp=stamp)

    await db.write(write)


async def require(request: web.Request, role: str, what: str, subject: str) -> Viewer:
    """The signed-in person if their role allows `what`; else the refusal is audited and
    answered 403 with what it needs."""
    person = viewer(request)
    if person.may(role):
        return person
    await audit(
        services(request).db,
        person.actor,
        "console.refused",
        subject,
        why="role",
        role=person.user.role,
        needs=role,
        attempted=what,
    )
    raise ApiError(403, "forbidden", f"You may not {what}: it needs {ROLE_WORDS.get(role, role)}.")


def _field(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value.strip()[:MAX_FIELD] if isinstance(value, str) else ""


async def sign_in_page(request: web.Request) -> web.Response:
    if VIEWER in request:
        return redirect("/console/")
    return render(request, "sign_in.html", {"email": "", "refusal": None})


async def sign_in_form(request: web.Request) -> web.Response:
    form = await request.post()
    email, password, code = _field(form, "email"), _field(form, "password"), _field(form, "code")
    db = services(request).db
    settings = services(request).settings
    if not (email and password and code):
        return render(
            request,
            "sign_in.html",
            {"email": email, "refusal": "Enter your email, password and the code from your app."},
            status=400,
        )
    outcome = await sign_in(db, email, password, code, source="console")
    if outcome.user is None:
        known = await db.read(lambda tx: tx.user_by_email(email))
        if known is None:
            await audit(db, "anonymous", "console.sign_in_failed", "console", why="unknown_email")
        return render(
            request, "sign_in.html", {"email": email, "refusal": outcome.refusal}, status=401
        )
    token = await start_session(db, outcome.user, settings)
    response = redirect("/console/")
    set_cookie(
        response,
        settings,
        cookie_name(settings),
        token,
        max_age=int(settings.session_lifetime.total_seconds()),
    )
    clear_cookie(response, settings, sign_in_cookie_name(settings))
    return response


async def sign_out(request: web.Request) -> web.Response:
    person = viewer(request)
    db = services(request).db
    if await end_session(db, person.token):
        await audit(db, person.actor, "user.signed_out", person.actor, source="console")
    response = back_to("sign-in", "signed_out")
    clear_cookie(response, services(request).settings, cookie_name(services(request).settings))
    return response


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/sign-in", sign_in_page)
    router.add_post("/sign-in", sign_in_form)
    router.add_post("/sign-out", sign_out)


__all__ = ["ROLE_RANK", "audit", "require", "routes"]
