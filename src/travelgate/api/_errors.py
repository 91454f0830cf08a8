"""Every failure of the internal API as `{"error": {"code", "message", "field"}}`.

No request can make the server answer with a traceback: unexpected exceptions are logged
and answered 500 with a generic message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from travelgate.errors import (
    ApiError,
    BadParameterError,
    ConflictError,
    IllegalTransitionError,
    InvalidRequestError,
    NotFoundError,
    NotPermittedError,
    RequestError,
    StoreError,
)

log = structlog.get_logger("travelgate.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
BODY_LIMIT = web.AppKey("body_limit", int)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid",
}


# The one place a refusal of the application services becomes an HTTP status.
_REQUEST_STATUS: tuple[tuple[type[RequestError], int], ...] = (
    (BadParameterError, 400),
    (NotPermittedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidRequestError, 422),
)


def request_status(error: RequestError) -> int:
    """The HTTP status of a refusal of the services (422 for any other kind)."""
    for kind, status in _REQUEST_STATUS:
        if isinstance(error, kind):
            return status
    return 422


def error_response(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message, "field": field}}, status=status
    )


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.field)
    except RequestError as exc:
        return error_response(request_status(exc), exc.code, exc.message, exc.field)
    except IllegalTransitionError as exc:
        return error_response(409, "illegal_state", str(exc))
    except web.HTTPMethodNotAllowed as exc:
        # RFC 9110 15.5.6: a 405 names the methods the resource does take.
        allowed = ", ".join(sorted(exc.allowed_methods))
        response = error_response(
            405, "method_not_allowed", f"{request.method} is not allowed here; use {allowed}"
        )
        response.headers["Allow"] = allowed
        return response
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[BODY_LIMIT]
        return error_response(
            413, "body_too_large", f"the request body is over the {limit}-byte limit"
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        return error_response(exc.status, code, exc.reason or code.replace("_", " "))
    except StoreError:
        log.exception("store unavailable", path=request.path)
        return error_response(503, "unavailable", "storage is unavailable; retry later")
    except Exception:
        log.exception("internal error", path=request.path, method=request.method)
        return error_response(500, "internal_error", "internal error")
