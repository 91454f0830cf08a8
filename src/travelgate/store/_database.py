"""The SQLite database: one connection owned by one worker thread, migrations, retries.

Every read or write is a plain function of a `Tx` run in that thread, so a unit of work
is one hop off the event loop and one SQLite transaction: either all of its rows land
or none do. WAL mode lets a second process (the CLI) use the
same file while `travelgate serve` runs.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from travelgate.audit._key import AuditKey
from travelgate.errors import StoreError, WriteConflictError
from travelgate.store._clock import now_text
from travelgate.store._schema import AUDIT_CHAIN_MIGRATION, MIGRATIONS
from travelgate.store._sealer import Sealer
from travelgate.store._tx import Tx

T = TypeVar("T")

_BUSY_TIMEOUT_MS = 10_000
# Each retry runs after another process committed a change to the same row; more than a
# few in a row means something keeps changing it, which the caller should hear about.
_CONFLICT_RETRIES = 4


class Database:
    """Async facade over a thread-confined sqlite3 connection."""

    def __init__(self, path: Path, sealer: Sealer, audit_key: AuditKey | None = None) -> None:
        """`audit_key` signs the audit trail; a node always passes its own (see
        `open_database`). Without one, a key nobody keeps is made: fine for tests, but
        `audit verify` will not accept what it signed."""
        self.path = path
        self._sealer = sealer
        self.audit_key = audit_key or AuditKey.generate()
        # Called (on the database thread) after a commit that enqueued outbox rows.
        self.on_enqueue: Callable[[], None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._connection: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None

    async def open(self) -> None:
        await self._submit(self._connect)

    async def close(self) -> None:
        if self._connection is not None:
            await self._submit(self._disconnect)
        self._executor.shutdown(wait=True)

    async def read(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in a read transaction."""
        return await self._submit(lambda: self._run(work, write=False))

    async def write(self, work: Callable[[Tx], T]) -> T:
        """Run `work` in one write transaction, rolled back if it raises.

        A unit of work that finds a row changed under it by another process (a version
        check fails: WriteConflictError) is run again from the start, on what that process
        committed, so the loser of a race answers with the winner's result."""
        for _ in range(_CONFLICT_RETRIES):
            try:
                return await self._submit(lambda: self._run(work, write=True))
            except WriteConflictError:
                continue
        return await self._submit(lambda: self._run(work, write=True))

    async def _submit(self, call: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, call)

    def _connect(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _create_private(self.path)
            connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=True, timeout=30
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from None
        connection.row_factory = sqlite3.Row
        connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        try:
            connection.execute("PRAGMA journal_mode = WAL")
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise StoreError(f"{self.path} is not a travelgate database: {exc}") from None
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        self._connection = connection
        self._migrate(connection)

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _migrate(self, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"{self.path} was written by a newer travelgate (schema {version})"
                )
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _statements(script):
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {number}")
            chain_at = MIGRATIONS.index(AUDIT_CHAIN_MIGRATION) + 1
            if version < chain_at <= len(MIGRATIONS):
                Tx(connection, self._sealer, self.audit_key).chain_legacy_audit(now_text())
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

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
