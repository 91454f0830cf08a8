"""The running gateway: wires config, store, TRISA server and client, workers and API.

`Gateway` holds the services without listening anywhere (the CLI's `transfer send` and
`keys exchange` use it next to a running node, on the same database); `Node` adds the
TRISA server, the background workers and the internal API, and stops them gracefully.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiohttp import web

from travelgate.api import ApiAdmission, ApiListener, ApiServices, build_app
from travelgate.config import Config, parse_listen
from travelgate.errors import ConfigError, StoreError
from travelgate.outbox import OutboxSettings, OutboxWorker
from travelgate.service import (
    Alerts,
    HoldService,
    Notifier,
    PolicyDecider,
    Recorder,
    ReviewService,
    ScreeningStep,
    ServiceHooks,
    TrpService,
    WalletService,
    peer_certificates,
    person_problems,
)
from travelgate.store import (
    SYSTEM_ACTOR,
    AddressTakenError,
    Database,
    OutboxItem,
    Tx,
    database_for,
    now_text,
)
from travelgate.transfers import Policy, parse_policy
from travelgate.trisa import (
    Admission,
    AdmissionSettings,
    ClientSettings,
    Credentials,
    Decider,
    Directory,
    InboundService,
    InboundSettings,
    OutboundService,
    PeerKeys,
    ReplyHook,
    RunningServer,
    TrisaClient,
    TrisaNetworkServicer,
    VaspInfo,
    load_credentials,
    start_server,
    stop_server,
)
from travelgate.trp import (
    RunningTrpServer,
    TrpClient,
    client_ssl_context,
    server_ssl_context,
    start_trp_server,
    stop_trp_server,
)

log = structlog.get_logger("travelgate.node")


@dataclass
class Gateway:
    """Everything needed to exchange envelopes, without listening for any."""

    config: Config
    decider: Decider | None = None
    reply_hook: ReplyHook | None = None

    def __post_init__(self) -> None:
        self._credentials: Credentials | None = None
        self._db: Database | None = None
        self._client: TrisaClient | None = None
        self._crypto: ThreadPoolExecutor | None = None
        self.directory = Directory([])
        self.keys = PeerKeys(self.config.trisa.key_ttl.total_seconds())
        self._inbound: InboundService | None = None
        self._outbound: OutboundService | None = None
        self.notifier = Notifier()
        self.policy: Policy = parse_policy(self.config.policy)
        self._holds: HoldService | None = None
        self._reviews: ReviewService | None = None
        self.screening: ScreeningStep | None = None
        self.alerts: Alerts | None = None
        self.wallets: WalletService | None = None
        self._trp: TrpService | None = None

    @property
    def credentials(self) -> Credentials:
        if self._credentials is None:
            raise RuntimeError("gateway is not open")
        return self._credentials

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("gateway is not open")
        return self._db

    @property
    def client(self) -> TrisaClient:
        if self._client is None:
            raise RuntimeError("gateway is not open")
        return self._client

    @property
    def inbound(self) -> InboundService:
        if self._inbound is None:
            raise RuntimeError("gateway is not open")
        return self._inbound

    @property
    def outbound(self) -> OutboundService:
        if self._outbound is None:
            raise RuntimeError("gateway is not open")
        return self._outbound

    @property
    def holds(self) -> HoldService:
        if self._holds is None:
            raise RuntimeError("gateway is not open")
        return self._holds

    @property
    def reviews(self) -> ReviewService:
        if self._reviews is None:
            raise RuntimeError("gateway is not open")
        return self._reviews

    @property
    def trp(self) -> TrpService:
        if self._trp is None:
            raise RuntimeError("gateway is not open")
        return self._trp

    @property
    def vasp(self) -> VaspInfo:
        node = self.config.node
        return VaspInfo(node.name, node.legal_name, node.country, node.lei)

    async def open(self, *, seed_customers: bool = True) -> None:
        config = self.config
        credentials = load_credentials(config)
        for warning in credentials.warnings:
            log.warning("certificate expiry", message=warning)
        self._credentials = credentials
        self.directory = Directory.load(config.directory.file)
        self._db = database_for(config)
        await self._db.open()
        if seed_customers:
            await self._seed_customers()
        await self._load_screening_lists()
        self.notifier.bind()
        recorder = Recorder(config.webhooks.url, self.notifier)
        assets = frozenset(a.upper() for a in config.api.assets)
        self.screening = ScreeningStep.from_settings(config.screening)
        self.alerts = Alerts(
            self._db,
            url=config.alerts.url or config.webhooks.url,
            review_age=config.alerts.review_age,
            webhook_failures=config.alerts.webhook_failures,
        )
        self.wallets = WalletService(self._db, recorder, config.node.legal_name)
        self._holds = HoldService(
            db=self._db,
            directory=self.directory,
            policy=self.policy,
            vasp=self.vasp,
            recorder=recorder,
            assets=assets,
            ivms_profile=config.trisa.ivms_profile,
            screening=self.screening,
            alerts=self.alerts,
            new_destination_hold=config.new_destination_hold,
        )
        self._reviews = ReviewService(
            self._db, self._holds, recorder, four_eyes=config.api.four_eyes
        )
        hooks = ServiceHooks(self._holds, recorder, self.alerts)
        decider = self.decider or PolicyDecider(self.policy, self.screening, self._db)
        self._trp = TrpService(
            db=self._db,
            holds=self._holds,
            recorder=recorder,
            directory=self.directory,
            decider=decider,
            vasp_name=config.node.name,
            legal_name=config.node.legal_name,
            lei=config.node.lei,
            certificate_pem=_read_text(config.trp.cert),
            ivms_profile=config.trisa.ivms_profile,
            immediate=config.trp.immediate,
        )
        self._holds.trp = self._trp
        self._crypto = ThreadPoolExecutor(
            max_workers=config.trisa.crypto_threads, thread_name_prefix="crypto"
        )
        self._client = TrisaClient(
            credentials,
            self.keys,
            ClientSettings(
                timeout=config.trisa.transfer_timeout,
                max_message_bytes=config.trisa.max_message_bytes,
            ),
        )
        self._inbound = InboundService(
            name=config.node.name,
            vasp=self.vasp,
            keyring=credentials.keyring,
            db=self._db,
            directory=self.directory,
            client=self._client,
            decider=decider,
            hooks=hooks,
            crypto=self._crypto,
            settings=InboundSettings(
                ivms_profile=config.trisa.ivms_profile,
                pending_not_before=config.trisa.pending_reply_before,
                pending_not_after=config.trisa.pending_reply_after,
                max_payload=config.trisa.max_message_bytes,
                failed_per_peer=config.storage.failed_per_peer,
            ),
            reply_hook=self.reply_hook,
        )
        self._outbound = OutboundService(
            keyring=credentials.keyring,
            db=self._db,
            directory=self.directory,
            client=self._client,
            hooks=hooks,
            crypto=self._crypto,
            ivms_profile=config.trisa.ivms_profile,
        )

    async def _seed_customers(self) -> None:
        for index, seed in enumerate(self.config.customers):
            problems = person_problems(seed.person)
            if problems:
                where = f"[[customers]] #{index + 1} ({seed.id})"
                listed = "; ".join(problems[:5])
                raise ConfigError(f"{where}: person is not a valid IVMS101 Person: {listed}")

            def put(tx: Any, seed: Any = seed) -> None:
                tx.put_customer(seed.id, seed.person, seed.addresses)

            try:
                await self.db.write(put)
            except AddressTakenError as exc:
                raise ConfigError(f"[[customers]] {seed.id}: {exc.message}") from None

    async def _load_screening_lists(self) -> None:
        """`[screening] lists`: a list that cannot load stops the node (screening fails closed)."""
        from travelgate.screening import ScreeningListError, load_configured_lists

        try:
            loaded = await load_configured_lists(self.db, self.config.screening.lists)
        except ScreeningListError as exc:
            raise ConfigError(f"[screening] lists: {exc.message}") from None
        for result in loaded:
            log.info(
                "screening list",
                source=result.source,
                counts=result.counts,
                reloaded=not result.unchanged,
            )

    async def close(self) -> None:
        closer = getattr(self.decider, "aclose", None)
        if closer is not None:
            await closer()
        if self._client is not None:
            await self._client.close()
        if self.screening is not None:
            await self.screening.close()
        if self._trp is not None and self._trp.client is not None:
            await self._trp.client.close()
        if self._db is not None:
            await self._db.close()
        if self._crypto is not None:
            self._crypto.shutdown(wait=True)


@dataclass
class Node:
    """A gateway that serves: TRISA server, background workers, internal API."""

    gateway: Gateway
    errors_as_status: bool = False
    # Which of `serve --workers N`'s processes this is (None: the only one). A worker shares
    # its listen ports with the others and leaves the once-only startup work to the parent.
    worker: int | None = None

    def __post_init__(self) -> None:
        self.server: RunningServer | None = None
        self.trp_server: RunningTrpServer | None = None
        self.admission: Admission | None = None
        self.outbox: OutboxWorker | None = None
        self._api: ApiListener | None = None
        self.api_port = 0
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def config(self) -> Config:
        return self.gateway.config

    @property
    def trp_port(self) -> int:
        if self.trp_server is None:
            raise RuntimeError("the TRP server is not running")
        return self.trp_server.port

    @property
    def trisa_port(self) -> int:
        if self.server is None:
            raise RuntimeError("node is not started")
        return self.server.port

    async def start(self) -> None:
        gateway = self.gateway
        await gateway.open(seed_customers=self.worker is None)
        if self.worker is not None:
            # Most changes a long poll waits for are made by another worker.
            gateway.notifier.recheck = SHARED_POLL
        if self.worker is None:
            await record_startup(gateway.db, self.config)
        credentials = gateway.credentials
        trisa = self.config.trisa
        self.admission = Admission(admission_settings(self.config), gateway.directory)
        self.admission.on_key_alert = self._alerts.peer_key_changed
        servicer = TrisaNetworkServicer(
            gateway.inbound,
            credentials,
            gateway.keys,
            gateway.directory,
            gateway.db,
            confirm_address=trisa.confirm_address,
            confirm_per_minute=trisa.confirm_address_per_minute,
            errors_as_status=self.errors_as_status,
            admission=self.admission,
        )
        try:
            self.server = await start_server(
                servicer,
                credentials,
                self.config.node.trisa_listen,
                max_concurrent_rpcs=trisa.max_concurrent_rpcs,
                max_message_bytes=trisa.max_message_bytes,
                reuse_port=self.worker is not None,
            )
        except OSError:
            await gateway.close()
            listen = self.config.node.trisa_listen
            raise ConfigError(f"[node] trisa_listen {listen}: {listen_problem(listen)}") from None
        try:
            await self._start_trp()
            await self._start_api()
        except ConfigError:
            await stop_server(self.server, 0)
            if self.trp_server is not None:
                await stop_trp_server(self.trp_server)
                self.trp_server = None
            await gateway.close()
            raise
        if runs_background_work(self.worker):
            self._start_background_work()
        log.info(
            "node started" if self.worker is None else "worker started",
            node=self.config.node.name,
            trisa_port=self.server.port,
            trp_port=self.trp_server.port if self.trp_server else None,
            api_port=self.api_port,
            database=str(self.config.node.database),
        )

    def _start_background_work(self) -> None:
        """Outbox, expiry, alerts and retention: one set per database, not per worker."""
        gateway = self.gateway
        outbox = self.config.outbox
        self.outbox = OutboxWorker(
            gateway.db,
            gateway.outbound,
            webhook_secret=webhook_secret(self.config),
            settings=OutboxSettings(
                max_attempts=outbox.max_attempts,
                webhook_max_attempts=outbox.webhook_max_attempts,
                base_delay=outbox.base_delay,
                max_delay=outbox.max_delay,
                per_target=outbox.per_target,
                # Rows enqueued by another worker cannot wake this one: look more often.
                poll=OutboxSettings.poll if self.worker is None else SHARED_POLL,
            ),
            on_dead=self._on_dead,
            on_webhook=self._alerts.webhook_result,
            trp=gateway.trp if self.trp_server is not None else None,
        )
        worker = self.outbox
        loop = asyncio.get_running_loop()

        def wake() -> None:
            loop.call_soon_threadsafe(worker.wake)

        gateway.db.on_enqueue = wake
        self.spawn(worker.run(), "outbox")
        self.spawn(gateway.holds.run_expiry(outbox.expiry_interval), "expiry")
        self.spawn(
            self._alerts.run_checks(
                self._certificates, review_interval=self.config.alerts.check_interval
            ),
            "alerts",
        )
        storage = self.config.storage
        self.spawn(
            purge_loop(gateway.db, storage.retention, failed_retention=storage.failed_retention),
            "retention",
        )

    @property
    def _alerts(self) -> Alerts:
        assert self.gateway.alerts is not None, "gateway is not open"
        return self.gateway.alerts

    def _on_dead(self, tx: Tx, item: OutboxItem) -> None:
        self.gateway.holds.on_dead(tx, item)
        self._alerts.dead_letter(tx, item)

    def _certificates(self) -> list[tuple[str, Any]]:
        """Ours (TLS and sealing) and every peer's named in the directory file."""
        credentials = self.gateway.credentials
        ours = [("node:tls", credentials.certificate)]
        if credentials.sealing_certificate.serial_number != credentials.certificate.serial_number:
            ours.append(("node:sealing", credentials.sealing_certificate))
        return ours + peer_certificates(self.config.directory.file)

    async def _start_trp(self) -> None:
        """`[trp] enabled`: serve TRP over mutual TLS and send with the same identity."""
        trp = self.config.trp
        if not trp.enabled:
            return
        assert trp.cert is not None
        assert trp.key is not None
        assert trp.trust is not None
        host, port = parse_listen(trp.listen)
        try:
            self.trp_server = await start_trp_server(
                self.gateway.trp,
                host,
                port,
                server_ssl_context(trp.cert, trp.key, trp.trust),
                reuse_port=self.worker is not None,
            )
        except OSError as exc:
            raise ConfigError(f"[trp] listen {trp.listen}: {exc.strerror}") from None
        service = self.gateway.trp
        service.public_url = trp.public_url or _public_url(host, self.trp_server.port)
        service.client = TrpClient(client_ssl_context(trp.cert, trp.key, trp.trust))

    async def _start_api(self) -> None:
        gateway = self.gateway
        services = ApiServices(
            gateway.db,
            gateway.holds,
            gateway.reviews,
            self.config.api.long_poll_max,
            wallets=gateway.wallets,
            alerts=gateway.alerts,
            trp=gateway.trp,
        )
        admission = ApiAdmission(
            max_inflight=self.config.api.max_inflight,
            max_long_polls=self.config.api.max_long_polls,
        )
        app = build_app(services, body_limit=self.config.api.body_limit, admission=admission)
        if self.worker is not None:
            app.on_response_prepare.append(worker_header(self.worker))
        listener = ApiListener(
            app,
            header_timeout=self.config.api.header_timeout,
            shutdown_timeout=self.config.trisa.grace_seconds,
        )
        host, port = parse_listen(self.config.node.api_listen)
        try:
            self.api_port = await listener.start(host, port, reuse_port=self.worker is not None)
        except OSError:
            listen = self.config.node.api_listen
            raise ConfigError(f"[node] api_listen {listen}: {listen_problem(listen)}") from None
        self._api = listener

    def spawn(self, work: Awaitable[None], name: str) -> None:
        """Run a background worker until the node stops."""

        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("worker failed", worker=name)

        self._tasks.append(asyncio.create_task(guarded(), name=name))

    async def stop(self, grace: float | None = None) -> None:
        grace = self.config.trisa.grace_seconds if grace is None else grace
        # The listeners drain side by side, so that the node stops within one grace.
        await asyncio.gather(self._stop_trisa(grace), self._stop_trp(), self._stop_api())
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.gateway.close()
        log.info("node stopped", node=self.config.node.name)

    async def _stop_trisa(self, grace: float) -> None:
        if self.server is not None:
            await stop_server(self.server, grace)
            self.server = None

    async def _stop_trp(self) -> None:
        if self.trp_server is not None:
            await stop_trp_server(self.trp_server)
            self.trp_server = None

    async def _stop_api(self) -> None:
        if self._api is not None:
            await self._api.stop()
            self._api = None

    def request_stop(self) -> None:
        self._stop.set()

    async def run_until_signal(self) -> None:
        """Serve until SIGTERM or SIGINT, then drain in-flight calls and stop."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.request_stop)
        try:
            await self._stop.wait()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            await self.stop()


# How often a worker looks for what other workers did: due outbox rows, changed holds.
SHARED_POLL = 0.05
WORKER_HEADER = "Travelgate-Worker"


def runs_background_work(worker: int | None) -> bool:
    """The only process, or the first worker: the one that runs the background loops."""
    return worker is None or worker == 0


def worker_header(worker: int) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """Adds `Travelgate-Worker: <index>; pid=<pid>` to each API response, for operators."""
    value = f"{worker}; pid={os.getpid()}"

    async def add(_request: web.Request, response: web.StreamResponse) -> None:
        response.headers[WORKER_HEADER] = value

    return add


def listen_problem(listen: str) -> str:
    """Why `listen` cannot be bound, in the words of the OS ("address already in use").

    grpc only says that binding failed, so the bind is tried again here to learn why.
    """
    host, port = parse_listen(listen)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"cannot resolve {host!r} ({exc.strerror})"
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                return (exc.strerror or "cannot bind").lower()
    return "cannot listen there"


def _purge(tx: Tx, cutoff: str, failed_cutoff: str | None = None) -> dict[str, int]:
    counts = tx.purge(cutoff)
    if failed_cutoff is not None:
        counts["failed_envelopes"] = tx.purge_failed(failed_cutoff)
    return counts


def _cutoff(age: timedelta) -> str:
    return (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def purge_loop(
    db: Database,
    retention: timedelta,
    interval: float = 3600.0,
    *,
    failed_retention: timedelta | None = None,
) -> None:
    """Delete closed records older than the retention period, and records of envelopes we
    could not open older than theirs, at start and then hourly."""
    while True:
        cutoff = _cutoff(retention)
        failed_cutoff = None if failed_retention is None else _cutoff(failed_retention)
        try:
            counts = await db.write(
                functools.partial(_purge, cutoff=cutoff, failed_cutoff=failed_cutoff)
            )
            if any(counts.values()):
                log.info("retention purge", cutoff=cutoff, **counts)
        except StoreError:
            log.exception("retention purge failed")
        await asyncio.sleep(interval)


async def record_startup(db: Database, config: Config) -> None:
    """One audit record per start: what about this node's configuration matters later
    (digests of the files, not their content; no personal data)."""
    from travelgate import __version__
    from travelgate.audit import fingerprint

    def digest(path: Any) -> str | None:
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest() if path is not None else None
        except OSError:
            return None

    detail = {
        "version": __version__,
        "config_sha256": digest(config.source),
        "tls_cert_sha256": digest(config.tls.cert),
        "sealing_cert_sha256": digest(config.sealing.cert),
        "directory_sha256": digest(config.directory.file),
        "audit_key": fingerprint(db.audit_key.public_key),
        "trisa_listen": config.node.trisa_listen,
        "api_listen": config.node.api_listen,
        "retention": str(config.storage.retention),
        "four_eyes": config.api.four_eyes,
        "ivms_profile": config.trisa.ivms_profile,
        "screening_lists": [digest(path) for path in config.screening.lists],
        "screening_on_hit": config.screening.on_hit,
        "screening_fail_open": config.screening.fail_open,
        "webhooks": bool(config.webhooks.url),
    }

    def write(tx: Tx) -> None:
        tx.audit(
            actor=SYSTEM_ACTOR,
            action="node.started",
            subject=f"node:{config.node.name}",
            detail=detail,
            stamp=now_text(),
        )

    await db.write(write)


def _public_url(host: str, port: int) -> str:
    """Where peers reach our TRP server when `[trp] public_url` is not set."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding it
        host = "localhost"
    if ":" in host:
        host = f"[{host}]"
    return f"https://{host}:{port}"


def _read_text(path: Any) -> str:
    try:
        return str(path.read_text()) if path is not None else ""
    except OSError:
        return ""


def admission_settings(config: Config) -> AdmissionSettings:
    trisa = config.trisa
    return AdmissionSettings(
        per_peer_streams=trisa.per_peer_streams,
        per_peer_rps=trisa.per_peer_rps,
        stream_idle_timeout=trisa.stream_idle_timeout,
        stream_max_age=trisa.stream_max_age,
        max_concurrent_rpcs=trisa.max_concurrent_rpcs,
        reserved_rpcs=trisa.reserved_rpcs,
        max_inflight_work=trisa.max_inflight_work,
    )


def webhook_secret(config: Config) -> bytes:
    """The webhook signing secret: the file's content, surrounding whitespace stripped."""
    path = config.webhooks.secret_file
    if path is None:
        return b""
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"[webhooks] secret_file {path}: {exc.strerror}") from None
    if not secret:
        raise ConfigError(f"[webhooks] secret_file {path} is empty")
    return secret


def build_node(
    config: Config, *, robot: Any = None, delay: float = 1.0, worker: int | None = None
) -> Node:
    """The node `serve` runs; with `robot` (a RobotPolicy), a scripted robot counterparty;
    with `worker`, one of the processes of `serve --workers N`."""
    if robot is None:
        return Node(Gateway(config), worker=worker)
    from travelgate.robots import RobotDecider, broken_behaviour

    decider = RobotDecider(robot, delay)
    reply_hook, errors_as_status = broken_behaviour(robot)
    gateway = Gateway(config, decider=decider, reply_hook=reply_hook)
    decider.gateway = gateway
    return Node(gateway, errors_as_status=errors_as_status)
