"""The sunrise page on the API listener: `/sunrise/{token}`, server-rendered (Jinja2).

No authentication but the unguessable token in the path (and the one-time code when the
peer asks for one). Every response carries a strict Content-Security-Policy (nothing
inline, nothing from elsewhere), no-store caching, no referrer (the token must not leak
into another site's logs) and no framing. Forms carry a CSRF token checked against a
SameSite=Strict cookie. Every failure is a page a person can act on; none shows a
traceback.
"""

from __future__ import annotations

import secrets
from importlib import resources
from typing import Any

import structlog
from aiohttp import web
from jinja2 import Environment, PackageLoader

from travelgate.errors import LinkGoneError, StoreError, WrongCodeError
from travelgate.sunrise._form import form_from_person, read_form, validate_form
from travelgate.sunrise._service import LinkPage, SunriseService

log = structlog.get_logger("travelgate.sunrise")

PREFIX = "/sunrise/"
CSRF_COOKIE = "tg_sunrise_csrf"
UNLOCK_COOKIE = "tg_sunrise_unlock"
MAX_REASON = 1000
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
SERVICE = web.AppKey("sunrise", SunriseService)
_templates = Environment(
    loader=PackageLoader("travelgate.sunrise", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def add_routes(app: web.Application, service: SunriseService) -> None:
    app[SERVICE] = service
    app.router.add_get("/sunrise/static/sunrise.css", stylesheet)
    app.router.add_get("/sunrise/{token}", show)
    app.router.add_post("/sunrise/{token}", answer)
    app.router.add_post("/sunrise/{token}/code", enter_code)


def _render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    service = request.app[SERVICE]
    html = _templates.get_template(template).render(sender=service.legal_name, **context)
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    response.headers.update(SECURITY_HEADERS)
    return response


def _csrf(request: web.Request) -> str:
    current = request.cookies.get(CSRF_COOKIE, "")
    return current if 30 <= len(current) <= 64 else secrets.token_urlsafe(32)


def _set_cookie(request: web.Request, response: web.Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path=PREFIX,
        httponly=True,
        samesite="Strict",
        secure=request.secure,  # plain HTTP on a development loopback listener
        max_age=14 * 86400,
    )


def _csrf_ok(request: web.Request, posted: Any) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = str(posted.get("csrf", ""))
    return bool(cookie) and secrets.compare_digest(cookie.encode(), sent.encode())


def _gone(request: web.Request, exc: LinkGoneError) -> web.Response:
    return _render(request, "gone.html", exc.status, title=exc.title, message=exc.message)


def _forbidden(request: web.Request) -> web.Response:
    return _render(
        request,
        "gone.html",
        403,
        title="Form expired",
        message="this form could not be verified (its protection cookie is missing or "
        "stale). Open the link from the email again and resubmit.",
    )


def _page(
    request: web.Request, page: LinkPage, csrf: str, status: int = 200, **context: Any
) -> web.Response:
    token = request.match_info["token"]
    if page.needs_code:
        response = _render(
            request,
            "code.html",
            status,
            title="Enter your one-time code",
            csrf=csrf,
            code_action=f"{PREFIX}{token}/code",
            error=context.get("error"),
        )
    else:
        form = context.pop("form", None) or form_from_person(
            page.beneficiary_person, page.beneficiary_name
        )
        response = _render(
            request,
            "page.html",
            status,
            title="Confirm a transfer to your customer",
            page=page,
            form=form,
            csrf=csrf,
            action=f"{PREFIX}{token}",
            expires=page.link.expires_at[:16].replace("T", " "),
            reason=context.get("reason", ""),
            reason_error=context.get("reason_error"),
        )
    _set_cookie(request, response, CSRF_COOKIE, csrf)
    return response


async def _guarded(request: web.Request, handle: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handle(request)
        return response
    except LinkGoneError as exc:
        return _gone(request, exc)
    except StoreError:
        log.exception("sunrise page: store unavailable")
        return _render(
            request,
            "gone.html",
            503,
            title="Try again shortly",
            message="the service is busy; nothing was recorded. Try again in a minute.",
        )
    except Exception:
        log.exception("sunrise page failed", method=request.method)
        return _render(
            request,
            "gone.html",
            500,
            title="Something went wrong",
            message="something went wrong on our side and nothing was recorded. Try again "
            "later, or contact the originator.",
        )


async def show(request: web.Request) -> web.StreamResponse:
    async def handle(request: web.Request) -> web.StreamResponse:
        service = request.app[SERVICE]
        token = request.match_info["token"]
        page = await service.view(token, request.cookies.get(UNLOCK_COOKIE))
        return _page(request, page, _csrf(request))

    return await _guarded(request, handle)


async def enter_code(request: web.Request) -> web.StreamResponse:
    async def handle(request: web.Request) -> web.StreamResponse:
        service = request.app[SERVICE]
        token = request.match_info["token"]
        posted = await request.post()
        if not _csrf_ok(request, posted):
            return _forbidden(request)
        try:
            cookie = await service.unlock(token, str(posted.get("code", ""))[:20])
        except WrongCodeError as exc:
            page = await service.view(token, None)
            return _page(request, page, _csrf(request), 422, error=exc.message)
        response = web.Response(status=303, headers={"Location": f"{PREFIX}{token}"})
        response.headers.update(SECURITY_HEADERS)
        response.set_cookie(
            UNLOCK_COOKIE,
            cookie,
            path=PREFIX,
            httponly=True,
            samesite="Strict",
            secure=request.secure,
        )
        return response

    return await _guarded(request, handle)


async def answer(request: web.Request) -> web.StreamResponse:
    async def handle(request: web.Request) -> web.StreamResponse:
        service = request.app[SERVICE]
        token = request.match_info["token"]
        unlock = request.cookies.get(UNLOCK_COOKIE)
        posted = await request.post()
        if not _csrf_ok(request, posted):
            return _forbidden(request)
        decision = posted.get("decision")
        if decision == "reject":
            reason = " ".join(str(posted.get("reason", "")).split())
            if not reason or len(reason) > MAX_REASON:
                page = await service.view(token, unlock)
                why = "say why you reject the transfer" if not reason else "at most 1000 characters"
                return _page(request, page, _csrf(request), 422, reason=reason, reason_error=why)
            await service.decide(token, unlock, accept=False, reason=reason)
            return _render(
                request,
                "done.html",
                title="Transfer rejected",
                message=f"Thank you. {service.legal_name} has recorded your rejection and "
                "will not send the transfer.",
            )
        if decision != "accept":
            page = await service.view(token, unlock)
            return _page(request, page, _csrf(request), 422)
        form = read_form({k: str(v) for k, v in posted.items() if isinstance(v, str)})
        page = await service.view(token, unlock)
        if page.needs_code:
            return _page(request, page, _csrf(request), 403)
        person = validate_form(form, page.profile)
        if person is None:
            return _page(request, page, _csrf(request), 422, form=form)
        await service.decide(token, unlock, accept=True, person=person)
        return _render(
            request,
            "done.html",
            title="Transfer accepted",
            message=f"Thank you. {service.legal_name} has recorded your acceptance and the "
            "beneficiary's details you confirmed.",
        )

    return await _guarded(request, handle)


async def stylesheet(_request: web.Request) -> web.Response:
    css = resources.files("travelgate.sunrise").joinpath("static/sunrise.css").read_text()
    response = web.Response(text=css, content_type="text/css", charset="utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
