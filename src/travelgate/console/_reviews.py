"""The review queue, and deciding a review: the same `ReviewService.decide` as the API.

The console's person is the principal of the four-eyes rule (`user:<id>`): nobody decides
the review of a withdrawal they created. A refusal, for the rule or for want of a role, is
shown with what it needs and recorded in the audit trail.
"""

from __future__ import annotations

from aiohttp import web

from travelgate.console._auth import audit, require
from travelgate.console._context import back_to, render, required_reason, services
from travelgate.errors import ApiError, RequestError
from travelgate.service import parse_limit

REVIEW_STATES = ("open", "accepted", "rejected", "closed")


async def queue(request: web.Request) -> web.Response:
    state = request.query.get("state", "open").strip() or None
    cursor = request.query.get("cursor", "").strip() or None
    page = await services(request).reviews.page(
        state, cursor, parse_limit(request.query.get("limit") or None)
    )
    return render(
        request,
        "reviews.html",
        {"page": page, "state": state or "", "states": REVIEW_STATES},
    )


async def decide(request: web.Request) -> web.Response:
    review_id = request.match_info["id"]
    subject = f"review:{review_id}"
    person = await require(request, "compliance", "decide a review", subject)
    form = await request.post()
    decision = form.get("decision")
    if decision not in ("accept", "reject"):
        raise ApiError(422, "invalid_value", "Choose accept or reject.")
    reason = required_reason(form)
    try:
        decided = await services(request).reviews.decide(
            review_id,
            {"decision": decision, "reason": reason},
            person.actor,
            person.actor,
        )
    except (ApiError, RequestError) as exc:
        if exc.code != "four_eyes":
            raise
        await audit(
            services(request).db,
            person.actor,
            "console.refused",
            subject,
            why="four_eyes",
            attempted=decision,
        )
        raise ApiError(
            409,
            "four_eyes",
            "Four eyes: you created this withdrawal, so another person must decide its review.",
        ) from None
    notice = "accepted" if decided["state"] == "accepted" else "rejected"
    if decided["kind"] == "withdrawal":
        return back_to(f"withdrawals/{decided['subject_id']}", notice)
    return back_to("reviews", notice)


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/reviews", queue)
    router.add_post("/reviews/{id}/decision", decide)
