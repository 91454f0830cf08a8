"""The PostgreSQL store: pooled psycopg connections, each unit of work in a worker thread.

The operation modules are synchronous closures over a `Tx`, so a unit of work runs in one of
`pool_size` threads on a connection of its own from the pool, as one transaction. Write
transactions take one transaction-scoped advisory lock first: writers are serialised across
every replica exactly as SQLite serialises them across processes, which the operations
(and the audit hash chain) were written against; reads run side by side. Migrations run
under an advisory lock too, so replicas that start together apply each migration once.
Committed changes reach the other replicas by LISTEN/NOTIFY (see `Tx.changed`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg
import psycopg_pool

from travelgate.audit._key import AuditKey
from travelgate.errors import StoreError, WriteConflictError
from travelgate.store._clock import now_text
from travelgate.store._connection import Dialect
from travelgate.store._schema import AUDIT_CHAIN_MIGRATION
from travelgate.store._schema import MIGRATIONS as SQLITE_MIGRATIONS
from travelgate.store._sealer import Sealer
from travelgate.store._store import CONFLICT_RETRIES, ChangeListener, SchemaStatus
from travelgate.store._tx import CHANGES_CHANNEL, Tx
from travelgate.store._url import redacted
from travelgate.store.postgres._connection import PostgresConnection, Row, row_factory
from travelgate.store.postgres._schema import MIGRATIONS

T = TypeVar("T")

# Advisory lock keys (any fixed 64-bit numbers, private to travelgate).
MIGRATION_LOCK = 0x7472_6176_656C_6D31  # "travelm1"
WRITE_LOCK = 0x7472_6176_656C_7731  # "travelw1"
CONNECT_TIMEOUT_SECONDS = 10
# How long a lost LISTEN connection waits before it connects again.
RELISTEN_SECONDS = 1.0


class PostgresStore:
    """The `Store` of a PostgreSQL database named by a postgresql:// URL."""

    dialect: Dialect = "postgres"

    def __init__(
        self,
        url: str,
        sealer: Sealer,
        audit_key: AuditKey | None = None,
        *,
        pool_size: int = 10,
        statement_timeout: timedelta | None = None,
    ) -> None:
        self.url = url
        self.where = redacted(url)
        self._sealer = sealer
        self.audit_key = audit_key or AuditKey.generate()
        self._pool_size = pool_size
        self._timeout_ms = int(statement_timeout.total_seconds() * 1000) if statement_timeout else 0
        self.on_enqueue: Callable[[], None] | None = None
        self._listeners: list[ChangeListener] = []
        self._listener_task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="postgres")
        self._pool: psycopg_pool.ConnectionPool[psycopg.Connection[Row]] | None = None
        self._applied: list[int] = []

    # -- life cycle ------------------------------------------------------------------------

    async def open(self) -> None:
        """Bring the schema up to date (once, whichever replica gets there first), then fill
        the pool."""
        self._applied = await self._submit(self._migrate)
        pool: psycopg_pool.ConnectionPool[psycopg.Connection[Row]] = psycopg_pool.ConnectionPool(
            self.url,
            min_size=1,
            max_size=self._pool_size,
            kwargs=self._connect_options(),
            connection_class=psycopg.Connection[Row],
            open=False,
            name="travelgate",
        )
        try:
            await self._submit(lambda: pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS))
        except psycopg_pool.PoolTimeout:
            raise StoreError(f"cannot connect to database {self.where}") from None
        self._pool = pool

    async def migrate(self) -> list[int]:
        if self._pool is None:
            await self.open()
        return list(self._applied)

    async def status(self) -> SchemaStatus:
        current = await self._submit(self._read_version)
        return SchemaStatus("postgres", self.where, current, len(MIGRATIONS))

    async def close(self) -> None:
        if self._listener_task is not None:
            self._listener_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener_task
            self._listener_task = None
        pool, self._pool = self._pool, None
        if pool is not None:
            await self._submit(pool.close)
        self._executor.shutdown(wait=True)

    # -- units of work ---------------------------------------------------------------------

    async def read(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in a read transaction."""
        return await self._submit(lambda: self._run(work, write=False))

    async def write(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in one write transaction, rolled back if it raises; run again from
        the start when a version check finds a row changed since it was read (see
        `SqliteStore.write`)."""
        for _ in range(CONFLICT_RETRIES):
            try:
                return await self._submit(lambda: self._run(work, write=True))
            except WriteConflictError:
                continue
        return await self._submit(lambda: self._run(work, write=True))

    def _run(self, work: Callable[[Tx], T], *, write: bool) -> T:
        pool = self._pool
        if pool is None:
            raise StoreError("database is closed")
        try:
            with pool.connection() as connection, connection.transaction():
                if write:
                    connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                tx = Tx(PostgresConnection(connection), self._sealer, self.audit_key, "postgres")
                result = work(tx)
        except psycopg.errors.QueryCanceled:
            raise StoreError(
                f"database {self.where}: a statement ran past statement_timeout"
            ) from None
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            raise StoreError(
                f"database {self.where} is unavailable: {_clean(exc, self.url)}"
            ) from None
        if tx.enqueued and self.on_enqueue is not None:
            self.on_enqueue()
        if tx.changes:
            self._tell(frozenset(tx.changes))
        return result

    async def _submit(self, call: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, call)

    # -- change notifications --------------------------------------------------------------

    def subscribe(self, listener: ChangeListener) -> None:
        """Tell `listener` of changes after they commit, here or on any other replica (a
        dedicated connection LISTENs for the NOTIFY that `Tx.changed` sends)."""
        self._listeners.append(listener)
        if self._listener_task is None:
            self._listener_task = asyncio.get_running_loop().create_task(self._listen())

    def _tell(self, subjects: frozenset[str] | None) -> None:
        for listener in self._listeners:
            listener(subjects)

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
                ) as connection:
                    await connection.execute(f"LISTEN {CHANGES_CHANNEL}")
                    # Whatever committed while no one listened: every waiter looks again.
                    self._tell(None)
                    async for notice in connection.notifies():
                        self._tell(frozenset({notice.payload}))
            except (psycopg.Error, OSError):
                await asyncio.sleep(RELISTEN_SECONDS)

    # -- schema ----------------------------------------------------------------------------

    def _connect_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "row_factory": row_factory,
            "cursor_factory": psycopg.ClientCursor,
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        }
        if self._timeout_ms:
            options["options"] = f"-c statement_timeout={self._timeout_ms}"
        return options

    def _connect(self) -> psycopg.Connection[Row]:
        try:
            return psycopg.Connection.connect(
                self.url,
                row_factory=row_factory,
                cursor_factory=psycopg.ClientCursor,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
            )
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to database {self.where}: {_clean(exc, self.url)}"
            ) from None

    def _read_version(self) -> int:
        with self._connect() as connection:
            row = connection.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
            if row is None or not row[0]:
                return 0
            row = connection.execute(
                "SELECT coalesce(max(version), 0) FROM schema_version"
            ).fetchone()
            return int(row[0]) if row is not None else 0

    def _migrate(self) -> list[int]:
        if len(MIGRATIONS) != len(SQLITE_MIGRATIONS):
            raise StoreError(
                f"this travelgate carries {len(SQLITE_MIGRATIONS)} SQLite migrations but "
                f"{len(MIGRATIONS)} PostgreSQL ones: a migration lacks its PostgreSQL twin"
            )
        applied: list[int] = []
        try:
            with self._connect() as connection, connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    "version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
                row = connection.execute(
                    "SELECT coalesce(max(version), 0) FROM schema_version"
                ).fetchone()
                version = int(row[0]) if row is not None else 0
                if version > len(MIGRATIONS):
                    raise StoreError(
                        f"{self.where} has schema version {version}, newer than this "
                        f"travelgate knows ({len(MIGRATIONS)}): run the newer travelgate "
                        "that wrote it"
                    )
                for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                    connection.execute(script)
                    connection.execute(
                        "INSERT INTO schema_version (version, applied_at) VALUES (%s, %s)",
                        (number, now_text()),
                    )
                    applied.append(number)
                chain_at = SQLITE_MIGRATIONS.index(AUDIT_CHAIN_MIGRATION) + 1
                if version < chain_at <= len(MIGRATIONS):
                    tx = Tx(
                        PostgresConnection(connection), self._sealer, self.audit_key, "postgres"
                    )
                    tx.chain_legacy_audit(now_text())
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot migrate database {self.where}: {_clean(exc, self.url)}"
            ) from None
        return applied


def _clean(error: BaseException, url: str) -> str:
    """An error's message, first line only and never with the URL's password in it."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    with contextlib.suppress(ValueError):
        password = urlsplit(url).password
        if password:
            text = text.replace(password, "***")
    return text
