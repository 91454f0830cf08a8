"""`[node] database` as a PostgreSQL URL: checked at config time (without loading the
driver), never shown with its password.

postgresql://user[:password]@host[:port]/dbname[?sslmode=...]
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

SCHEME = "postgresql"
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def is_url(text: str) -> bool:
    """Whether a `[node] database` value is meant as a URL rather than a file path."""
    return "://" in text


def redacted(url: str) -> str:
    """The URL as it may be shown: the password, if any, replaced by ***."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()
    except ValueError:
        return f"{url.split('://', 1)[0]}://***"


def check_url(url: str) -> str:
    """The URL when it is a usable PostgreSQL URL; else ValueError saying what is wrong
    (the message shows the URL without its password)."""
    shown = redacted(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{shown} is not a valid URL: {exc}") from None
    if parts.scheme != SCHEME:
        raise ValueError(
            f"{shown}: a database URL must start with {SCHEME}:// (or give a file path for SQLite)"
        )
    if not parts.username:
        raise ValueError(f"{shown} names no user ({SCHEME}://user[:password]@host/dbname)")
    if not parts.hostname:
        raise ValueError(f"{shown} names no host ({SCHEME}://user[:password]@host/dbname)")
    if port == 0:
        raise ValueError(f"{shown}: the port must be from 1 to 65535")
    dbname = unquote(parts.path.removeprefix("/"))
    if not dbname or "/" in dbname:
        raise ValueError(f"{shown} names no database ({SCHEME}://user@host[:port]/dbname)")
    if parts.fragment:
        raise ValueError(f"{shown}: a database URL has no #fragment")
    try:
        options = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ValueError(f"{shown}: the query is not name=value pairs") from None
    for name, value in options:
        if name != "sslmode":
            raise ValueError(f"{shown}: unknown option {name!r} (only sslmode is read)")
        if value not in SSL_MODES:
            raise ValueError(f"{shown}: sslmode must be one of {', '.join(SSL_MODES)}")
    return url
