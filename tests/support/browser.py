"""A real browser for page tests: Playwright's async API driving Debian's Chromium.

`chromium_path()` finds the browser (TRAVELGATE_TEST_CHROMIUM, else /usr/bin/chromium, else
`chromium` on PATH); the session-scoped `browser` fixture launches it headless once and
skips, in one line, where there is none. No browser is ever downloaded.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser


def chromium_path() -> str | None:
    configured = os.environ.get("TRAVELGATE_TEST_CHROMIUM")
    if configured:
        return configured
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium (install Debian's chromium or set TRAVELGATE_TEST_CHROMIUM)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(headless=True, executable_path=path)
        try:
            yield launched
        finally:
            await launched.close()
