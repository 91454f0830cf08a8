"""The durable outbox: outgoing envelopes and signed webhooks, delivered at least once."""

from travelgate.errors import WebhookError
from travelgate.outbox._worker import (
    EVENT_HEADER,
    SIGNATURE_HEADER,
    OutboxSettings,
    OutboxWorker,
    backoff,
    sign,
)

__all__ = [
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "OutboxSettings",
    "OutboxWorker",
    "WebhookError",
    "backoff",
    "sign",
]
