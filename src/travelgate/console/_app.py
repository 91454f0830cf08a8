"""The console's aiohttp application, mounted at `/console/` on the API listener.

One middleware does what every request needs, in this order: security headers, "is the
console on", who is signed in, the CSRF check of every POST, and failures as pages (a
service's `ApiError` keeps its status and message; nothing else ever shows a traceback).
"""

from __future__ import annotations

from importlib import resources

import structlog
from aiohttp import web

from travelgate.api._errors import Handler, request_status
from travelgate.console import _admin, _audit, _auth, _records, _reviews
from travelgate.console._context import (
    SERVICES,
    TEMPLATES,
    VIEWER,
    ConsoleServices,
    Viewer,
    make_templates,
    redirect,
    render,
    services,
)
from travelgate.console._csrf import form_holds, prepare_sign_in, remember_nonce
from travelgate.console._sessions import clear_cookie, cookie_name, find_session
from travelgate.errors import ApiError, RequestError, StoreError
from travelgate.transfers import IllegalTransitionError

log = structlog.get_logger("travelgate.console")

# No script at all: forms and <details> do everything, so a script that ever got in
# could not run.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'none'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# Pages show personal data: no copy may stay in any cache, the browser's included.
NO_STORE = "no-store"
PUBLIC_PATHS = ("/console/sign-in", "/console/static/")
OWN_PASSWORD_PATHS = ("/console/password", "/console/sign-out")
_STATIC = resources.files("travelgate.console") / "static"
_STATIC_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


async def _enabled(request: web.Request) -> bool:
    setting = services(request).settings.enabled
    if setting is not None:
        return setting
    return await services(request).db.read(lambda tx: tx.count("users")) > 0


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await _guarded(request, handler)
    except web.HTTPException as exc:
        if exc.status < 400:
            response = redirect(exc.headers.get("Location", "/console/"))
        else:
            response = _failure(request, exc.status, exc.reason)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/console/static/"):
        response.headers["Cache-Control"] = NO_STORE
    return response


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not await _enabled(request):
        return web.Response(
            status=404,
            text="The console is off: it opens once a person exists "
            "(travelgate user create --role admin), or set [console] enabled = true.\n",
        )
    settings = services(request).settings
    token = request.cookies.get(cookie_name(settings), "")
    found = await find_session(services(request).db, token, settings) if token else None
    if found is not None and found.user is not None:
        request[VIEWER] = Viewer(found.user, token, found.csrf)
    public = request.path.startswith(PUBLIC_PATHS)
    if VIEWER not in request and not public:
        if request.method == "POST":
            return _failure(request, 401, "Your session ended: sign in again.")
        target = "/console/sign-in"
        if found is not None and found.ended is not None:
            target += "?notice=expired"
        to_sign_in = redirect(target)
        if token:
            clear_cookie(to_sign_in, settings, cookie_name(settings))
        return to_sign_in
    person = request.get(VIEWER)
    if (
        person is not None
        and person.user.must_change_password
        and request.path not in OWN_PASSWORD_PATHS
        and not public
    ):
        # A one-time password opens one page only: the one that replaces it.
        if request.method == "POST":
            return _failure(request, 403, "Choose your own password first.")
        return redirect("/console/password")
    fresh_nonce = None
    if request.path == "/console/sign-in":
        fresh_nonce = await prepare_sign_in(request)
    if request.method == "POST" and (fresh_nonce is not None or not await form_holds(request)):
        return _failure(
            request,
            403,
            "This form expired or did not come from this console: "
            "reload the page and send it again.",
        )
    response: web.StreamResponse
    try:
        response = await handler(request)
    except ApiError as exc:
        response = _failure(request, exc.status, exc.message)
    except RequestError as exc:
        response = _failure(request, request_status(exc), exc.message)
    except IllegalTransitionError as exc:
        response = _failure(request, 409, str(exc))
    except StoreError:
        log.exception("store unavailable", path=request.path)
        response = _failure(request, 503, "Storage is unavailable: try again in a moment.")
    except web.HTTPException:
        raise
    except Exception:
        log.exception("console error", path=request.path, method=request.method)
        response = _failure(request, 500, "Something went wrong on our side; it is logged.")
    if fresh_nonce is not None:
        remember_nonce(request, response, fresh_nonce)
    return response


def _failure(request: web.Request, status: int, message: str) -> web.Response:
    return render(request, "message.html", {"status": status, "message": message}, status=status)


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    suffix = name[name.rfind(".") :] if "." in name else ""
    resource = _STATIC / name
    if suffix not in _STATIC_TYPES or "/" in name or not resource.is_file():
        raise web.HTTPNotFound()
    return web.Response(
        body=resource.read_bytes(),
        content_type=_STATIC_TYPES[suffix],
        headers={"Cache-Control": "private, max-age=3600"},
    )


def build_console(console: ConsoleServices) -> web.Application:
    """The console as an aiohttp sub-application (mount it at `/console/`)."""
    app = web.Application(middlewares=[guard])
    app[SERVICES] = console
    app[TEMPLATES] = make_templates()
    app.router.add_get("/static/{name}", static)
    _auth.routes(app.router)
    _reviews.routes(app.router)
    _records.routes(app.router)
    _audit.routes(app.router)
    _admin.routes(app.router)
    return app
