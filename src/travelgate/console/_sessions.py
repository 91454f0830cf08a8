"""Console sessions: a random token in a cookie, its keyed digest in the database.

The cookie is HttpOnly, SameSite=Strict and Secure (`[console] secure_cookies`, on by
default: browsers keep Secure cookies on plain-HTTP loopback too, so `make run` works), and
named with the `__Host-` prefix when Secure, which pins it to this host and path `/`.
A session ends at sign-out, after `[console] idle_timeout` without a request, after
`[console] session_lifetime` in all, and at once when its person is disabled or reset.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web

from travelgate.config import ConsoleSection
from travelgate.store import Store, Tx, User, now_text

# Noting every request as the session's last would make each page a write: once every
# half minute is precise enough for an idle timeout counted in minutes.
_TOUCH_EVERY = timedelta(seconds=30)
TOKEN_BYTES = 32
_KEEP_ENDED = timedelta(days=1)


def cookie_name(settings: ConsoleSection) -> str:
    return "__Host-travelgate_console" if settings.secure_cookies else "travelgate_console"


def sign_in_cookie_name(settings: ConsoleSection) -> str:
    """The cookie that ties the sign-in form to its browser (sign-in CSRF)."""
    return "__Host-travelgate_sign_in" if settings.secure_cookies else "travelgate_sign_in"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def set_cookie(
    response: web.StreamResponse,
    settings: ConsoleSection,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="Strict",
        max_age=max_age,
    )


def clear_cookie(response: web.StreamResponse, settings: ConsoleSection, name: str) -> None:
    response.del_cookie(
        name, path="/", secure=settings.secure_cookies, httponly=True, samesite="Strict"
    )


async def start_session(db: Store, user: User, settings: ConsoleSection) -> str:
    """A new session for a person who just signed in; returns the cookie's token."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = datetime.now(UTC)
    expires = _stamp(now + settings.session_lifetime)

    def insert(tx: Tx) -> None:
        tx.insert_console_session(token, user_id=user.id, stamp=_stamp(now), expires_at=expires)
        # Sign-ins sweep away sessions over for a day: the table stays small.
        tx.purge_console_sessions(_stamp(now - _KEEP_ENDED))

    await db.write(insert)
    return token


@dataclass(frozen=True)
class Found:
    """A live session's person and CSRF token, or why the cookie did not sign anyone in."""

    user: User | None
    csrf: str = ""
    ended: str | None = None  # "expired" | "disabled" | None


async def find_session(db: Store, token: str, settings: ConsoleSection) -> Found:
    """The person a cookie's token signs in, if the session is live; a session that has
    just run out (idle, absolute, or its person disabled) is ended on the way."""
    if not token or len(token) > 100 or not token.isascii():
        return Found(None)
    now = datetime.now(UTC)
    stamp = _stamp(now)
    idle_since = _stamp(now - settings.idle_timeout)

    def read(tx: Tx) -> tuple[Found, bool, bool]:
        session = tx.console_session(token)
        if session is None or session.ended_at is not None:
            return Found(None), False, False
        user = tx.user(session.user_id)
        if user is None or user.disabled_at is not None:
            return Found(None, ended="disabled"), True, False
        if session.expires_at <= stamp or session.last_seen_at <= idle_since:
            return Found(None, ended="expired"), True, False
        csrf = tx.sealer.digest(b"console csrf\x00" + token.encode("ascii"))
        touch_every = min(_TOUCH_EVERY, settings.idle_timeout / 4)
        touch = session.last_seen_at <= _stamp(now - touch_every)
        return Found(user, csrf), False, touch

    found, end, touch = await db.read(read)
    if end:
        await db.write(lambda tx: tx.end_console_session(token, stamp))
    elif touch:
        await db.write(lambda tx: tx.touch_console_session(token, stamp))
    return found


async def end_session(db: Store, token: str) -> bool:
    stamp = now_text()
    return await db.write(lambda tx: tx.end_console_session(token, stamp))
