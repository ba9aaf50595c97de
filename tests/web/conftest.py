"""One headless Chromium (Debian's) for every browser test of the session."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    """Skipped locally when Chromium is missing; required when ASSAY_REQUIRE_SERVICES=1.

    Playwright's async API on the session's event loop: browser tests are marked
    ``asyncio(loop_scope="session")``, and every other test keeps its own loop.
    """
    if not CHROMIUM.exists():
        message = f"browser tests need Chromium at {CHROMIUM}: apt-get install -y chromium"
        if os.environ.get("ASSAY_REQUIRE_SERVICES") == "1":
            pytest.fail(message + " (required: ASSAY_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()
