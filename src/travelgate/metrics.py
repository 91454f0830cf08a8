"""Prometheus metrics of the gateway, served by the internal API at /metrics.

Counters only carry peers, states and codes: never personal data. The gauges are read from
the database at each scrape, so they are right for every process sharing it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram

from travelgate.store import Gauges
from travelgate.timestamps import parse_stored

ENVELOPES = Counter(
    "travelgate_envelopes_total",
    "TRISA envelopes handled",
    ["direction", "state", "code"],
)
EXCHANGE_SECONDS = Histogram(
    "travelgate_exchange_seconds",
    "Time to answer an inbound envelope or to get the reply to an outbound one",
    ["direction"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
HOLD_STATES = Counter(
    "travelgate_hold_transitions_total", "Withdrawal hold state changes", ["state"]
)
OUTBOX = Counter("travelgate_outbox_total", "Outbox delivery attempts", ["kind", "result"])
API_SHED = Counter(
    "travelgate_api_shed_total", "API requests refused with 503 at capacity", ["kind"]
)


def envelope(direction: str, state: str, code: str | None, seconds: float) -> None:
    ENVELOPES.labels(direction, state, code or "").inc()
    EXCHANGE_SECONDS.labels(direction).observe(seconds)


HOLDS = Gauge("travelgate_holds", "Withdrawal holds by state", ["state"])
OPEN_REVIEWS = Gauge("travelgate_reviews_open", "Review items waiting for a person")
OLDEST_REVIEW_SECONDS = Gauge(
    "travelgate_reviews_oldest_age_seconds", "Age of the oldest open review item (0: none)"
)
OUTBOX_DEPTH = Gauge(
    "travelgate_outbox_pending", "Outbox messages waiting for delivery, per target", ["target"]
)
OUTBOX_DEAD = Gauge(
    "travelgate_outbox_dead", "Outbox messages that could not be delivered, per target", ["target"]
)
HOLD_STATE_NAMES = (
    "held",
    "awaiting_reply",
    "cleared",
    "released",
    "review",
    "rejected",
    "expired",
    "canceled",
)


def set_gauges(snapshot: Gauges, now: datetime | None = None) -> None:
    """Set the gauges from a database snapshot (targets that emptied drop out)."""
    for state in {*HOLD_STATE_NAMES, *snapshot.holds}:
        HOLDS.labels(state).set(snapshot.holds.get(state, 0))
    OPEN_REVIEWS.set(snapshot.open_reviews)
    age = 0.0
    if snapshot.oldest_review_at is not None:
        oldest = parse_stored(snapshot.oldest_review_at)
        age = max(0.0, ((now or datetime.now(UTC)) - oldest).total_seconds())
    OLDEST_REVIEW_SECONDS.set(age)
    outbox = ((OUTBOX_DEPTH, snapshot.outbox_pending), (OUTBOX_DEAD, snapshot.outbox_dead))
    for gauge, counts in outbox:
        gauge.clear()
        for target, count in counts.items():
            gauge.labels(target).set(count)


PEER_KEY_ALERTS = Counter(
    "travelgate_peer_key_alerts_total",
    "Security alerts: a known peer name presented a TLS key other than the one we know",
    ["peer", "pinned"],
)
TRISA_REFUSED = Counter(
    "travelgate_trisa_refused_total",
    "TRISA calls refused or ended by admission control, by reason",
    ["reason"],
)
FAILED_ENVELOPES = Counter(
    "travelgate_failed_envelopes_total",
    "Inbound envelopes that could not be opened (kept as metadata only)",
    ["code"],
)


def peer_key_alert(peer: str, *, pinned: bool) -> None:
    PEER_KEY_ALERTS.labels(peer, "true" if pinned else "false").inc()


def trisa_refused(reason: str) -> None:
    TRISA_REFUSED.labels(reason).inc()


ALERTS = Counter(
    "travelgate_alerts_total", "Security alerts raised (once per occurrence), by type", ["type"]
)


DIRECTORY_LOOKUPS = Counter(
    "travelgate_directory_lookups_total",
    "TRISA directory (GDS) Lookup calls, by outcome: found, not_found, unusable, unavailable",
    ["outcome"],
)


def directory_lookup(outcome: str) -> None:
    DIRECTORY_LOOKUPS.labels(outcome).inc()
