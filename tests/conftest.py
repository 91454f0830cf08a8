"""Shared pytest fixtures: the vendored vectors and freshly generated RSA keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from support.browser import browser  # the system-Chromium fixture for page tests
from support.paths import VECTORS
from support.postgres import PostgresServer, unavailable
from support.stores import StoreFactory

__all__ = ["browser"]


@pytest.fixture(scope="session")
def vectors() -> Path:
    """Root of tests/vectors (copies of the TRISA reference vectors, MIT licensed)."""
    return VECTORS


@pytest.fixture(scope="session")
def rsa4096_pair() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    """Two fresh RSA-4096 keys (a recipient and a stranger), made once per test run."""
    return (
        rsa.generate_private_key(public_exponent=65537, key_size=4096),
        rsa.generate_private_key(public_exponent=65537, key_size=4096),
    )


# -- stores on both backends ----------------------------------------------------------------


def pytest_report_header() -> str:
    reason = unavailable()
    return reason or "PostgreSQL tests: on (a throwaway server, or TRAVELGATE_TEST_POSTGRES)"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server; the test is skipped (one reason) when there is none."""
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def stores(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[StoreFactory]:
    """Opens stores of the test's backend (a test using it runs once per backend)."""
    server = request.getfixturevalue("postgres_server") if backend == "postgres" else None
    factory = StoreFactory(backend, tmp_path, server)
    try:
        yield factory
    finally:
        await factory.close_all()
