"""The SQLite store: one connection owned by one worker thread, migrations, retries.

Every read or write is a plain function of a `Tx` run in that thread, so a unit of work
is one hop off the event loop and one SQLite transaction: either all of its rows land
or none do. WAL mode lets other processes (the CLI, more `travelgate serve` replicas) use
the same file; their commits are noticed by a cheap poll of `PRAGMA data_version`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from travelgate.audit._key import AuditKey
from travelgate.errors import StoreError, WriteConflictError
from travelgate.store._clock import now_text
from travelgate.store._connection import Dialect
from travelgate.store._schema import AUDIT_CHAIN_MIGRATION, MIGRATIONS
from travelgate.store._sealer import Sealer
from travelgate.store._store import CONFLICT_RETRIES, ChangeListener, SchemaStatus
from travelgate.store._tx import Tx

T = TypeVar("T")

_BUSY_TIMEOUT = timedelta(seconds=10)
# How often commits of other processes are looked for: a long poll on one replica hears of
# a change made on another within this (plus one read).
CHANGE_POLL_SECONDS = 0.2


class SqliteStore:
    """The `Store` of a SQLite file: async facade over a thread-confined connection."""

    dialect: Dialect = "sqlite"

    def __init__(
        self,
        path: Path,
        sealer: Sealer,
        audit_key: AuditKey | None = None,
        *,
        statement_timeout: timedelta | None = None,
    ) -> None:
        """`audit_key` signs the audit trail; a node always passes its own (see
        `database_for`). Without one, a key nobody keeps is made: fine for tests, but
        `audit verify` will not accept what it signed. `statement_timeout` bounds how long
        a unit of work waits for another process's write lock."""
        self.path = path
        self._sealer = sealer
        self.audit_key = audit_key or AuditKey.generate()
        self._busy_ms = int((statement_timeout or _BUSY_TIMEOUT).total_seconds() * 1000)
        # Called (on the database thread) after a commit that enqueued outbox rows.
        self.on_enqueue: Callable[[], None] | None = None
        self._listeners: list[ChangeListener] = []
        self._watcher: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._connection: sqlite3.Connection | None = None
        self._applied: list[int] = []

    @property
    def where(self) -> str:
        return str(self.path)

    async def open(self) -> None:
        """Open the file (created 0600) and bring its schema up to date."""
        await self._submit(self._connect)

    async def migrate(self) -> list[int]:
        """Open the database (if not open) and return the migrations this opening applied."""
        if self._connection is None:
            await self.open()
        return list(self._applied)

    async def status(self) -> SchemaStatus:
        """The schema version of the file, without changing anything."""
        current = 0
        if self.path.exists():
            current = await self._submit(self._read_version)
        return SchemaStatus("sqlite", self.where, current, len(MIGRATIONS))

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self._connection is not None:
            await self._submit(self._disconnect)
        # Joining the worker thread blocks: do it off the event loop.
        await asyncio.to_thread(self._executor.shutdown, wait=True)

    async def read(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in a read transaction."""
        return await self._submit(lambda: self._run(work, write=False))

    async def write(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in one write transaction, rolled back if it raises.

        A unit of work that finds a row changed under it by another process (a version
        check fails: WriteConflictError) is run again from the start, on what that process
        committed, so the loser of a race answers with the winner's result."""
        for _ in range(CONFLICT_RETRIES):
            try:
                return await self._submit(lambda: self._run(work, write=True))
            except WriteConflictError:
                continue
        return await self._submit(lambda: self._run(work, write=True))

    def subscribe(self, listener: ChangeListener) -> None:
        """Tell `listener` of changes after they commit; from the first listener on, also
        look for commits of other processes every `CHANGE_POLL_SECONDS`."""
        self._listeners.append(listener)
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch_others())

    async def _watch_others(self) -> None:
        # `PRAGMA data_version` changes when another connection committed to the file (never
        # for this connection's own commits, which `_run` reports with their subjects).
        seen = await self._submit(self._data_version)
        while True:
            await asyncio.sleep(CHANGE_POLL_SECONDS)
            try:
                version = await self._submit(self._data_version)
            except (StoreError, sqlite3.Error, RuntimeError):
                continue
            if version != seen:
                seen = version
                self._tell(None)

    def _data_version(self) -> int:
        connection = self._connection
        if connection is None:
            raise StoreError("database is closed")
        return int(connection.execute("PRAGMA data_version").fetchone()[0])

    def _tell(self, subjects: frozenset[str] | None) -> None:
        for listener in self._listeners:
            listener(subjects)

    async def _submit(self, call: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, call)

    def _open_file(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _create_private(self.path)
            connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=True, timeout=30
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from None
        connection.row_factory = sqlite3.Row
        connection.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        try:
            connection.execute("PRAGMA journal_mode = WAL")
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise StoreError(f"{self.path} is not a travelgate database: {exc}") from None
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        return connection

    def _read_version(self) -> int:
        connection = self._open_file()
        try:
            return int(connection.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a travelgate database: {exc}") from None
        finally:
            connection.close()

    def _connect(self) -> None:
        connection = self._open_file()
        try:
            self._applied = self._migrate(connection)
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _migrate(self, connection: sqlite3.Connection) -> list[int]:
        try:
            if connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS):
                return []  # current: no need to wait for another process's write lock
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"database {self.path} is unavailable: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a travelgate database: {exc}") from None
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"{self.path} has schema version {version}, newer than this travelgate "
                    f"knows ({len(MIGRATIONS)}): run the newer travelgate that wrote it"
                )
            applied = []
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _statements(script):
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {number}")
                applied.append(number)
            chain_at = MIGRATIONS.index(AUDIT_CHAIN_MIGRATION) + 1
            if version < chain_at <= len(MIGRATIONS):
                Tx(connection, self._sealer, self.audit_key).chain_legacy_audit(now_text())
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return applied

    def _run(self, work: Callable[[Tx], T], *, write: bool) -> T:
        connection = self._connection
        if connection is None:
            raise StoreError("database is closed")
        try:
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            tx = Tx(connection, self._sealer, self.audit_key)
            try:
                result = work(tx)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"database {self.path.name} is unavailable: {exc}") from None
        if tx.enqueued and self.on_enqueue is not None:
            self.on_enqueue()
        if tx.changes:
            self._tell(frozenset(tx.changes))
        return result


def _statements(script: str) -> list[str]:
    """Split a migration into statements, line by line, as SQLite's own parser sees them."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and any(
        part.strip() and not part.strip().startswith("--") for part in buffer.splitlines()
    ):
        raise StoreError(f"migration ends with an incomplete statement: {buffer.strip()[:80]}")
    return statements


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite opens it.

    SQLite gives the `-wal` and `-shm` files the permissions of the database file, so this
    one mode covers all three. An existing file that others may read is tightened too.
    """
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
