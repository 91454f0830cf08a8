"""Prometheus metrics of the gateway, served by the internal API at /metrics.

Counters only carry peers, states and codes: never personal data.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
