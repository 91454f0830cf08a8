"""Dashboard, withdrawals, deposits and their detail pages, cancels, records exports.

Lists take the internal API's filters and cursors and are read through the same services
(`HoldService.page`, `DepositService.page`). A detail page shows every envelope in and out;
the identities it exchanged are decrypted only when asked for, and each such view is an
audit record (who saw which record).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from travelgate.audit._trail import parse_moment
from travelgate.console._auth import audit, require
from travelgate.console._context import back_to, render, required_reason, services, viewer
from travelgate.console._identity import Party, parties_of_payload, readable_person
from travelgate.errors import ApiError, Code
from travelgate.service import DEPOSIT_STATES, hold_view, parse_limit
from travelgate.service._exports import Selection, export_records
from travelgate.store import Conversation, Hold, HoldFilter, StoredEnvelope, Tx
from travelgate.transfers import HoldState

HOLD_STATES = tuple(state.value for state in HoldState)
_CASE = re.compile(r"[\w./:#-]{1,200}")


def _query(request: web.Request, name: str) -> str | None:
    value = request.query.get(name, "").strip()
    return value or None


def _moment(request: web.Request, name: str, label: str) -> str | None:
    text = _query(request, name)
    if text is None:
        return None
    try:
        return parse_moment(text, label)
    except ValueError as exc:
        raise ApiError(400, "bad_time", str(exc), field=name) from None


# -- dashboard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateDue:
    owner: str
    not_after: str
    days_left: int


async def dashboard(request: web.Request) -> web.Response:
    console = services(request)
    peers = sorted(p.name for p in console.directory if p.name != console.node_name)

    def read(tx: Tx) -> tuple[Any, Any, Any]:
        oldest = tx.oldest_open_review_id()
        review = None if oldest is None else tx.review(oldest)
        return tx.gauges(), review, tx.peer_activity(peers)

    gauges, oldest_review, activity = await console.db.read(read)
    now = datetime.now(UTC)
    certificates = sorted(
        (
            CertificateDue(
                owner,
                cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                (cert.not_valid_after_utc - now).days,
            )
            for owner, cert in console.certificates()
            if owner != f"peer:{console.node_name}"  # our own entry in a shared peers file
        ),
        key=lambda due: due.not_after,
    )
    return render(
        request,
        "dashboard.html",
        {
            "holds": [(state, gauges.holds.get(state, 0)) for state in HOLD_STATES],
            "open_reviews": gauges.open_reviews,
            "oldest_review": oldest_review,
            "dead_letters": sorted(gauges.outbox_dead.items()),
            "pending": sum(gauges.outbox_pending.values()),
            "certificates": certificates,
            "failing": [peer for peer in activity if peer.failed_envelopes or peer.dead_letters],
        },
    )


# -- withdrawals -------------------------------------------------------------------------


async def withdrawals(request: web.Request) -> web.Response:
    only = HoldFilter(
        state=_query(request, "state"),
        customer_id=_query(request, "customer_id"),
        counterparty=_query(request, "counterparty"),
        created_after=_moment(request, "created_after", "created after"),
        created_before=_moment(request, "created_before", "created before"),
    )
    page = await services(request).holds.page(
        only, _query(request, "cursor"), parse_limit(_query(request, "limit"))
    )
    return render(
        request,
        "withdrawals.html",
        {"page": page, "states": HOLD_STATES, "filters": _filters(request)},
    )


def _filters(request: web.Request) -> dict[str, str]:
    return {name: value for name, value in request.query.items() if name != "cursor" and value}


@dataclass(frozen=True)
class TimelineEntry:
    at: str
    direction: str  # in | out
    peer: str
    transfer_state: str
    code: str | None
    envelope_id: str


def _timeline(tx: Tx, conversations: list[Conversation]) -> list[TimelineEntry]:
    entries = []
    for conversation in conversations:
        stored: StoredEnvelope
        for stored in tx.envelopes_of(conversation.id):
            entries.append(
                TimelineEntry(
                    at=stored.created_at,
                    direction=stored.direction,
                    peer=stored.peer,
                    transfer_state=stored.transfer_state,
                    code=None if stored.error_code is None else _code_name(stored.error_code),
                    envelope_id=stored.envelope_id,
                )
            )
    return sorted(entries, key=lambda entry: entry.at)


def _code_name(code: int) -> str:
    return Code.Name(code) if code in Code.values() else str(code)  # type: ignore[arg-type]


def _hold_parties(tx: Tx, hold: Hold, conversations: list[Conversation]) -> list[Party]:
    for conversation in reversed(conversations):
        parties = parties_of_payload(conversation.payload)
        if parties:
            return parties
    # No exchange yet: what we hold of our customer, and what the request names.
    originator = []
    if hold.customer_id is not None:
        customer = tx.get_customer(hold.customer_id)
        if customer is not None:
            originator = [readable_person(customer.person)]
    beneficiary = []
    if hold.beneficiary_identity:
        beneficiary = [readable_person(hold.beneficiary_identity)]
    named = hold.request.get("beneficiary")
    accounts = [hold.destination]
    if not beneficiary and isinstance(named, Mapping) and named.get("name"):
        accounts.append(f"named in the request: {named['name']}")
    return [
        Party("Originator (our customer)", originator, [hold.customer_id or ""]),
        Party("Beneficiary", beneficiary, accounts),
    ]


async def withdrawal(request: web.Request) -> web.Response:
    hold_id = request.match_info["id"]
    show = request.query.get("show") == "identities"
    console = services(request)

    def read(tx: Tx) -> dict[str, Any]:
        hold = tx.hold(hold_id)
        if hold is None:
            raise ApiError(404, "not_found", f"No withdrawal {hold_id!r}.")
        conversations = [
            found
            for found in map(tx.conversation_by_id, tx.conversation_ids_of_hold(hold_id))
            if found is not None
        ]
        return {
            "hold": hold,
            "timeline": _timeline(tx, conversations),
            "history": tx.audit_of(f"hold:{hold_id}"),
            "reviews": tx.reviews_of((hold_id,)),
            "parties": _hold_parties(tx, hold, conversations) if show else None,
        }

    found = await console.db.read(read)
    if show:
        await _identity_viewed(request, f"hold:{hold_id}")
    return render(
        request,
        "withdrawal.html",
        {**found, "view": hold_view(found["hold"]), "show": show},
    )


async def _identity_viewed(request: web.Request, subject: str) -> None:
    person = viewer(request)
    await audit(services(request).db, person.actor, "identity.viewed", subject, via="console")


async def cancel_withdrawal(request: web.Request) -> web.Response:
    hold_id = request.match_info["id"]
    person = await require(request, "compliance", "cancel a withdrawal", f"hold:{hold_id}")
    reason = required_reason(await request.post())
    await services(request).holds.cancel(hold_id, person.actor, reason)
    return back_to(f"withdrawals/{hold_id}", "canceled")


# -- deposits ----------------------------------------------------------------------------


async def deposits(request: web.Request) -> web.Response:
    query = {
        name: _query(request, name) for name in ("state", "customer_id", "counterparty", "cursor")
    }
    page = await services(request).deposits.page(query, parse_limit(_query(request, "limit")))
    return render(
        request,
        "deposits.html",
        {"page": page, "states": DEPOSIT_STATES, "filters": _filters(request)},
    )


async def deposit(request: web.Request) -> web.Response:
    deposit_id = request.match_info["id"]
    show = request.query.get("show") == "identities"
    console = services(request)
    view = await console.deposits.get(deposit_id)

    def read(tx: Tx) -> dict[str, Any]:
        conversation = tx.conversation_by_public_id(deposit_id)
        assert conversation is not None
        return {
            "timeline": _timeline(tx, [conversation]),
            "history": tx.audit_of(f"deposit:{deposit_id}"),
            "reviews": tx.reviews_of((deposit_id, str(conversation.id))),
            "parties": parties_of_payload(conversation.payload) if show else None,
        }

    found = await console.db.read(read)
    if show:
        await _identity_viewed(request, f"deposit:{deposit_id}")
    return render(request, "deposit.html", {**found, "view": view, "show": show})


# -- records exports ---------------------------------------------------------------------


def _lines(form: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = form.get(name, "")
    if not isinstance(value, str):
        return ()
    return tuple(dict.fromkeys(part.strip() for part in re.split(r"[\s,]+", value) if part))


async def exports_page(request: web.Request) -> web.Response:
    await require(request, "compliance", "export records", "records")
    return render(request, "exports.html", {"form": {}, "problem": None})


async def export(request: web.Request) -> web.StreamResponse:
    person = await require(request, "compliance", "export records", "records")
    form = await request.post()
    case = str(form.get("case", "")).strip()
    selection_fields = {
        name: _lines(form, name) for name in ("customers", "addresses", "holds", "deposits")
    }
    problem = None
    since = until = None
    try:
        since = _form_moment(form, "from")
        until = _form_moment(form, "to")
    except ValueError as exc:
        problem = str(exc)
    if problem is None and not _CASE.fullmatch(case):
        problem = "Give the request's case reference (letters, digits and . / : # - _)."
    elif problem is None and not any(selection_fields.values()):
        problem = "Select something: customers, addresses, withdrawals or deposits."
    elif problem is None and since is not None and until is not None and since >= until:
        problem = "'From' must be before 'to'."
    if problem is not None:
        shown = {key: value for key, value in form.items() if key != "csrf_token"}
        return render(request, "exports.html", {"form": shown, "problem": problem}, status=422)
    console = services(request)
    result = await export_records(
        console.db,
        Selection(**selection_fields, since=since, until=until),
        case=case,
        exported_by={"actor": person.actor, "role": person.user.role, "via": "console"},
        node=console.node_name,
        keyring=console.keyring,
    )
    filename = re.sub(r"[^\w.-]", "_", case) + ".zip"
    return web.Response(
        body=result.bundle,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _form_moment(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name, "")
    if not isinstance(value, str) or not value.strip():
        return None
    return parse_moment(value, f"'{name}'")


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", dashboard)
    router.add_get("/withdrawals", withdrawals)
    router.add_get("/withdrawals/{id}", withdrawal)
    router.add_post("/withdrawals/{id}/cancel", cancel_withdrawal)
    router.add_get("/deposits", deposits)
    router.add_get("/deposits/{id}", deposit)
    router.add_get("/exports", exports_page)
    router.add_post("/exports", export)
