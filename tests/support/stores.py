"""Stores for tests on either backend: the same calls open a SQLite file or a PostgreSQL
database, so one store suite runs on both (the `stores` fixture, ids sqlite / postgres)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from support.postgres import PostgresServer
from travelgate.audit._key import AuditKey
from travelgate.store import Sealer, SqliteStore, Store
from travelgate.store.postgres._connection import translate

KEY = b"k" * 32

# `pytestmark = BOTH_BACKENDS` in a service suite runs each of its tests on a cluster of
# SQLite nodes and on one of PostgreSQL nodes (ids sqlite / postgres).
BOTH_BACKENDS = pytest.mark.parametrize("cluster", ["sqlite", "postgres"], indirect=True)


class StoreFactory:
    """Opens named stores of one backend; a name means the same database all test long."""

    def __init__(self, backend: str, folder: Path, server: PostgresServer | None) -> None:
        self.backend = backend
        self.folder = folder
        self._server = server
        self._urls: dict[str, str] = {}
        self._opened: list[Store] = []

    def location(self, name: str = "a") -> str:
        """The database behind `name`: a file path, or a postgresql:// URL."""
        if self._server is None:
            return str(self.folder / f"{name}.db")
        if name not in self._urls:
            self._urls[name] = self._server.database()
        return self._urls[name]

    def make(self, name: str = "a", key: bytes = KEY, audit_key: AuditKey | None = None) -> Store:
        """A store, not yet open."""
        store: Store
        if self._server is None:
            store = SqliteStore(Path(self.location(name)), Sealer(key), audit_key)
        else:
            from travelgate.store.postgres import PostgresStore

            store = PostgresStore(self.location(name), Sealer(key), audit_key, pool_size=4)
        self._opened.append(store)
        return store

    async def open(
        self, name: str = "a", key: bytes = KEY, audit_key: AuditKey | None = None
    ) -> Store:
        store = self.make(name, key, audit_key)
        await store.open()
        return store

    def sql(
        self, name: str, statement: str, parameters: tuple[object, ...] = ()
    ) -> list[tuple[Any, ...]]:
        """Run one statement on the database directly, beside the store (as someone with
        the disk or a psql prompt would): to look at bytes at rest, or to age rows."""
        return beside(self.location(name), statement, parameters)

    async def close_all(self) -> None:
        for store in self._opened:
            await store.close()


def beside(
    location: str, statement: str, parameters: tuple[object, ...] = ()
) -> list[tuple[Any, ...]]:
    """One statement on a store's database (`Store.where`: a SQLite file or a PostgreSQL URL)
    over a connection of its own, committed at once: what a person with the disk or a psql
    prompt could do, never part of a unit of work."""
    if "://" not in location:
        with contextlib.closing(sqlite3.connect(location)) as connection:
            rows = connection.execute(statement, parameters).fetchall()
            connection.commit()
            return [tuple(row) for row in rows]
    with psycopg.connect(location, autocommit=True) as connection:
        cursor = connection.execute(translate(statement), parameters)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
