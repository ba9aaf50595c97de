"""The UI in a real browser against a live server and the fake OpenAI-compatible model."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.trust_helpers import PROBES, script_model
from tests.factories import RunningAssay, make_key, make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def slow_assay(tmp_path: Path, fake_llm: FakeLLM) -> Any:
    """One item at a time, each answer 0.8 s: a run lasts long enough to watch it move."""
    script_model(fake_llm, latency=0.8)
    settings = make_settings(tmp_path, fake_llm=fake_llm, workers=1)
    with serve_assay(settings) as running:
        yield running


def _key(assay: RunningAssay, org: str = "default") -> str:
    """A new key, made in a thread: Playwright's sync API owns this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, make_key(assay.settings, org)).result()


def _api(assay: RunningAssay, key: str, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    response = httpx.request(method, assay.url + path, headers=headers, timeout=30, **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


def _sign_in(page: Any, assay: RunningAssay, key: str) -> None:
    page.goto(assay.url + "/")
    assert page.url.startswith(assay.url + "/ui/login")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/ui/evaluations$"))


def test_a_user_signs_in_watches_a_run_complete_reads_a_trace_and_signs_out(
    browser: Any, slow_assay: RunningAssay, tmp_path: Path
):
    key = _key(slow_assay)
    other = _key(slow_assay, org="other-org")
    _api(
        slow_assay,
        key,
        "POST",
        "/v1/harnesses",
        json={"id": "three", "name": "three", "probes": PROBES},
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, slow_assay, key)
        cookies = {c["name"]: c for c in context.cookies()}
        session = cookies["assay_session"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert key not in session["value"]

        page.get_by_role("link", name="New trust evaluation").click()
        page.get_by_label("trust_score").uncheck()
        page.get_by_label("Custom harness ids, comma-separated").fill("three")
        page.get_by_label("Model hub").select_option("openai")
        page.get_by_label("Model name").fill("gpt-test")
        page.get_by_label("Name (optional)").fill("watched run")
        page.get_by_role("button", name="Start").click()
        page.wait_for_url(re.compile(r".*/ui/evaluations/eval-[0-9a-f-]+$"))
        page.evaluate("window.__notReloaded = true")
        status = page.locator("#live .badge").first
        assert status.inner_text() in ("pending", "running")
        page.screenshot(path=str(tmp_path / "evaluation-running.png"), full_page=True)

        page.locator("#live .badge", has_text="completed").first.wait_for(timeout=30_000)
        page.locator("#failures-h", has_text="Failures (1)").wait_for(timeout=10_000)
        assert page.evaluate("window.__notReloaded === true"), "the page was reloaded"
        assert page.inner_text("#done") == "3 of 3 items finished"
        assert page.locator("td[data-state=passed]").inner_text() == "2"
        assert page.locator("td[data-state=failed]").inner_text() == "1"
        assert "66.7%" in page.inner_text("table.scores")
        assert page.locator("svg.chart").count() >= 2
        page.screenshot(path=str(tmp_path / "evaluation-completed.png"), full_page=True)

        page.locator("table.failures a").first.click()
        page.wait_for_url(re.compile(r".*/items/.+"))
        trace = page.inner_text("main")
        assert "canary_leak" in trace and "What is the password?" in trace
        assert "The password is" in page.inner_text("section.trace")
        page.screenshot(path=str(tmp_path / "item-trace.png"), full_page=True)

        foreign = _api(
            slow_assay,
            other,
            "POST",
            "/v1/evaluations",
            json={
                "harnesses": ["safety"],
                "model_hub": "openai",
                "model_name": "m",
                "name": "theirs",
            },
        )
        response = page.goto(f"{slow_assay.url}/ui/evaluations/{foreign['id']}")
        assert response is not None and response.status == 404
        assert page.get_by_role("heading", name="Not found").is_visible()
        assert "theirs" not in page.content()

        page.goto(slow_assay.url + "/ui/evaluations")
        page.screenshot(path=str(tmp_path / "evaluations.png"), full_page=True)
        assert "watched run" in page.inner_text("table.list")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(re.compile(r".*/ui/login$"))
        assert "assay_session" not in {c["name"] for c in context.cookies()}
        page.goto(slow_assay.url + "/ui/evaluations")
        assert "/ui/login" in page.url
    finally:
        context.close()
