"""The durable outbox worker: outgoing envelopes, TRP messages, emails and webhooks, retried
until delivered.

Rows are written in the same transaction as the state change that caused them; this
worker delivers them at least once, with exponential backoff and jitter, a per-target
concurrency limit, and a dead-letter state after `max_attempts`. A transfer is sealed and
stored once, then resent byte for byte (TRISA duplicate envelopes), so a peer that already answered
sees an exact duplicate and answers it idempotently; the row is marked done in the
transaction that records the reply. Webhooks carry the same event id on every retry.

Several processes may share one database: each claims the rows it delivers for a lease
(`[outbox] lease`), renews the claims while it works on them, and gives them back when
done; a process that dies loses its claims when their lease runs out, and another one
resends the stored bytes. The per-target limit is per process (each replica sends at most
`per_target` at once to one target). A database that cannot be reached stops nothing for
good: the worker logs, backs off and tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import hmac
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import aiohttp
import structlog

from travelgate import metrics
from travelgate._pb.trisa.api.v1beta1 import api_pb2, errors_pb2
from travelgate.errors import (
    PeerBusyError,
    SealedElsewhereError,
    StoreError,
    TravelgateError,
    TrpRemoteError,
    WebhookError,
)
from travelgate.store import OutboxItem, Store, Tx, now_text
from travelgate.timestamps import format_timestamp
from travelgate.transfers import Outcome
from travelgate.trisa import (
    DirectoryUnavailableError,
    InvalidReplyError,
    OutboundService,
    PeerUnavailableError,
    UnknownPeerError,
)

log = structlog.get_logger("travelgate.outbox")

SIGNATURE_HEADER = "Travelgate-Signature"
EVENT_HEADER = "Travelgate-Event-Id"


@dataclass(frozen=True)
class OutboxSettings:
    max_attempts: int = 12
    webhook_max_attempts: int = 30
    base_delay: float = 1.0
    max_delay: float = 3600.0
    per_target: int = 4
    batch: int = 64
    poll: float = 0.5
    webhook_timeout: float = 10.0
    lease: float = 30.0  # seconds a claim on a row lasts unless renewed


# A database that keeps failing is tried again at most this far apart.
_STORE_RETRY_MAX = 30.0


def _time_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def worker_id() -> str:
    """Who claims outbox rows: host and process, made unique per worker."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (issue 6 contract)."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def backoff(attempts: int, settings: OutboxSettings) -> float:
    """Exponential backoff with full jitter around the nominal delay."""
    nominal = min(settings.max_delay, settings.base_delay * 2.0 ** max(0, attempts - 1))
    return float(nominal * (0.5 + random.random()))


DeadLetter = Callable[[Tx, OutboxItem], None]


class TrpSender(Protocol):
    """Sends a queued TRP message and records its answer (the service's TrpService)."""

    async def deliver(self, item: OutboxItem) -> None: ...


class EmailSender(Protocol):
    """Sends a queued email and records it (the SunriseService)."""

    async def deliver(self, item: OutboxItem) -> None: ...


class OutboxWorker:
    def __init__(
        self,
        db: Store,
        outbound: OutboundService,
        *,
        webhook_secret: bytes = b"",
        settings: OutboxSettings | None = None,
        on_dead: DeadLetter | None = None,
        on_webhook: Callable[[str, bool], None] | None = None,
        trp: TrpSender | None = None,
        email: EmailSender | None = None,
    ) -> None:
        self.db = db
        self.outbound = outbound
        self.webhook_secret = webhook_secret
        self.settings = settings or OutboxSettings()
        self.on_dead = on_dead
        self.on_webhook = on_webhook  # (URL, delivered): what alerts count failures with
        self.trp = trp
        self.email = email
        self._wake = asyncio.Event()
        self._busy: dict[int, asyncio.Task[None]] = {}
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._session: aiohttp.ClientSession | None = None
        self.owner = worker_id()
        self._renewed = time.monotonic()

    def wake(self) -> None:
        """Something was enqueued: look again now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        failures = 0
        try:
            while True:
                try:
                    await self.run_once()
                    failures = 0
                except StoreError as exc:
                    # One failed look at the database must not end deliveries until a restart.
                    failures += 1
                    pause = min(_STORE_RETRY_MAX, self.settings.poll * 2.0 ** min(failures, 10))
                    log.warning(
                        "outbox cannot reach the database",
                        error=exc.message,
                        failures=failures,
                        retry_in=round(pause, 2),
                    )
                    await asyncio.sleep(pause)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll)
                self._wake.clear()
        finally:
            for task in list(self._busy.values()):
                task.cancel()
            if self._busy:
                await asyncio.gather(*self._busy.values(), return_exceptions=True)
            if self._session is not None:
                await self._session.close()
            with contextlib.suppress(Exception):  # the database may be closing too
                await asyncio.shield(self.db.write(lambda tx: tx.release_outbox_claims(self.owner)))

    async def run_once(self) -> int:
        """Claim due rows (as many as there is room for) and start delivering them;
        returns how many started. Renews the leases of the rows still in flight."""
        await self._renew()
        room = self.settings.batch - len(self._busy)
        if room <= 0:
            return 0
        moment = datetime.now(UTC)
        now = _time_text(moment)
        lease_until = _time_text(moment + timedelta(seconds=self.settings.lease))
        due = await self.db.write(
            lambda tx: tx.claim_outbox(self.owner, now=now, lease_until=lease_until, limit=room)
        )
        started = 0
        for item in due:
            if item.id in self._busy:
                continue
            task = asyncio.create_task(self._deliver(item))
            self._busy[item.id] = task
            task.add_done_callback(functools.partial(self._forget, item.id))
            started += 1
        return started

    def _forget(self, item_id: int, _task: object) -> None:
        self._busy.pop(item_id, None)

    async def _renew(self) -> None:
        """Keep the claims of the rows in flight, a third of a lease before they lapse."""
        if not self._busy or time.monotonic() - self._renewed < self.settings.lease / 3:
            return
        lease_until = _time_text(datetime.now(UTC) + timedelta(seconds=self.settings.lease))
        in_flight = list(self._busy)
        await self.db.write(
            lambda tx: tx.renew_outbox_claims(self.owner, in_flight, lease_until=lease_until)
        )
        self._renewed = time.monotonic()

    async def drain(self, seconds: float = 30.0) -> None:
        """Deliver until nothing is due or in flight (tests, shutdown)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = await self.run_once()
            if self._busy:
                await asyncio.gather(*self._busy.values(), return_exceptions=True)
            elif not started:
                return

    async def _deliver(self, item: OutboxItem) -> None:
        limit = self._limits.setdefault(item.target, asyncio.Semaphore(self.settings.per_target))
        async with limit:
            try:
                if item.kind == "transfer":
                    await self._transfer(item)
                elif item.kind == "trp":
                    await self._trp(item)
                elif item.kind == "email":
                    await self._email(item)
                else:
                    await self._webhook(item)
                    self._webhook_result(item, True)
                metrics.OUTBOX.labels(item.kind, "delivered").inc()
            except asyncio.CancelledError:
                raise
            except (
                PeerUnavailableError,
                InvalidReplyError,
                UnknownPeerError,
                DirectoryUnavailableError,
                WebhookError,
                PeerBusyError,
            ) as exc:
                await self._failed(item, exc.message)
            except TrpRemoteError as exc:
                await self._failed(item, exc.message, final=not exc.retryable)
            except TravelgateError as exc:
                await self._failed(item, f"{type(exc).__name__}: {exc.message}")
            except Exception as exc:  # never let one row kill the worker
                log.exception("outbox delivery failed", item=item.id, kind=item.kind)
                await self._failed(item, f"internal error: {type(exc).__name__}")

    async def _failed(self, item: OutboxItem, error: str, *, final: bool = False) -> None:
        try:
            await self._record_failure(item, error, final=final)
        except StoreError as exc:
            # Not even the failure could be written: the claim lapses and the row is
            # delivered again, by this process or another.
            log.warning("outbox cannot record a failure", item=item.id, error=exc.message)

    def _webhook_result(self, item: OutboxItem, delivered: bool) -> None:
        if item.kind == "webhook" and self.on_webhook is not None:
            self.on_webhook(item.target, delivered)

    async def _record_failure(self, item: OutboxItem, error: str, *, final: bool) -> None:
        self._webhook_result(item, False)
        attempts = item.attempts + 1
        limit = (
            self.settings.webhook_max_attempts
            if item.kind == "webhook"
            else self.settings.max_attempts
        )
        retry_at = None
        if attempts < limit and not final:
            when = datetime.now(UTC) + timedelta(seconds=backoff(attempts, self.settings))
            retry_at = format_timestamp(when)

        def write(tx: Tx) -> None:
            if not tx.outbox_failed(item.id, stamp=now_text(), error=error, retry_at=retry_at):
                return  # delivered by another process meanwhile: nothing failed
            if retry_at is None and self.on_dead is not None:
                # The dead row as it now stands: its last error says why, for a person.
                self.on_dead(
                    tx, dataclasses.replace(item, attempts=attempts, last_error=error, state="dead")
                )

        await self.db.write(write)
        metrics.OUTBOX.labels(item.kind, "retry" if retry_at else "dead").inc()
        log.warning(
            "outbox retry" if retry_at else "outbox dead letter",
            item=item.id,
            kind=item.kind,
            target=item.target,
            attempts=attempts,
            error=error,
        )

    # -- transfers -----------------------------------------------------------------------

    async def _transfer(self, item: OutboxItem) -> None:
        body = await self.db.read(lambda tx: tx.outbox_body(item))
        payload = error = None
        if item.body_kind == "payload":
            payload = api_pb2.Payload()
            payload.ParseFromString(body)
        else:
            error = errors_pb2.Error()
            error.ParseFromString(body)
        if item.hold_id is not None and item.transfer_state == "STARTED":
            hold = await self.db.read(lambda tx: tx.hold(item.hold_id or ""))
            if hold is not None and hold.state in ("canceled", "rejected", "expired"):
                await self.db.write(lambda tx: tx.outbox_done(item.id, stamp=now_text()))
                return  # withdrawn before it left: nothing to send
        state = api_pb2.TransferState.Value(item.transfer_state or "STARTED")
        assert item.envelope_id is not None

        def sealed(tx: Tx, request_row: int) -> None:
            tx.outbox_sealed(item.id, request_row)

        def sealed_first(tx: Tx, request_row: int) -> None:
            if not tx.outbox_sealed_once(item.id, request_row):
                raise SealedElsewhereError(f"outbox row {item.id} was sealed by another process")

        request_id = item.request_id
        if request_id is None:
            try:
                prepared = await self.outbound.prepare(
                    item.target,
                    envelope_id=item.envelope_id,
                    state=state,
                    payload=payload,
                    error=error,
                    hold_id=item.hold_id,
                    on_record=sealed_first,
                )
            except SealedElsewhereError:
                # Our envelope was never stored: the one stored first is the one that travels.
                current = await self.db.read(lambda tx: tx.outbox_item(item.id))
                if current is None or current.request_id is None:
                    raise
                request_id = current.request_id
        if request_id is not None:
            prepared = await self.outbound.resume(request_id, payload)
        result = await self.outbound.deliver(
            prepared,
            on_record=sealed,
            on_reply=lambda tx: tx.outbox_done(item.id, stamp=now_text()),
        )
        if result.outcome is Outcome.RESEND:
            # The peer asked us to try later. It would answer the same bytes from its store,
            # so the next attempt seals afresh.
            await self.db.write(lambda tx: tx.outbox_sealed(item.id, None))
            raise PeerBusyError(f"{item.target} asked to retry later: {result.reply.error.message}")

    # -- TRP messages ----------------------------------------------------------------------

    async def _trp(self, item: OutboxItem) -> None:
        """A TRP message (inquiry, resolution, confirmation): the service sends and records."""
        if self.trp is None:
            raise PeerBusyError("TRP is not enabled on this node: the message waits")
        await self.trp.deliver(item)

    # -- emails ------------------------------------------------------------------------------

    async def _email(self, item: OutboxItem) -> None:
        """A sunrise mail: the service mints what it carries, sends it and records it."""
        if self.email is None:
            raise PeerBusyError("email is not configured on this node: the mail waits")
        await self.email.deliver(item)

    # -- webhooks ------------------------------------------------------------------------

    async def _webhook(self, item: OutboxItem) -> None:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.settings.webhook_timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        body = item.body
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: item.event_id or "",
            SIGNATURE_HEADER: sign(self.webhook_secret, timestamp, body),
            "User-Agent": "travelgate-webhooks",
        }
        try:
            # A redirect is a failed delivery: following it would hand a signed event (with
            # personal data) to whatever host the first answer names.
            async with self._session.post(
                item.target, data=body, headers=headers, allow_redirects=False
            ) as response:
                if not 200 <= response.status < 300:
                    raise WebhookError(f"webhook answered HTTP {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WebhookError(f"webhook unreachable: {type(exc).__name__}: {exc}") from None
        await self.db.write(lambda tx: tx.outbox_done(item.id, stamp=now_text()))
