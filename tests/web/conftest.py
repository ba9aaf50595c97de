"""One headless Chromium (Debian's) for every browser test of the session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Skipped locally when Chromium is missing; required when ASSAY_REQUIRE_SERVICES=1."""
    if not CHROMIUM.exists():
        message = f"browser tests need Chromium at {CHROMIUM}: apt-get install -y chromium"
        if os.environ.get("ASSAY_REQUIRE_SERVICES") == "1":
            pytest.fail(message + " (required: ASSAY_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
