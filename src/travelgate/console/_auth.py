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
from travelgate.errors import ApiError, TravelgateError
from travelgate.service import change_password, sign_in
from travelgate.store import Store, Tx, now_text

MAX_FIELD = 254
ROLE_WORDS = {
    "compliance": "the compliance or admin role",
    "admin": "the admin role",
}


async def audit(db: Store, actor: str, action: str, subject: str, **detail: Any) -> None:
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
        await audit(db, "anonymous", "console.sign_in_failed", "console", why="incomplete")
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


async def password_page(request: web.Request) -> web.Response:
    return render(request, "password.html", {"problem": None})


async def password_form(request: web.Request) -> web.Response:
    person = viewer(request)
    form = await request.post()
    current, new, again = (str(form.get(name, "")) for name in ("current", "password", "confirm"))
    problem = None
    if new != again:
        problem = "The two new passwords differ."
    else:
        try:
            await change_password(
                services(request).db, person.user.id, current, new, actor=person.actor
            )
        except TravelgateError as exc:
            problem = exc.message[:1].upper() + exc.message[1:] + "."
    if problem is not None:
        return render(request, "password.html", {"problem": problem}, status=422)
    stamp = now_text()
    await services(request).db.write(
        lambda tx: tx.end_console_sessions_of(person.user.id, stamp, keep=person.token)
    )
    return back_to("", "password")


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/sign-in", sign_in_page)
    router.add_post("/sign-in", sign_in_form)
    router.add_post("/sign-out", sign_out)
    router.add_get("/password", password_page)
    router.add_post("/password", password_form)


__all__ = ["ROLE_RANK", "audit", "require", "routes"]
