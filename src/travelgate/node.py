"""The running gateway: wires config, store, TRISA server and client, workers and API.

`Gateway` holds the services without listening anywhere (the CLI's `transfer send` and
`keys exchange` use it next to a running node, on the same database); `Node` adds the
TRISA server, the background workers and the internal API, and stops them gracefully.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
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
    DepositService,
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
    OutboxItem,
    Store,
    Tx,
    database_for,
    now_text,
)
from travelgate.sunrise import Mailer, SunriseService, read_password
from travelgate.timestamps import format_timestamp
from travelgate.transfers import Policy, parse_policy
from travelgate.trisa import (
    Admission,
    AdmissionSettings,
    ClientSettings,
    Credentials,
    Decider,
    Directory,
    GdsDirectory,
    InboundService,
    InboundSettings,
    OutboundService,
    PeerKeys,
    ReplyHook,
    RunningServer,
    TrisaClient,
    TrisaNetworkServicer,
    VaspInfo,
    gds_client,
    load_credentials,
    start_server,
    stop_server,
)
from travelgate.trp import (
    RunningTrpServer,
    TrpClient,
    client_ssl_context,
    reference_parse_problem,
    server_ssl_context,
    start_trp_server,
    stop_trp_server,
)

log = structlog.get_logger("travelgate.node")


@dataclass
class Gateway:
    """Everything needed to exchange envelopes, without listening for any.

    Made whole by `await Gateway.open(config)`: every part is there from the start, and
    `close()` lets go of what `open` took (database, channels, threads).
    """

    config: Config
    credentials: Credentials
    db: Store
    directory: Directory
    keys: PeerKeys
    policy: Policy
    notifier: Notifier
    screening: ScreeningStep
    alerts: Alerts
    wallets: WalletService
    holds: HoldService
    reviews: ReviewService
    trp: TrpService
    client: TrisaClient
    inbound: InboundService
    outbound: OutboundService
    sunrise: SunriseService
    crypto: ThreadPoolExecutor
    """Seals and opens envelopes off the event loop."""
    decider: Decider | None = None
    migrated: list[int] = dataclasses.field(default_factory=list)
    """The schema migrations this open applied (said in the "node started" line)."""

    @property
    def vasp(self) -> VaspInfo:
        return vasp_info(self.config)

    @classmethod
    async def open(
        cls,
        config: Config,
        *,
        decider: Decider | None = None,
        reply_hook: ReplyHook | None = None,
        seed_customers: bool = True,
    ) -> Gateway:
        """Load the credentials, open the database (seeding customers and screening lists)
        and build every service; what was opened is closed again if a step fails."""
        credentials = load_credentials(config)
        for warning in credentials.warnings:
            log.warning("certificate expiry", message=warning)
        email = config.email  # its password file is read before anything is opened
        mailer = Mailer(email, read_password(email.password_file)) if email.enabled else None
        policy = parse_policy(config.policy)
        directory = Directory.load(config.directory.file)
        directory.source = gds_source(config, credentials)
        db = database_for(config)
        await db.open()
        try:
            migrated = await db.migrate()
            # Counterparties an admin blocked in the console stay blocked across restarts.
            for name in await db.read(lambda tx: tx.counterparty_blocks()):
                listed = directory.get(name)
                if listed is not None:
                    directory.put(dataclasses.replace(listed, blocked=True))
            if seed_customers:
                await _seed_customers(db, config)
            await _load_screening_lists(db, config)
            gateway = cls._assemble(
                config, credentials, policy, directory, db, decider, reply_hook, mailer
            )
            gateway.migrated = migrated
            return gateway
        except BaseException:
            await directory.close()
            await db.close()
            raise

    @classmethod
    def _assemble(
        cls,
        config: Config,
        credentials: Credentials,
        policy: Policy,
        directory: Directory,
        db: Store,
        decider: Decider | None,
        reply_hook: ReplyHook | None,
        mailer: Mailer | None,
    ) -> Gateway:
        """Wire the services over an open database (no I/O)."""
        vasp = vasp_info(config)
        keys = PeerKeys(config.trisa.key_ttl.total_seconds())
        notifier = Notifier()
        notifier.bind(db)
        recorder = Recorder(config.webhooks.url, notifier)
        screening = ScreeningStep.from_settings(config.screening)
        alerts = Alerts(
            db,
            url=config.alerts.url or config.webhooks.url,
            review_age=config.alerts.review_age,
            webhook_failures=config.alerts.webhook_failures,
        )
        wallets = WalletService(db, recorder, config.node.legal_name)
        holds = HoldService(
            db=db,
            directory=directory,
            policy=policy,
            vasp=vasp,
            recorder=recorder,
            assets=frozenset(a.upper() for a in config.api.assets),
            ivms_profile=config.trisa.ivms_profile,
            screening=screening,
            alerts=alerts,
            new_destination_hold=config.new_destination_hold,
        )
        reviews = ReviewService(db, holds, recorder, four_eyes=config.api.four_eyes)
        hooks = ServiceHooks(holds, recorder, alerts)
        deciding = decider or PolicyDecider(policy, screening, db)
        trp = TrpService(
            db=db,
            holds=holds,
            recorder=recorder,
            directory=directory,
            decider=deciding,
            vasp_name=config.node.name,
            legal_name=config.node.legal_name,
            lei=config.node.lei,
            certificate_pem=_read_text(config.trp.cert),
            ivms_profile=config.trisa.ivms_profile,
            immediate=config.trp.immediate,
        )
        holds.trp = trp
        sunrise = SunriseService(
            db=db,
            holds=holds,
            recorder=recorder,
            directory=directory,
            mailer=mailer,
            legal_name=config.node.legal_name,
            ivms_profile=config.trisa.ivms_profile,
        )
        holds.sunrise = sunrise
        crypto = ThreadPoolExecutor(
            max_workers=config.trisa.crypto_threads, thread_name_prefix="crypto"
        )
        client = TrisaClient(
            credentials,
            keys,
            ClientSettings(
                timeout=config.trisa.transfer_timeout,
                max_message_bytes=config.trisa.max_message_bytes,
            ),
        )
        inbound = InboundService(
            name=config.node.name,
            vasp=vasp,
            keyring=credentials.keyring,
            db=db,
            directory=directory,
            client=client,
            decider=deciding,
            hooks=hooks,
            crypto=crypto,
            settings=InboundSettings(
                ivms_profile=config.trisa.ivms_profile,
                pending_not_before=config.trisa.pending_reply_before,
                pending_not_after=config.trisa.pending_reply_after,
                max_payload=config.trisa.max_message_bytes,
                failed_per_peer=config.storage.failed_per_peer,
            ),
            reply_hook=reply_hook,
        )
        outbound = OutboundService(
            keyring=credentials.keyring,
            db=db,
            directory=directory,
            client=client,
            hooks=hooks,
            crypto=crypto,
            ivms_profile=config.trisa.ivms_profile,
        )
        return cls(
            config=config,
            credentials=credentials,
            db=db,
            directory=directory,
            keys=keys,
            policy=policy,
            notifier=notifier,
            screening=screening,
            alerts=alerts,
            wallets=wallets,
            holds=holds,
            reviews=reviews,
            trp=trp,
            client=client,
            inbound=inbound,
            outbound=outbound,
            sunrise=sunrise,
            decider=decider,
            crypto=crypto,
        )

    async def close(self) -> None:
        closer = getattr(self.decider, "aclose", None)
        if closer is not None:
            await closer()
        await self.client.close()
        await self.screening.close()
        if self.trp.client is not None:
            await self.trp.client.close()
        await self.directory.close()
        await self.db.close()
        # In-flight seals finish first; waiting for them must not stall the loop.
        await asyncio.to_thread(self.crypto.shutdown, wait=True)


def vasp_info(config: Config) -> VaspInfo:
    node = config.node
    return VaspInfo(node.name, node.legal_name, node.country, node.lei)


async def _seed_customers(db: Store, config: Config) -> None:
    for index, seed in enumerate(config.customers):
        problems = person_problems(seed.person)
        if problems:
            where = f"[[customers]] #{index + 1} ({seed.id})"
            listed = "; ".join(problems[:5])
            raise ConfigError(f"{where}: person is not a valid IVMS101 Person: {listed}")

        def put(tx: Any, seed: Any = seed) -> None:
            tx.put_customer(seed.id, seed.person, seed.addresses)

        try:
            await db.write(put)
        except AddressTakenError as exc:
            raise ConfigError(f"[[customers]] {seed.id}: {exc.message}") from None


async def _load_screening_lists(db: Store, config: Config) -> None:
    """`[screening] lists`: a list that cannot load stops the node (screening fails closed)."""
    from travelgate.screening import ScreeningListError, load_configured_lists

    try:
        loaded = await load_configured_lists(db, config.screening.lists)
    except ScreeningListError as exc:
        raise ConfigError(f"[screening] lists: {exc.message}") from None
    for result in loaded:
        log.info(
            "screening list",
            source=result.source,
            counts=result.counts,
            reloaded=not result.unchanged,
        )


@dataclass
class Node:
    """A gateway that serves: TRISA server, background workers, internal API.

    `start()` opens its `Gateway` (with `decider` and `reply_hook`, scripted by a robot)
    and tells `on_open` about it; `stop()` closes it again.
    """

    config: Config
    decider: Decider | None = None
    reply_hook: ReplyHook | None = None
    errors_as_status: bool = False
    on_open: Callable[[Gateway], None] | None = None
    # Which of `serve --workers N`'s processes this is (None: the only one). A worker shares
    # its listen ports with the others and leaves the once-only startup work to the parent.
    worker: int | None = None

    def __post_init__(self) -> None:
        self._gateway: Gateway | None = None
        self.server: RunningServer | None = None
        self.trp_server: RunningTrpServer | None = None
        self.admission: Admission | None = None
        self.outbox: OutboxWorker | None = None
        self._api: ApiListener | None = None
        self.api_port = 0
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            raise RuntimeError("node is not started")
        return self._gateway

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
        gateway = await Gateway.open(
            self.config,
            decider=self.decider,
            reply_hook=self.reply_hook,
            seed_customers=self.worker is None,
        )
        self._gateway = gateway
        if self.on_open is not None:
            self.on_open(gateway)
        if self.worker is not None:
            # Most changes a long poll waits for are made by another worker.
            gateway.notifier.recheck = SHARED_POLL
        else:
            try:
                await check_node_keys(gateway.db, self.config)
            except ConfigError:
                await gateway.close()
                raise
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
            await self._close_gateway()
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
            await self._close_gateway()
            raise
        self._start_background_work()
        log.info(
            "node started" if self.worker is None else "worker started",
            node=self.config.node.name,
            trisa_port=self.server.port,
            trp_port=self.trp_server.port if self.trp_server else None,
            api_port=self.api_port,
            database=gateway.db.where,  # a URL without its password
            migrated=gateway.migrated,  # the schema migrations this start applied
        )

    def _start_background_work(self) -> None:
        """The outbox in every process (its rows are claimed with a lease, so each is sent by
        one process at a time); expiry, alerts and retention in one process of a host's
        workers (they act once per due item anyway, but need not all look)."""
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
                lease=outbox.lease,
                # Rows enqueued by another worker cannot wake this one: look more often.
                poll=OutboxSettings.poll if self.worker is None else SHARED_POLL,
            ),
            on_dead=self._on_dead,
            on_webhook=self._alerts.webhook_result,
            trp=gateway.trp if self.trp_server is not None else None,
            email=gateway.sunrise,
        )
        worker = self.outbox
        loop = asyncio.get_running_loop()

        def wake() -> None:
            loop.call_soon_threadsafe(worker.wake)

        gateway.db.on_enqueue = wake
        self.spawn(worker.run(), "outbox")
        if not runs_background_work(self.worker):
            return
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
        return self.gateway.alerts

    async def _close_gateway(self) -> None:
        if self._gateway is not None:
            await self._gateway.close()
            self._gateway = None

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
        problem = reference_parse_problem(service.public_url)
        if problem is not None:
            log.warning(
                "trp public_url",
                message=f"Travel Addresses minted for {service.public_url}: {problem}",
            )
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
            sunrise=gateway.sunrise,
        )
        admission = ApiAdmission(
            max_inflight=self.config.api.max_inflight,
            max_long_polls=self.config.api.max_long_polls,
        )
        app = build_app(
            services,
            body_limit=self.config.api.body_limit,
            admission=admission,
            console=self._console(),
        )
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
        if gateway.sunrise is not None:
            gateway.sunrise.public_url = self.config.email.public_url or _public_url(
                host, self.api_port, "http"
            )

    def _console(self) -> web.Application | None:
        """The compliance console, unless `[console] enabled = false` (with "auto" it is
        mounted and answers 404 until a person exists)."""
        if self.config.console.enabled is False:
            return None
        from travelgate.console import ConsoleServices, build_console

        gateway = self.gateway
        return build_console(
            ConsoleServices(
                db=gateway.db,
                holds=gateway.holds,
                reviews=gateway.reviews,
                deposits=DepositService(gateway.db),
                settings=self.config.console,
                node_name=self.config.node.name,
                directory=gateway.directory,
                keyring=gateway.credentials.keyring,
                certificates=self._certificates,
            )
        )

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
        await self._close_gateway()
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
    """The only process, or the first worker: the one that runs the periodic loops."""
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
    # A withdrawal is kept for the retention of the profiles that decided it.
    hold_cutoffs = {
        seconds: _cutoff(timedelta(seconds=seconds)) for seconds in tx.hold_retentions()
    }
    counts = tx.purge(cutoff, hold_cutoffs)
    if failed_cutoff is not None:
        counts["failed_envelopes"] = tx.purge_failed(failed_cutoff)
    return counts


def _cutoff(age: timedelta) -> str:
    return format_timestamp(datetime.now(UTC) - age)


async def purge_loop(
    db: Store,
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


async def check_node_keys(db: Store, config: Config) -> None:
    """Every process of a node (replicas on one database) seals with the same storage key
    and signs the audit trail with the same audit key: one that does not would write what
    the others cannot open, or break the chain. The first start records both keys'
    fingerprints; a process with other keys stops before it writes anything."""
    storage = config.storage

    def write(tx: Tx) -> list[str]:
        stamp = now_text()
        wrong = []
        sealing = tx.sealer.digest(b"travelgate storage key fingerprint")
        if tx.node_key("storage", sealing, stamp=stamp) != sealing:
            wrong.append(f"[storage] key_file {storage.key_file}")
        signing = tx.audit_key.public_key_text
        if tx.node_key("audit", signing, stamp=stamp) != signing:
            wrong.append(f"[storage] audit_key_file {storage.audit_key_file}")
        return wrong

    wrong = await db.write(write)
    if wrong:
        raise ConfigError(
            f"{' and '.join(wrong)}: not the key this database was first used with; every "
            "process on one database needs the same key files (copy them from the first)"
        )


async def record_startup(db: Store, config: Config) -> None:
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
        "directory_gds": config.directory.gds or None,
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


def _public_url(host: str, port: int, scheme: str = "https") -> str:
    """Where peers reach our TRP server when `[trp] public_url` is not set (and, over
    http, the sunrise pages when `[email] public_url` is not)."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding it
        host = "localhost"
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def _read_text(path: Any) -> str:
    try:
        return str(path.read_text()) if path is not None else ""
    except OSError:
        return ""


def gds_source(config: Config, credentials: Credentials) -> GdsDirectory | None:
    """The TRISA GDS behind peers.toml, when `[directory] gds` names one."""
    settings = config.directory
    if not settings.gds:
        return None
    return GdsDirectory(
        gds_client(config, credentials),
        ttl=settings.gds_ttl.total_seconds(),
        not_found_ttl=settings.gds_not_found_ttl.total_seconds(),
    )


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
        return Node(config, worker=worker)
    from travelgate.robots import RobotDecider, broken_behaviour

    decider = RobotDecider(robot, delay)
    reply_hook, errors_as_status = broken_behaviour(robot)
    return Node(
        config,
        decider=decider,
        reply_hook=reply_hook,
        errors_as_status=errors_as_status,
        on_open=decider.bind,
    )
