"""Real Chromium for page tests: Debian's browser driven by Playwright's async API.

Never a downloaded browser: `chromium_path()` finds the system one (TRAVELGATE_TEST_CHROMIUM,
else /usr/bin/chromium, else `chromium` on PATH), and the session-scoped `browser`
fixture skips with one line when there is none. The async API is the only one that runs
beside the in-process servers on pytest-asyncio's one session loop.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

DEBIAN_CHROMIUM = "/usr/bin/chromium"


def chromium_path() -> str | None:
    """Where the system Chromium is, or None."""
    chosen = os.environ.get("TRAVELGATE_TEST_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    if Path(DEBIAN_CHROMIUM).is_file():
        return DEBIAN_CHROMIUM
    return shutil.which("chromium")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the whole session (each test opens its own context)."""
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium not found: install Debian's chromium or set TRAVELGATE_TEST_CHROMIUM")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=path, headless=True)
        try:
            yield launched
        finally:
            await launched.close()
