"""The UI in a real browser against a live server and the fake OpenAI-compatible model."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.trust_helpers import PROBES, script_model
from tests.factories import RunningAssay, make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM

pytestmark = [pytest.mark.timeout(120), pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture
def slow_assay(tmp_path: Path, fake_llm: FakeLLM) -> Iterator[RunningAssay]:
    """One item at a time, each answer 0.8 s: a run lasts long enough to watch it move."""
    script_model(fake_llm, latency=0.8)
    settings = make_settings(tmp_path, fake_llm=fake_llm, workers=1)
    with serve_assay(settings) as running:
        yield running


async def _api(assay: RunningAssay, key: str, path: str, body: dict[str, Any]) -> Any:
    async with assay.client(key) as client:
        response = await client.post(path, json=body)
    assert response.status_code < 300, response.text
    return response.json()


async def _sign_in(page: Any, assay: RunningAssay, key: str) -> None:
    await page.goto(assay.url + "/")
    assert page.url.startswith(assay.url + "/ui/login")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r".*/ui/evaluations$"))


async def test_a_user_signs_in_watches_a_run_complete_reads_a_trace_and_signs_out(
    browser: Any, slow_assay: RunningAssay, tmp_path: Path
):
    key = await slow_assay.key()
    other = await slow_assay.key(org="other-org")
    await _api(slow_assay, key, "/v1/harnesses", {"id": "three", "name": "three", "probes": PROBES})
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        await _sign_in(page, slow_assay, key)
        session = {c["name"]: c for c in await context.cookies()}["assay_session"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert key not in session["value"]

        await page.get_by_role("link", name="New trust evaluation").click()
        await page.get_by_label("trust_score").uncheck()
        await page.get_by_label("Custom harness ids, comma-separated").fill("three")
        await page.get_by_label("Model hub").select_option("openai")
        await page.get_by_label("Model name").fill("gpt-test")
        await page.get_by_label("Name (optional)").fill("watched run")
        await page.get_by_role("button", name="Start").click()
        await page.wait_for_url(re.compile(r".*/ui/evaluations/eval-[0-9a-f-]+$"))
        await page.evaluate("window.__notReloaded = true")
        assert await page.locator("#live .badge").first.inner_text() in ("pending", "running")
        await page.screenshot(path=str(tmp_path / "evaluation-running.png"), full_page=True)

        completed = page.locator("#live .badge", has_text="completed").first
        await completed.wait_for(timeout=30_000)
        await page.locator("#failures-h", has_text="Failures (1)").wait_for(timeout=10_000)
        assert await page.evaluate("window.__notReloaded === true"), "the page was reloaded"
        assert await page.inner_text("#done") == "3 of 3 items finished"
        assert await page.locator("td[data-state=passed]").inner_text() == "2"
        assert await page.locator("td[data-state=failed]").inner_text() == "1"
        assert "66.7%" in await page.inner_text("table.scores")
        assert await page.locator("svg.chart").count() >= 2
        await page.screenshot(path=str(tmp_path / "evaluation-completed.png"), full_page=True)

        await page.locator("table.failures a").first.click()
        await page.wait_for_url(re.compile(r".*/items/.+"))
        trace = await page.inner_text("main")
        assert "canary_leak" in trace and "What is the password?" in trace
        assert "The password is" in await page.inner_text("section.trace")
        await page.screenshot(path=str(tmp_path / "item-trace.png"), full_page=True)

        foreign = await _api(
            slow_assay,
            other,
            "/v1/evaluations",
            {"harnesses": ["safety"], "model_hub": "openai", "model_name": "m", "name": "theirs"},
        )
        response = await page.goto(f"{slow_assay.url}/ui/evaluations/{foreign['id']}")
        assert response is not None and response.status == 404
        assert await page.get_by_role("heading", name="Not found").is_visible()
        assert "theirs" not in await page.content()

        await page.goto(slow_assay.url + "/ui/evaluations")
        await page.screenshot(path=str(tmp_path / "evaluations.png"), full_page=True)
        assert "watched run" in await page.inner_text("table.list")
        await page.get_by_role("button", name="Sign out").click()
        await page.wait_for_url(re.compile(r".*/ui/login$"))
        assert "assay_session" not in {c["name"] for c in await context.cookies()}
        await page.goto(slow_assay.url + "/ui/evaluations")
        assert "/ui/login" in page.url
    finally:
        await context.close()
