"""Integration fixtures: a session test PKI and clusters of real nodes on port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.nodes import Cluster, TestPki
from support.replicas import replica_database

__all__ = ["replica_database"]  # a fixture: the database the replicas of a test share


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
async def cluster(
    test_pki: TestPki, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Cluster]:
    """Nodes on SQLite files; on PostgreSQL too in a module marked `BOTH_BACKENDS`."""
    database_url = None
    if getattr(request, "param", "sqlite") == "postgres":
        database_url = request.getfixturevalue("postgres_server").database
    nodes = Cluster(test_pki, tmp_path, database_url)
    try:
        yield nodes
    finally:
        await nodes.stop()
