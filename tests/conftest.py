"""Shared pytest fixtures: paths to the vendored vectors."""

from __future__ import annotations

from pathlib import Path

import pytest

VECTORS = Path(__file__).parent / "vectors"


@pytest.fixture(scope="session")
def vectors() -> Path:
    """Root of tests/vectors (copies of the TRISA reference vectors, MIT licensed)."""
    return VECTORS
