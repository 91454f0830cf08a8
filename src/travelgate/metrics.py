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


def envelope(direction: str, state: str, code: str | None, seconds: float) -> None:
    ENVELOPES.labels(direction, state, code or "").inc()
    EXCHANGE_SECONDS.labels(direction).observe(seconds)


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
