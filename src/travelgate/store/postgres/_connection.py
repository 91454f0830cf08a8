"""The PostgreSQL side of the connection seam: the operation modules' portable SQL on psycopg.

Only the placeholders differ: `?` becomes `%s` and `:name` becomes `%(name)s` (a literal `%`
is doubled), outside quoted text. Parameters are bound client-side (psycopg's ClientCursor,
quoted by libpq) so that they are typed from where they stand, as SQLite types them: a
`? IS NULL` needs no cast. Rows answer by position and by column name, like `sqlite3.Row`;
`bytea` comes back as `bytes`, the same as a SQLite BLOB.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
from psycopg.rows import RowMaker

from travelgate.store._connection import Cursor


class Row(tuple[Any, ...]):
    """A result row readable by index or by column name (the first column of that name)."""

    _names: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self._names[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self._names)


def row_factory(cursor: psycopg.Cursor[Any]) -> RowMaker[Row]:
    names: dict[str, int] = {}
    for index, column in enumerate(cursor.description or ()):
        names.setdefault(column.name, index)

    def make(values: Sequence[Any]) -> Row:
        return Row(values, names)

    return make


@functools.lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """The statement with psycopg's placeholders for SQLite's."""
    out: list[str] = []
    quote: str | None = None
    index = 0
    while index < len(sql):
        char = sql[index]
        if quote is not None:
            out.append("%%" if char == "%" else char)
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        elif char == "%":
            out.append("%%")
        elif char == ":" and sql[index + 1 : index + 2] == ":":
            out.append("::")
            index += 1
        elif char == ":" and (
            sql[index + 1 : index + 2].isalpha() or sql[index + 1 : index + 2] == "_"
        ):
            end = index + 1
            while end < len(sql) and (sql[end].isalnum() or sql[end] == "_"):
                end += 1
            out.append(f"%({sql[index + 1 : end]})s")
            index = end
            continue
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _starts_name(char: str) -> bool:
    return char.isalpha() or char == "_"


class PostgresConnection:
    """The `Connection` a `Tx` gets on PostgreSQL: one pooled psycopg connection, inside the
    transaction the store opened on it."""

    def __init__(self, connection: psycopg.Connection[Row]) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = (), /) -> Cursor:
        cursor = self._connection.cursor()
        cursor.execute(translate(sql), _params(parameters))
        return _Cursor(cursor)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor:
        cursor = self._connection.cursor()
        rows = [_params(row) for row in parameters]
        if rows:
            cursor.executemany(translate(sql), rows)
        return _Cursor(cursor)


def _params(parameters: Sequence[Any] | Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
    if isinstance(parameters, Mapping):
        return parameters
    return tuple(parameters)


class _Cursor:
    """A psycopg cursor that answers like sqlite3's: nothing to fetch is no row, not an error."""

    def __init__(self, cursor: psycopg.Cursor[Row]) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def fetchone(self) -> Row | None:
        if self._cursor.description is None:
            return None
        return self._cursor.fetchone()

    def fetchall(self) -> list[Row]:
        if self._cursor.description is None:
            return []
        return self._cursor.fetchall()

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())
