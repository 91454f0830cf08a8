"""What a unit of work may ask of its database connection: portable SQL, one text for both
backends.

SQL is written once, with `?` placeholders (or `:name` with a mapping), `ON CONFLICT`,
`RETURNING` and explicit integer id columns; SQLite runs it as it is, and the PostgreSQL
adapter (`store.postgres._connection`) rewrites only the placeholders. `Tx.dialect` names
the backend for the rare statement that must differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgres"]


class Row(Protocol):
    """One result row: by position or by column name."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the operation modules use: `?` placeholders (or `:name` with a mapping)."""

    def execute(
        self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = (), /
    ) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...
