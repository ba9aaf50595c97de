"""The compare page in a real browser: from an evaluation, pick another, read the verdict."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.api.compare_helpers import leaky_and_careful
from tests.factories import RunningAssay
from tests.fakes.openai_server import FakeLLM

pytestmark = [pytest.mark.timeout(180), pytest.mark.asyncio(loop_scope="session")]


async def test_a_user_compares_two_evaluations_from_an_evaluation_page(
    browser: Any, assay: RunningAssay, fake_llm: FakeLLM, tmp_path: Path
):
    key = await assay.key()
    async with assay.client(key) as client:
        leaky, careful = await leaky_and_careful(client, fake_llm)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        await page.goto(f"{assay.url}/ui/evaluations/{leaky}")
        await page.get_by_label("API key").fill(key)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(re.compile(rf".*/ui/evaluations/{leaky}$"))

        await page.get_by_role("link", name="Compare with…").click()
        await page.wait_for_url(re.compile(r".*/ui/compare\?a="))
        await page.get_by_label("Candidate").select_option(careful)
        await page.get_by_role("button", name="Compare").click()
        await page.wait_for_url(re.compile(rf".*/ui/compare\?a={leaky}&b={careful}$"))

        assert await page.inner_text("#verdict") == "better"
        security = page.locator("tr[data-group=security]")
        assert "+100.0 pp" in await security.inner_text()
        assert "better" in await security.inner_text()
        assert "no significant difference" in await page.inner_text("tr[data-group=reliability]")
        assert "(8 fixed, 0 broken)" in await page.inner_text("tr[data-group=overall]")
        assert await page.locator("tr[data-change=fixed]").count() == 8
        chart = page.locator("svg.chart[role=img]")
        assert await chart.count() == 1
        assert "95% intervals" in (await chart.get_attribute("aria-label") or "")
        await page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)

        await page.get_by_role("link", name="Swap baseline and candidate").click()
        await page.wait_for_url(re.compile(rf".*/ui/compare\?a={careful}&b={leaky}$"))
        assert await page.inner_text("#verdict") == "worse"

        # a changed item links to its trace (here the baseline is the careful run)
        await page.locator("tr[data-change=broken] a").last.click()
        await page.wait_for_url(re.compile(rf".*/ui/evaluations/{leaky}/items/.+"))

        other = await assay.key(org="other-org")
        stranger = await browser.new_context()
        other_page = await stranger.new_page()
        await other_page.goto(f"{assay.url}/ui/login")
        await other_page.get_by_label("API key").fill(other)
        await other_page.get_by_role("button", name="Sign in").click()
        await other_page.wait_for_url(re.compile(r".*/ui/evaluations$"))
        answer = await other_page.goto(f"{assay.url}/ui/compare?a={leaky}&b={careful}")
        assert answer is not None and answer.status == 404
        assert "Not found" in await other_page.inner_text("main")
        await stranger.close()
    finally:
        await context.close()
