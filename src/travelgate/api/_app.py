"""The internal HTTP API for the exchange's withdrawal and deposit services (aiohttp).

Authenticated with `Authorization: Bearer <key>` (keys hashed at rest); each path needs
its scope on the key (`withdrawals`, `deposits`, `customers`, `reviews`, `admin`).
`/v1/openapi.json`, `/healthz` and `/metrics` need none; `/console/` is the compliance
console (`travelgate.console`), whose people sign in with sessions of their own. Every error is JSON
`{"error": {...}}` with the right status; bodies over the limit are refused with 413
before they are read whole; a query parameter an endpoint does not take, or one given
twice, is a 400 that names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from travelgate._json import load_json
from travelgate.api._errors import BODY_LIMIT, Handler, errors
from travelgate.api._openapi import openapi_document
from travelgate.api._shed import ApiAdmission
from travelgate.errors import ApiError, JsonInputError
from travelgate.service import (
    ALERT_TYPES,
    Alerts,
    DepositService,
    HoldService,
    ReviewService,
    WalletService,
    check_api_key,
    check_person,
    decode_cursor,
    encode_cursor,
    parse_limit,
    person_violations,
    require_scope,
)
from travelgate.store import AddressTakenError, ApiKey, HoldFilter, Store
from travelgate.timestamps import format_timestamp, parse_zoned

PUBLIC = frozenset({"/v1/openapi.json", "/healthz", "/metrics"})
# Pages for people outside the exchange, with their own credentials (a link's token).
PUBLIC_PREFIXES = ("/sunrise/",)
# The console's pages sign people in with sessions of their own, never with API keys.
CONSOLE_PREFIX = "/console/"
MAX_IDEMPOTENCY_KEY = 255
MAX_CANCEL_REASON = 1000
# The scope an API key needs, by the first two segments of the path.
SCOPE_OF_PATH = {
    "/v1/withdrawals": "withdrawals",
    "/v1/deposits": "deposits",
    "/v1/customers": "customers",
    "/v1/reviews": "reviews",
    "/v1/outbox": "admin",
    "/v1/alerts": "admin",
}
_PAGING = ("limit", "cursor")
# The query parameters each endpoint takes (method, route); every other one is a 400.
QUERY_PARAMETERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/v1/withdrawals"): (
        "state",
        "customer_id",
        "counterparty",
        "created_after",
        "created_before",
        *_PAGING,
    ),
    ("GET", "/v1/withdrawals/{id}"): ("wait", "version"),
    ("GET", "/v1/deposits"): ("state", "customer_id", "counterparty", *_PAGING),
    ("GET", "/v1/customers"): _PAGING,
    ("GET", "/v1/reviews"): ("state", *_PAGING),
    ("GET", "/v1/outbox"): ("state", "withdrawal", "limit"),
    ("GET", "/v1/customers/{id}/wallets/challenge"): ("address", "network"),
    ("GET", "/v1/alerts"): ("type", *_PAGING),
}


@dataclass(frozen=True)
class ApiServices:
    db: Store
    holds: HoldService
    reviews: ReviewService
    long_poll_max: float = 60.0
    deposits: DepositService | None = None
    wallets: WalletService | None = None
    alerts: Alerts | None = None
    trp: Any = None  # the TrpService: mints Travel Addresses
    sunrise: Any = None  # the SunriseService: pages of links emailed to counterparties

    @property
    def deposit_service(self) -> DepositService:
        return self.deposits or DepositService(self.db)


SERVICES = web.AppKey("services", ApiServices)
API_KEY_ID = web.RequestKey("api_key_id", str)
API_KEY = web.RequestKey("api_key", ApiKey)


def _services(request: web.Request) -> ApiServices:
    return request.app[SERVICES]


def _console_path(path: str) -> bool:
    return path == CONSOLE_PREFIX.rstrip("/") or path.startswith(CONSOLE_PREFIX)


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC or request.path.startswith(PUBLIC_PREFIXES):
        return await handler(request)
    if _console_path(request.path):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(
            401, "unauthorized", "send Authorization: Bearer <API key>", field="Authorization"
        )
    record = await check_api_key(_services(request).db, key.strip())
    if record is None:
        raise ApiError(401, "unauthorized", "the API key is not valid", field="Authorization")
    scope = SCOPE_OF_PATH.get("/".join(request.path.split("/")[:3]))
    if scope is not None:
        require_scope(record, scope)
    request[API_KEY_ID] = record.id
    request[API_KEY] = record
    return await handler(request)


@web.middleware
async def strict_query(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a query parameter the endpoint does not take, or one given twice: a typo
    (`?stat=review`) must not silently return every withdrawal."""
    route = request.match_info.route.resource
    if request.path.startswith(PUBLIC_PREFIXES):
        # Pages opened from an email: mail systems may append tracking parameters.
        return await handler(request)
    if route is not None and request.query and not _console_path(request.path):
        allowed = QUERY_PARAMETERS.get((request.method, route.canonical), ())
        for name in dict.fromkeys(request.query):
            if name not in allowed:
                takes = f"it takes {', '.join(allowed)}" if allowed else "it takes none"
                raise ApiError(
                    400,
                    "unknown_parameter",
                    f"unknown query parameter {name!r} ({takes})",
                    field=name,
                )
            if len(request.query.getall(name)) > 1:
                raise ApiError(
                    400,
                    "repeated_parameter",
                    f"query parameter {name!r} is given more than once",
                    field=name,
                )
    return await handler(request)


def query_time(request: web.Request, name: str) -> str | None:
    """An RFC 3339 query parameter as store time text (UTC, microseconds), or None."""
    text = request.query.get(name)
    if text is None:
        return None
    moment = parse_zoned(text)
    if moment is None:
        raise ApiError(
            400,
            "bad_time",
            f"{name} must be an RFC 3339 time with a zone, e.g. 2026-01-31T12:00:00Z",
            field=name,
        )
    return format_timestamp(moment)


async def json_body(request: web.Request) -> Any:
    """The request's JSON document, read strictly (`travelgate._json.load_json`)."""
    raw = await request.read()
    if not raw.strip():
        raise ApiError(400, "malformed_json", "the request body must be a JSON document")
    _check_media_type(request)
    try:
        return load_json(raw)
    except JsonInputError as exc:
        if exc.field is not None:
            raise ApiError(422, "invalid_field", str(exc), field=exc.field) from None
        raise ApiError(
            400, "malformed_json", f"the request body is not valid JSON: {exc}"
        ) from None


def _check_media_type(request: web.Request) -> None:
    charset = request.charset
    if request.content_type != "application/json" or charset not in (None, "utf-8"):
        raise ApiError(
            415,
            "unsupported_media_type",
            "send the body as Content-Type: application/json (UTF-8)",
            field="Content-Type",
        )


def _actor(request: web.Request) -> str:
    return f"api:{request[API_KEY_ID]}"


# -- withdrawals -------------------------------------------------------------------------


async def create_withdrawal(request: web.Request) -> web.Response:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise ApiError(
            400,
            "missing_idempotency_key",
            "send an Idempotency-Key header",
            field="Idempotency-Key",
        )
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise ApiError(
            400, "bad_idempotency_key", "Idempotency-Key is too long", field="Idempotency-Key"
        )
    body = await json_body(request)
    view, status = await _services(request).holds.create(request[API_KEY_ID], key, body)
    return web.json_response(view, status=status)


async def get_withdrawal(request: web.Request) -> web.Response:
    services = _services(request)
    hold_id = request.match_info["id"]
    wait = request.query.get("wait")
    version = _version(request.query.get("version"))
    if wait is None:
        return web.json_response(await services.holds.get(hold_id))
    try:
        seconds = float(wait)
    except ValueError:
        raise ApiError(400, "bad_wait", "wait must be a number of seconds", field="wait") from None
    if not 0 <= seconds <= services.long_poll_max:
        raise ApiError(
            400, "bad_wait", f"wait must be between 0 and {services.long_poll_max:g}", field="wait"
        )
    return web.json_response(await services.holds.wait(hold_id, seconds, version))


def _version(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit():
        raise ApiError(
            400,
            "bad_version",
            "version must be a hold's version (a non-negative integer)",
            field="version",
        )
    return int(text)


async def list_withdrawals(request: web.Request) -> web.Response:
    query = request.query
    only = HoldFilter(
        state=query.get("state"),
        customer_id=query.get("customer_id"),
        counterparty=query.get("counterparty"),
        created_after=query_time(request, "created_after"),
        created_before=query_time(request, "created_before"),
    )
    page = await _services(request).holds.page(
        only, query.get("cursor"), parse_limit(query.get("limit"))
    )
    return web.json_response(page)


async def broadcast_withdrawal(request: web.Request) -> web.Response:
    body = await json_body(request)
    view = await _services(request).holds.broadcast(request.match_info["id"], body, _actor(request))
    return web.json_response(view)


async def cancel_withdrawal(request: web.Request) -> web.Response:
    reason = await _cancel_reason(request)
    holds = _services(request).holds
    if reason is None:
        view = await holds.cancel(request.match_info["id"], _actor(request))
    else:
        view = await holds.cancel(request.match_info["id"], _actor(request), reason)
    return web.json_response(view)


async def _cancel_reason(request: web.Request) -> str | None:
    """The optional `{"reason"}` of a cancel (recorded on the hold and in the audit)."""
    if not (await request.read()).strip():
        return None
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_field", 'the body must be {"reason": "..."}', field="body")
    unknown = sorted(set(body) - {"reason"})
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown field {unknown[0]}", field=unknown[0])
    reason = body.get("reason")
    if reason is None:
        return None
    if not isinstance(reason, str) or not reason.strip():
        raise ApiError(422, "invalid_field", "reason must be a non-empty string", field="reason")
    if len(reason) > MAX_CANCEL_REASON:
        raise ApiError(
            422,
            "invalid_field",
            f"reason is longer than {MAX_CANCEL_REASON} characters",
            field="reason",
        )
    return reason.strip()


# -- deposits ----------------------------------------------------------------------------


async def list_deposits(request: web.Request) -> web.Response:
    query = request.query
    page = await _services(request).deposit_service.page(
        {name: query.get(name) for name in ("state", "customer_id", "counterparty", "cursor")},
        parse_limit(query.get("limit")),
    )
    return web.json_response(page)


async def get_deposit(request: web.Request) -> web.Response:
    view = await _services(request).deposit_service.get(request.match_info["id"])
    return web.json_response(view)


# -- customers ---------------------------------------------------------------------------


def customer_view(customer: Any, ivms_profile: str) -> dict[str, Any]:
    """A customer record, with whether it can be a withdrawal's originator as it stands."""
    violations = person_violations(customer.person, "originator", ivms_profile)
    return {
        "id": customer.id,
        "person": customer.person,
        "addresses": list(customer.addresses),
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
        "originator_ready": not violations,
        "violations": violations,
    }


async def put_customer(request: web.Request) -> web.Response:
    customer_id = request.match_info["id"]
    if not customer_id.strip() or len(customer_id) > 128:
        raise ApiError(
            422, "invalid_field", "the customer id must be 1 to 128 characters", field="id"
        )
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_field", "the body must be a JSON object", field="body")
    unknown = sorted(set(body) - {"person", "addresses"})
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown field {unknown[0]}", field=unknown[0])
    person = body.get("person")
    if not isinstance(person, dict):
        raise ApiError(
            422, "missing_field", "person (an IVMS101 Person) is required", field="person"
        )
    check_person(person, "person")
    if "addresses" not in body:
        raise ApiError(
            422,
            "missing_field",
            "addresses is required (a list of deposit addresses, possibly empty)",
            field="addresses",
        )
    addresses = body["addresses"]
    if not isinstance(addresses, list) or not all(
        isinstance(a, str) and a.strip() and len(a) <= 256 for a in addresses
    ):
        raise ApiError(
            422, "invalid_field", "addresses must be a list of non-empty strings", field="addresses"
        )
    db = _services(request).db
    try:
        created = await db.write(lambda tx: tx.put_customer(customer_id, person, addresses))
    except AddressTakenError as exc:
        raise ApiError(409, "address_taken", exc.message, field="addresses") from None
    customer = await db.read(lambda tx: tx.get_customer(customer_id))
    view = customer_view(customer, _services(request).holds.ivms_profile)
    return web.json_response(view, status=201 if created else 200)


async def get_customer(request: web.Request) -> web.Response:
    customer_id = request.match_info["id"]
    customer = await _services(request).db.read(lambda tx: tx.get_customer(customer_id))
    if customer is None:
        raise ApiError(404, "not_found", f"no customer {customer_id!r}", field="id")
    return web.json_response(customer_view(customer, _services(request).holds.ivms_profile))


async def mint_travel_address(request: web.Request) -> web.Response:
    """A Travel Address for one of the customer's deposit addresses (TRP, README "TRP")."""
    trp = _services(request).trp
    if trp is None:
        raise ApiError(409, "trp_disabled", "TRP is not enabled on this node")
    raw = await request.read()
    body = await json_body(request) if raw.strip() else None
    minted = await trp.mint(request.match_info["id"], body)
    return web.json_response(minted, status=201)


async def list_customers(request: web.Request) -> web.Response:
    query = request.query
    before = decode_cursor(query.get("cursor"))
    limit = parse_limit(query.get("limit"))
    rows = await _services(request).db.read(
        lambda tx: tx.customers_page(before=before, limit=limit + 1)
    )
    shown = rows[:limit]
    return web.json_response(
        {
            "items": [
                customer_view(row.customer, _services(request).holds.ivms_profile) for row in shown
            ],
            "next_cursor": encode_cursor(shown[-1].rowid) if len(rows) > limit else None,
        }
    )


async def delete_customer(request: web.Request) -> web.Response:
    customer_id = request.match_info["id"]
    deleted = await _services(request).db.write(lambda tx: tx.delete_customer(customer_id))
    if not deleted:
        raise ApiError(404, "not_found", f"no customer {customer_id!r}", field="id")
    return web.Response(status=204)


# -- wallets and alerts ------------------------------------------------------------------


def _wallets(request: web.Request) -> WalletService:
    wallets = _services(request).wallets
    if wallets is None:
        raise ApiError(404, "not_found", "wallets are not served by this node")
    return wallets


async def _known_customer(request: web.Request) -> None:
    customer_id = request.match_info["id"]
    customer = await _services(request).db.read(lambda tx: tx.get_customer(customer_id))
    if customer is None:
        raise ApiError(404, "not_found", f"no customer {customer_id!r}", field="id")


async def wallet_challenge(request: web.Request) -> web.Response:
    names = ("address", "network")
    missing = [name for name in names if not request.query.get(name, "").strip()]
    if missing:
        raise ApiError(
            400,
            "missing_parameter",
            f"query parameter {missing[0]!r} is required",
            field=missing[0],
        )
    view = await _wallets(request).challenge(
        request.match_info["id"], request.query["address"], request.query["network"]
    )
    return web.json_response(view)


async def register_wallet(request: web.Request) -> web.Response:
    await _known_customer(request)  # an unknown customer is 404 whatever the body says
    body = await json_body(request)
    view = await _wallets(request).register(request.match_info["id"], body, request[API_KEY])
    return web.json_response(view, status=201)


async def list_wallets(request: web.Request) -> web.Response:
    return web.json_response(await _wallets(request).book(request.match_info["id"]))


async def delete_wallet(request: web.Request) -> web.Response:
    await _wallets(request).forget(
        request.match_info["id"], request.match_info["address"], _actor(request)
    )
    return web.Response(status=204)


async def list_alerts(request: web.Request) -> web.Response:
    alerts = _services(request).alerts
    if alerts is None:
        raise ApiError(404, "not_found", "alerts are not served by this node")
    kind = request.query.get("type")
    if kind is not None and kind not in ALERT_TYPES:
        raise ApiError(
            400, "bad_type", f"type must be one of {', '.join(ALERT_TYPES)}", field="type"
        )
    page = await alerts.page(
        kind, request.query.get("cursor"), parse_limit(request.query.get("limit"))
    )
    return web.json_response(page)


# -- reviews, outbox, meta ---------------------------------------------------------------


async def list_reviews(request: web.Request) -> web.Response:
    query = request.query
    page = await _services(request).reviews.page(
        query.get("state"), query.get("cursor"), parse_limit(query.get("limit"))
    )
    return web.json_response(page)


async def get_review(request: web.Request) -> web.Response:
    return web.json_response(await _services(request).reviews.get(request.match_info["id"]))


async def decide_review(request: web.Request) -> web.Response:
    body = await json_body(request)
    view = await _services(request).reviews.decide(
        request.match_info["id"], body, _actor(request), request[API_KEY_ID]
    )
    return web.json_response(view)


async def list_outbox(request: web.Request) -> web.Response:
    state = request.query.get("state")
    if state is not None and state not in ("pending", "delivered", "dead"):
        raise ApiError(400, "bad_state", "state must be pending, delivered or dead", field="state")
    limit = parse_limit(request.query.get("limit"))
    items = await _services(request).db.read(
        lambda tx: tx.outbox_items(
            state=state, hold_id=request.query.get("withdrawal"), limit=limit
        )
    )
    return web.json_response(
        {
            "items": [
                {
                    "id": item.id,
                    "kind": item.kind,
                    "target": item.target,
                    "withdrawal_id": item.hold_id,
                    "envelope_id": item.envelope_id,
                    "transfer_state": item.transfer_state,
                    "event_id": item.event_id,
                    "state": item.state,
                    "attempts": item.attempts,
                    "next_attempt_at": item.next_attempt_at,
                    "last_error": item.last_error,
                    "created_at": item.created_at,
                }
                for item in items
            ],
            "next_cursor": None,
        }
    )


async def openapi(request: web.Request) -> web.Response:
    services = _services(request)
    return web.json_response(
        openapi_document(long_poll_max=services.long_poll_max, assets=services.holds.assets)
    )


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from travelgate.metrics import set_gauges

    set_gauges(await _services(request).db.read(lambda tx: tx.gauges()))
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def console_home(request: web.Request) -> web.Response:
    return web.Response(status=308, headers={"Location": CONSOLE_PREFIX})


def build_app(
    services: ApiServices,
    *,
    body_limit: int,
    admission: ApiAdmission | None = None,
    console: web.Application | None = None,
) -> web.Application:
    admission = admission or ApiAdmission(max_inflight=4, max_long_polls=1024)
    app = web.Application(
        middlewares=[admission.middleware, errors, authenticate, strict_query],
        client_max_size=body_limit,
    )
    app[SERVICES] = services
    app[BODY_LIMIT] = body_limit
    app.router.add_post("/v1/withdrawals", create_withdrawal)
    app.router.add_get("/v1/withdrawals", list_withdrawals)
    app.router.add_get("/v1/withdrawals/{id}", get_withdrawal)
    app.router.add_post("/v1/withdrawals/{id}/broadcast", broadcast_withdrawal)
    app.router.add_post("/v1/withdrawals/{id}/cancel", cancel_withdrawal)
    app.router.add_get("/v1/deposits", list_deposits)
    app.router.add_get("/v1/deposits/{id}", get_deposit)
    app.router.add_get("/v1/customers", list_customers)
    app.router.add_put("/v1/customers/{id}", put_customer)
    app.router.add_get("/v1/customers/{id}", get_customer)
    app.router.add_delete("/v1/customers/{id}", delete_customer)
    app.router.add_get("/v1/customers/{id}/wallets/challenge", wallet_challenge)
    app.router.add_get("/v1/customers/{id}/wallets", list_wallets)
    app.router.add_post("/v1/customers/{id}/wallets", register_wallet)
    # "challenge" names the GET beside it, never an address to delete.
    app.router.add_delete(
        r"/v1/customers/{id}/wallets/{address:(?!challenge$)[^{}/]+}", delete_wallet
    )
    app.router.add_get("/v1/alerts", list_alerts)
    app.router.add_post("/v1/customers/{id}/travel-addresses", mint_travel_address)
    app.router.add_get("/v1/reviews", list_reviews)
    app.router.add_get("/v1/reviews/{id}", get_review)
    app.router.add_post("/v1/reviews/{id}/decision", decide_review)
    app.router.add_get("/v1/outbox", list_outbox)
    app.router.add_get("/v1/openapi.json", openapi)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    if services.sunrise is not None:
        from travelgate.sunrise import add_routes

        add_routes(app, services.sunrise)
    if console is not None:
        app.router.add_get("/console", console_home)
        app.add_subapp(CONSOLE_PREFIX, console)
    return app
