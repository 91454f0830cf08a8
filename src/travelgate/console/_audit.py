"""The audit trail page: records newest first, filtered, and whether the chain holds.

The verification is the one `travelgate audit verify` runs (every hash, every signature,
the order), done on each visit; a broken chain names its first failing record.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from travelgate.audit._trail import check_stored_chain, parse_moment
from travelgate.console._context import render, services
from travelgate.errors import ApiError
from travelgate.service import decode_cursor, encode_cursor, parse_limit
from travelgate.store import Tx

FILTERS = ("actor", "action", "subject", "from", "to")


def _text(request: web.Request, name: str) -> str | None:
    value = request.query.get(name, "").strip()
    return value[:200] or None


def _moment(request: web.Request, name: str) -> str | None:
    text = _text(request, name)
    if text is None:
        return None
    try:
        return parse_moment(text, f"'{name}'")
    except ValueError as exc:
        raise ApiError(400, "bad_time", str(exc), field=name) from None


async def trail(request: web.Request) -> web.Response:
    before = decode_cursor(_text(request, "cursor"))
    limit = parse_limit(_text(request, "limit"))
    since, until = _moment(request, "from"), _moment(request, "to")

    def read(tx: Tx) -> dict[str, Any]:
        records = tx.audit_page(
            before=before,
            limit=limit + 1,
            actor=_text(request, "actor"),
            action=_text(request, "action"),
            subject=_text(request, "subject"),
            since=since,
            until=until,
        )
        shown = records[:limit]
        rows = []
        for record in shown:
            notes = tx.audit_notes(record.detail)
            detail = {
                key: notes.get(value, value) if isinstance(value, str) else value
                for key, value in record.detail.items()
            }
            rows.append({"record": record, "detail": json.dumps(detail, sort_keys=True)})
        return {
            "rows": rows,
            "next_cursor": encode_cursor(shown[-1].seq) if len(records) > limit else None,
            "report": check_stored_chain(tx),
        }

    found = await services(request).db.read(read)
    filters = {name: request.query[name] for name in FILTERS if request.query.get(name)}
    return render(request, "audit.html", {**found, "filters": filters})


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/audit", trail)
