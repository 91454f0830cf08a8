"""What every console handler shares: the services, the signed-in person, rendering.

Pages are Jinja2 templates with autoescaping on; every response carries the console's
security headers (set by `_app`), and every page that names a person is `no-store`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jinja2
from aiohttp import web
from cryptography import x509

from travelgate import envelope as env
from travelgate.config import ConsoleSection
from travelgate.errors import ApiError
from travelgate.service import DepositService, HoldService, ReviewService
from travelgate.store import Store, User, now_text
from travelgate.trisa import Directory

MAX_REASON = 1000
# Roles in order of what they may do: each may do all the one before it may.
ROLE_RANK = {"observer": 0, "compliance": 1, "admin": 2}
# Messages shown after a form succeeded (a key in the query, never free text).
NOTICES = {
    "accepted": "Review accepted and acted on.",
    "rejected": "Review rejected and acted on.",
    "canceled": "Withdrawal canceled.",
    "signed_out": "You are signed out.",
    "expired": "Your session ended; sign in again.",
    "disabled": "Person disabled: their sessions ended at once.",
    "enabled": "Person enabled.",
    "revoked": "API key revoked: it is refused from the next request on.",
    "password": "Password changed.",
    "blocked": "Counterparty blocked: nothing goes to it and nothing from it is accepted.",
    "unblocked": "Counterparty unblocked.",
}


@dataclass(frozen=True)
class ConsoleServices:
    """The same services the internal API uses, plus what only pages show."""

    db: Store
    holds: HoldService
    reviews: ReviewService
    deposits: DepositService
    settings: ConsoleSection
    node_name: str
    directory: Directory
    keyring: env.KeyRing | None = None
    certificates: Callable[[], list[tuple[str, x509.Certificate]]] = list


@dataclass(frozen=True)
class Viewer:
    """The signed-in person of a request, with the session's token and CSRF token."""

    user: User
    token: str
    csrf: str

    @property
    def actor(self) -> str:
        """How the audit trail and the four-eyes rule name this person."""
        return f"user:{self.user.id}"

    def may(self, role: str) -> bool:
        return ROLE_RANK.get(self.user.role, -1) >= ROLE_RANK[role]


SERVICES = web.AppKey("console_services", ConsoleServices)
TEMPLATES = web.AppKey("console_templates", jinja2.Environment)
VIEWER = web.RequestKey("console_viewer", Viewer)
SIGN_IN_CSRF = web.RequestKey("console_sign_in_csrf", str)


def services(request: web.Request) -> ConsoleServices:
    return request.app[SERVICES]


def viewer(request: web.Request) -> Viewer:
    return request[VIEWER]


def show_time(stamp: object) -> str:
    """A store timestamp as people read it: `2026-01-31 12:00:05 UTC`."""
    if not isinstance(stamp, str) or not stamp:
        return "—"
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def age(stamp: object) -> str:
    """How long ago, roughly: `3 h 5 min`."""
    if not isinstance(stamp, str) or not stamp:
        return "—"
    try:
        then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    seconds = max(0, int((datetime.now(UTC) - then).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def make_templates() -> jinja2.Environment:
    templates = jinja2.Environment(
        loader=jinja2.PackageLoader("travelgate.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters["when"] = show_time
    templates.filters["age"] = age
    return templates


def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    page_viewer = request.get(VIEWER)
    values: dict[str, Any] = {
        "viewer": page_viewer,
        "csrf": page_viewer.csrf if page_viewer else request.get(SIGN_IN_CSRF, ""),
        "node_name": services(request).node_name,
        "notice": NOTICES.get(request.query.get("notice", "")),
        "path": request.path,
        "now": now_text(),
    }
    values.update(context or {})
    body = request.app[TEMPLATES].get_template(template).render(values)
    return web.Response(text=body, content_type="text/html", charset="utf-8", status=status)


def redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def back_to(path: str, notice: str | None = None) -> web.Response:
    """Post/redirect/get: a form that worked sends the browser to a page to read."""
    target = f"/console/{path.lstrip('/')}"
    if notice is not None:
        target += f"{'&' if '?' in target else '?'}notice={notice}"
    return redirect(target)


def required_reason(form: Mapping[str, Any]) -> str:
    """The reason a decision or cancel needs (kept, sealed, in the audit trail)."""
    reason = form.get("reason", "")
    if not isinstance(reason, str) or not reason.strip():
        raise ApiError(422, "missing_field", "Give a reason: it is kept in the audit trail.")
    if len(reason) > MAX_REASON:
        raise ApiError(422, "invalid_field", f"The reason is over {MAX_REASON} characters.")
    return reason.strip()
