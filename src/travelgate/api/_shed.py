"""ApiAdmission control for the internal API: excess work is refused at once, never queued.

A node past its capacity (more calls than the database can write) would otherwise queue
them all, and every caller, admitted or not, would wait longer and longer. Here a request
either gets one of `max_inflight` places or is answered 503 with `Retry-After` straight
away; long polls (`?wait=`) spend most of their life asleep, so they have places of their
own (`max_long_polls`) and never crowd out work. Health and metrics are always answered.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from travelgate import metrics
from travelgate.api._errors import Handler, error_response

UNMETERED = frozenset({"/healthz", "/metrics"})
RETRY_AFTER_SECONDS = 1


@dataclass
class _Places:
    limit: int
    taken: int = 0


class ApiAdmission:
    """Counts requests in flight; one instance per application."""

    def __init__(self, *, max_inflight: int, max_long_polls: int) -> None:
        self._work = _Places(max_inflight)
        self._polls = _Places(max_long_polls)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in UNMETERED:
            return await handler(request)
        places = self._polls if "wait" in request.query else self._work
        if places.taken >= places.limit:
            metrics.API_SHED.labels(kind="long_poll" if places is self._polls else "work").inc()
            response = error_response(
                503, "overloaded", "the node is at capacity; retry after a moment"
            )
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        places.taken += 1
        try:
            return await handler(request)
        finally:
            places.taken -= 1
