"""`travelgate serve --workers N`: the parent that runs N node processes on shared sockets.

One Python process is one core's worth of event loop; a node that must use every core runs
several. The parent does the once-only startup work (migrations, key files, customer seeds,
screening lists, the startup audit record) and then starts N workers, each `travelgate
serve` again with a hidden `--worker-index`. Every worker listens on the same TRISA, API
and TRP ports with SO_REUSEPORT, so the kernel spreads connections across them; the
database (SQLite in WAL mode, or PostgreSQL) settles every race between them.

Ports: the parent binds each listen address itself first, with SO_REUSEPORT, and keeps the
socket bound but never listening (the kernel only hands connections to listening sockets).
That resolves a port 0 to one port all workers share, refuses an address in use before
any worker starts, and keeps the port ours while a worker restarts.

Signals: SIGTERM or SIGINT to the parent is passed on as SIGTERM to each worker, which
stops accepting, finishes its in-flight calls within `[trisa] grace_seconds` and flushes;
the parent exits 0 once all have exited cleanly, 1 if one had to be killed after the grace.
Workers run in their own session, so a terminal's Ctrl-C reaches only the parent; a worker
whose parent has vanished (its stdin pipe closes) drains and exits by itself.

A worker that dies on its own is logged and restarted after a backoff (1 s, doubling to
30 s); one that keeps dying within a minute of its start, five times in a row, has a fault
a restart will not fix: the parent drains the others and exits 1.

Only worker 0 runs the background loops (outbox, expiry, alerts, retention), so each
outbox row is sent by one process; the others serve calls only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from travelgate.config import Config, parse_listen
from travelgate.errors import ConfigError

log = structlog.get_logger("travelgate.supervisor")

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
# A worker that ran this long before it died was healthy: its next death starts afresh.
HEALTHY_AFTER = 60.0
MAX_QUICK_DEATHS = 5
READY_TIMEOUT = 120.0
# After the grace, the time a worker gets to close its database and exit.
CLOSE_MARGIN = 5.0


def cores() -> int:
    """The cores this process may run on (its CPU affinity), what `--workers 0` means."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def format_listen(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class Reservation:
    """A listen address bound by the parent with SO_REUSEPORT, never listening."""

    setting: str  # "[node] trisa_listen": how an error names it
    listen: str  # host:port with the port resolved
    sock: socket.socket


def reserve(setting: str, listen: str) -> Reservation:
    """Bind `listen` for the workers to share; ConfigError when it cannot be bound."""
    from travelgate.node import listen_problem

    host, port = parse_listen(listen)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"{setting} {listen}: cannot resolve {host!r} ({exc.strerror})") from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise ConfigError(f"{setting} {listen}: {listen_problem(listen)}") from None
    return Reservation(setting, format_listen(host, sock.getsockname()[1]), sock)


def reserve_listeners(config: Config) -> list[Reservation]:
    """The TRISA, API (and TRP, when enabled) addresses, each bound once by the parent."""
    wanted = [
        ("[node] trisa_listen", config.node.trisa_listen),
        ("[node] api_listen", config.node.api_listen),
    ]
    if config.trp.enabled:
        wanted.append(("[trp] listen", config.trp.listen))
    reserved: list[Reservation] = []
    try:
        for setting, listen in wanted:
            reserved.append(reserve(setting, listen))
    except ConfigError:
        for reservation in reserved:
            reservation.sock.close()
        raise
    return reserved


_LISTEN_VARIABLES = {
    "[node] trisa_listen": "TRAVELGATE_NODE_TRISA_LISTEN",
    "[node] api_listen": "TRAVELGATE_NODE_API_LISTEN",
    "[trp] listen": "TRAVELGATE_TRP_LISTEN",
}


def worker_environment(reserved: Sequence[Reservation]) -> dict[str, str]:
    """The environment of each worker: ours, with every listen address's port resolved
    (a TRAVELGATE_ variable wins over the config file)."""
    env = dict(os.environ)
    for reservation in reserved:
        env[_LISTEN_VARIABLES[reservation.setting]] = reservation.listen
    return env


async def prepare(config: Config) -> None:
    """The once-only startup work, before any worker starts: migrations, key files,
    customer seeds, screening lists, and the startup audit record."""
    from travelgate.node import Gateway, check_node_keys, record_startup

    gateway = await Gateway.open(config)
    try:
        await check_node_keys(gateway.db, config)
        await record_startup(gateway.db, config)
    finally:
        await gateway.close()


@dataclass
class _Worker:
    """One slot of the pool, and the process currently filling it."""

    index: int
    process: asyncio.subprocess.Process | None = None
    started: float = 0.0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    report: dict[str, object] = field(default_factory=dict)
    quick_deaths: int = 0


class Supervisor:
    """Starts the workers, restarts one that dies, drains them all on a signal."""

    def __init__(self, config: Config, count: int, command: Sequence[str]) -> None:
        self.config = config
        self.command = list(command)
        self.workers = [_Worker(index) for index in range(count)]
        self.grace = config.trisa.grace_seconds
        self._stopping = asyncio.Event()
        self._failed = asyncio.Event()
        self._env: dict[str, str] = {}
        self._serving = False
        self._readers: set[asyncio.Task[None]] = set()

    async def run(self, reserved: Sequence[Reservation]) -> int:
        self._env = worker_environment(reserved)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stopping.set)
        watchers = [asyncio.create_task(self._watch(worker)) for worker in self.workers]
        try:
            if await self._all_ready():
                self._serving = True
                self._log_started(reserved)
                await _first_of(self._stopping, self._failed)
        finally:
            self._stopping.set()
            clean = await self._drain()
            for watcher in watchers:
                watcher.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
        if self._failed.is_set() or not clean:
            return 1
        log.info("node stopped", node=self.config.node.name, workers=len(self.workers))
        return 0

    async def _all_ready(self) -> bool:
        """True when every worker said it serves; False if one failed or a signal came."""
        everyone = asyncio.gather(*(worker.ready.wait() for worker in self.workers))
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                return await _first_of(self._stopping, self._failed, also=everyone)
        except TimeoutError:
            log.error("workers did not start", seconds=READY_TIMEOUT)
            self._failed.set()
            return False

    def _log_started(self, reserved: Sequence[Reservation]) -> None:
        ports = {r.setting: parse_listen(r.listen)[1] for r in reserved}
        log.info(
            "node started",
            node=self.config.node.name,
            trisa_port=ports["[node] trisa_listen"],
            trp_port=ports.get("[trp] listen"),
            api_port=ports["[node] api_listen"],
            database=str(self.config.node.database),
            workers=len(self.workers),
            pids=[worker.report.get("pid") for worker in self.workers],
        )

    async def _watch(self, worker: _Worker) -> None:
        """Keep one worker running until the node stops; back off when it keeps dying."""
        while not self._stopping.is_set():
            process = await self._spawn(worker)
            code = await process.wait()
            if self._stopping.is_set():
                return
            lived = time.monotonic() - worker.started
            worker.quick_deaths = worker.quick_deaths + 1 if lived < HEALTHY_AFTER else 1
            if not self._serving:
                # Nothing served yet: a worker that cannot start is a node that cannot.
                log.error("worker failed to start", worker=worker.index, exit_code=code)
                self._failed.set()
                return
            if worker.quick_deaths >= MAX_QUICK_DEATHS:
                log.error(
                    "worker keeps dying: stopping the node",
                    worker=worker.index,
                    exit_code=code,
                    deaths=worker.quick_deaths,
                )
                self._failed.set()
                return
            delay = min(MAX_BACKOFF, FIRST_BACKOFF * 2.0 ** (worker.quick_deaths - 1))
            log.error(
                "worker died: restarting",
                worker=worker.index,
                pid=process.pid,
                exit_code=code,
                seconds_alive=round(lived, 1),
                restart_in=delay,
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stopping.wait()

    async def _spawn(self, worker: _Worker) -> asyncio.subprocess.Process:
        restart = worker.process is not None
        worker.ready.clear()
        worker.report = {}
        worker.process = await asyncio.create_subprocess_exec(
            *self.command,
            "--worker-index",
            str(worker.index),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=self._env,
            start_new_session=True,
        )
        worker.started = time.monotonic()
        reader = asyncio.create_task(self._read_reports(worker, worker.process, restart))
        self._readers.add(reader)
        reader.add_done_callback(self._readers.discard)
        return worker.process

    async def _read_reports(
        self, worker: _Worker, process: asyncio.subprocess.Process, restart: bool
    ) -> None:
        """The worker's stdout: one JSON line when it serves; the rest is drained."""
        assert process.stdout is not None
        async for line in process.stdout:
            try:
                report = json.loads(line)
            except ValueError:
                continue
            if isinstance(report, dict) and report.get("ready"):
                worker.report = report
                worker.ready.set()
                if restart:
                    log.info("worker restarted", worker=worker.index, pid=process.pid)

    async def _drain(self) -> bool:
        """SIGTERM to every worker; kill one still running after the grace. True if clean."""
        running = [w for w in self.workers if w.process and w.process.returncode is None]
        for worker in running:
            assert worker.process is not None
            with contextlib.suppress(ProcessLookupError):
                worker.process.send_signal(signal.SIGTERM)
        clean = True
        deadline = time.monotonic() + self.grace + CLOSE_MARGIN
        for worker in running:
            process = worker.process
            assert process is not None
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    code = await process.wait()
            except TimeoutError:
                log.error("worker did not stop within the grace: killed", worker=worker.index)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
                clean = False
                continue
            # Signalled before it could install its handlers: it had nothing in flight.
            if code != 0 and not (code == -signal.SIGTERM and not worker.ready.is_set()):
                log.error("worker stopped with an error", worker=worker.index, exit_code=code)
                clean = False
        return clean


async def _first_of(*events: asyncio.Event, also: Awaitable[Any] | None = None) -> bool:
    """Wait until one of `events` is set or `also` is done; True when `also` finished first."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    finished = None if also is None else asyncio.ensure_future(also)
    pending = waiters + ([finished] if finished is not None else [])
    try:
        done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for future in pending:
            future.cancel()
    return finished is not None and finished in done


def worker_command(config_path: str | None) -> list[str]:
    """How the parent starts a worker: this Python, this travelgate, the same config."""
    command = [sys.executable, "-m", "travelgate.cli", "serve"]
    if config_path:
        command += ["--config", config_path]
    return command


def serve_workers(config: Config, count: int, config_path: str | None) -> int:
    """The parent's whole life: prepare once, reserve the ports, run and supervise."""
    asyncio.run(prepare(config))
    reserved = reserve_listeners(config)
    try:
        supervisor = Supervisor(config, count, worker_command(config_path))
        return asyncio.run(supervisor.run(reserved))
    finally:
        for reservation in reserved:
            reservation.sock.close()
