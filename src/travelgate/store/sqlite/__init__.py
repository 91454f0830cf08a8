"""The SQLite backend: one file in WAL mode, one connection thread, `PRAGMA user_version`."""

from travelgate.store.sqlite._database import SqliteStore

__all__ = ["SqliteStore"]
