"""Security alerts: stored once per occurrence, delivered as signed webhooks, counted.

Every alert has a stable `type` (`alert.<name>`), a `severity`, a `subject` and a
`created_at`; its dedupe key names the occurrence (a peer's new key, a certificate's 30- or
7-day mark, one dead outbox row ...), so the same cause seen twice raises nothing new. The
alert row, its webhook and the change that caused it commit together where a transaction
exists; causes seen outside one (a peer's TLS key, a webhook's failures, the daily checks)
write their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from cryptography import x509

from travelgate import metrics
from travelgate.errors import TravelgateError
from travelgate.service._paging import decode_cursor, encode_cursor
from travelgate.store import Alert, OutboxItem, Store, Tx, now_text
from travelgate.timestamps import format_timestamp_seconds, parse_stored

log = structlog.get_logger("travelgate.alerts")

PEER_KEY_CHANGED = "alert.peer_key_changed"
CERTIFICATE_EXPIRING = "alert.certificate_expiring"
DEAD_LETTER = "alert.dead_letter"
SCREENING_HIT = "alert.screening_hit"
WEBHOOK_FAILING = "alert.webhook_failing"
REVIEW_BACKLOG = "alert.review_backlog"
ALERT_TYPES = (
    PEER_KEY_CHANGED,
    CERTIFICATE_EXPIRING,
    DEAD_LETTER,
    SCREENING_HIT,
    WEBHOOK_FAILING,
    REVIEW_BACKLOG,
)
EXPIRY_MARKS = (30, 7)  # days before a certificate's end at which it is announced


def alert_view(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "type": alert.type,
        "severity": alert.severity,
        "subject": alert.subject,
        "created_at": alert.created_at,
        "detail": alert.detail,
    }


@dataclass
class Alerts:
    """Raises alerts into one database; `url` receives them as webhooks ("" stores only)."""

    db: Store
    url: str = ""
    review_age: timedelta = timedelta(hours=4)
    webhook_failures: int = 5
    _streaks: dict[str, int] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def raise_in(
        self,
        tx: Tx,
        type: str,
        *,
        severity: str,
        subject: str,
        key: str,
        deliver: bool = True,
        **detail: Any,
    ) -> bool:
        """Raise an alert inside the caller's transaction; False if already raised."""
        stamp = now_text()
        alert_id = str(uuid.uuid4())
        stored = tx.insert_alert(
            alert_id=alert_id,
            type=type,
            severity=severity,
            subject=subject,
            detail=detail,
            dedupe_key=f"{type}:{key}",
            stamp=stamp,
        )
        if not stored:
            return False
        metrics.ALERTS.labels(type).inc()
        log.warning("security alert", alert=type, severity=severity, subject=subject)
        if deliver and self.url:
            event = {
                "event_id": alert_id,
                "type": type,
                "created_at": stamp,
                "data": {
                    "id": alert_id,
                    "type": type,
                    "severity": severity,
                    "subject": subject,
                    "created_at": stamp,
                    "detail": detail,
                },
            }
            tx.enqueue(
                kind="webhook",
                target=self.url,
                body_kind="json",
                body=json.dumps(event, sort_keys=True, separators=(",", ":")).encode(),
                stamp=stamp,
                event_id=alert_id,
            )
        return True

    async def raise_now(self, type: str, **options: Any) -> bool:
        return await self.db.write(lambda tx: self.raise_in(tx, type, **options))

    def raise_soon(self, type: str, **options: Any) -> None:
        """From synchronous code on the event loop (a TLS handshake, an outbox result)."""
        task = asyncio.get_running_loop().create_task(self._raise_quietly(type, options))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _raise_quietly(self, type: str, options: dict[str, Any]) -> None:
        try:
            await self.raise_now(type, **options)
        except TravelgateError as exc:
            log.error("alert not stored", alert=type, error=exc.message)

    # -- causes --------------------------------------------------------------------------

    def peer_key_changed(self, peer: str, presented: str, pinned: bool, action: str) -> None:
        self.raise_soon(
            PEER_KEY_CHANGED,
            severity="critical",
            subject=f"peer:{peer}",
            key=f"{peer}:{presented}",
            presented=presented,
            pinned=pinned,
            action=action,
        )

    def dead_letter(self, tx: Tx, item: OutboxItem) -> None:
        # An alert that could not be delivered is stored, never re-sent as another alert.
        about_alert = item.kind == "webhook" and b'"type":"alert.' in item.body
        self.raise_in(
            tx,
            DEAD_LETTER,
            severity="warning",
            subject=f"outbox:{item.id}",
            key=str(item.id),
            deliver=not about_alert,
            kind=item.kind,
            target=item.target,
            withdrawal_id=item.hold_id,
            last_error=item.last_error,
        )

    def webhook_result(self, target: str, delivered: bool) -> None:
        """Count consecutive failures per URL; the Nth raises one alert for the streak."""
        if delivered:
            self._streaks.pop(target, None)
            return
        streak = self._streaks.get(target, 0) + 1
        self._streaks[target] = streak
        if streak == self.webhook_failures:
            self.raise_soon(
                WEBHOOK_FAILING,
                severity="warning",
                subject=f"webhook:{target}",
                key=f"{target}:{now_text()}",
                deliver=target != self.url,
                target=target,
                consecutive_failures=streak,
            )

    def screening_hit(self, tx: Tx, subject: str, direction: str, detail: dict[str, Any]) -> None:
        self.raise_in(
            tx,
            SCREENING_HIT,
            severity="critical",
            subject=subject,
            key=subject,
            direction=direction,
            **detail,
        )

    async def check_review_backlog(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        oldest = await self.db.read(lambda tx: tx.oldest_open_review())
        if oldest is None:
            return False
        review_id, created = oldest
        opened = parse_stored(created)
        if now - opened < self.review_age:
            return False
        return await self.raise_now(
            REVIEW_BACKLOG,
            severity="warning",
            subject=f"review:{review_id}",
            key=review_id,
            opened_at=created,
            age_seconds=int((now - opened).total_seconds()),
        )

    async def check_certificates(
        self, certificates: Iterable[tuple[str, x509.Certificate]], now: datetime | None = None
    ) -> int:
        """Announce each certificate at 30 and 7 days before its end (once per mark)."""
        now = now or datetime.now(UTC)
        raised = 0
        for owner, certificate in certificates:
            ends = certificate.not_valid_after_utc
            left = ends - now
            marks = [mark for mark in EXPIRY_MARKS if left <= timedelta(days=mark)]
            if not marks:
                continue
            mark = min(marks)
            serial = format(certificate.serial_number, "x")
            if await self.raise_now(
                CERTIFICATE_EXPIRING,
                severity="critical" if mark <= 7 else "warning",
                subject=owner,
                key=f"{owner}:{serial}:{mark}",
                not_after=format_timestamp_seconds(ends),
                days_left=max(0, left.days),
                mark_days=mark,
            ):
                raised += 1
        return raised

    async def run_checks(
        self,
        certificates: Any,
        *,
        review_interval: float = 60.0,
        certificate_interval: float = 86400.0,
    ) -> None:
        """The periodic checks: reviews every minute, certificates at start and daily."""
        last_certificates = -certificate_interval
        loop = asyncio.get_running_loop()
        while True:
            with contextlib.suppress(TravelgateError):
                if loop.time() - last_certificates >= certificate_interval:
                    last_certificates = loop.time()
                    await self.check_certificates(certificates())
                await self.check_review_backlog()
            await asyncio.sleep(review_interval)

    async def page(self, type: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
        before = decode_cursor(cursor)
        rows = await self.db.read(
            lambda tx: tx.alerts_page(type=type, before=before, limit=limit + 1)
        )
        shown = rows[:limit]
        return {
            "items": [alert_view(alert) for alert in shown],
            "next_cursor": encode_cursor(shown[-1].rowid) if len(rows) > limit else None,
        }


def peer_certificates(directory_file: Path | None) -> list[tuple[str, x509.Certificate]]:
    """The certificates named by `cert` in the peers file, as ("peer:<name>", certificate)."""
    import tomllib

    if directory_file is None or not directory_file.is_file():
        return []
    try:
        document = tomllib.loads(directory_file.read_text())
    except (OSError, ValueError):
        return []
    found = []
    for entry in document.get("peer", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("cert"), str):
            continue
        path = Path(entry["cert"])
        path = path if path.is_absolute() else directory_file.parent / path
        try:
            certificate = x509.load_pem_x509_certificate(path.read_bytes())
        except (OSError, ValueError):
            continue
        found.append((f"peer:{entry.get('name')}", certificate))
    return found
