"""CSRF tokens: every console form carries one, every POST must send it back.

A signed-in person's token is a keyed digest of their session's token, so it needs no
storage and dies with the session. The sign-in form has no session yet: its token is a
keyed digest of a random nonce in a cookie of its own (HttpOnly, SameSite=Strict), so a
form posted from another site, or a stale one, is refused.
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web

from travelgate.console._context import SIGN_IN_CSRF, VIEWER, services
from travelgate.console._sessions import set_cookie, sign_in_cookie_name
from travelgate.store import Store

FIELD = "csrf_token"
_NONCE_BYTES = 24


async def _sign_in_token(db: Store, nonce: str) -> str:
    return await db.read(lambda tx: tx.sealer.digest(b"console sign-in\x00" + nonce.encode()))


async def prepare_sign_in(request: web.Request) -> str | None:
    """Give the sign-in page its token; the new nonce to set as a cookie, if one was made
    (a POST with a new nonce cannot hold: its form never saw that token)."""
    settings = services(request).settings
    nonce = request.cookies.get(sign_in_cookie_name(settings), "")
    fresh = None
    if not nonce or len(nonce) > 100:
        fresh = nonce = secrets.token_urlsafe(_NONCE_BYTES)
    request[SIGN_IN_CSRF] = await _sign_in_token(services(request).db, nonce)
    return fresh


def remember_nonce(request: web.Request, response: web.StreamResponse, nonce: str) -> None:
    settings = services(request).settings
    set_cookie(response, settings, sign_in_cookie_name(settings), nonce, max_age=3600)


async def form_holds(request: web.Request) -> bool:
    """True when the POSTed form sends back the token its page was given."""
    form = await request.post()
    sent = form.get(FIELD)
    expected = request[VIEWER].csrf if VIEWER in request else request.get(SIGN_IN_CSRF, "")
    if not isinstance(sent, str) or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())
