"""The PostgreSQL backend: psycopg 3, pooled connections in worker threads, LISTEN/NOTIFY."""

from travelgate.store.postgres._database import PostgresStore

__all__ = ["PostgresStore"]
