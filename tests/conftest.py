"""Shared pytest fixtures: the vendored vectors and freshly generated RSA keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from support.browser import browser  # the system-Chromium fixture for page tests
from support.paths import VECTORS

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
