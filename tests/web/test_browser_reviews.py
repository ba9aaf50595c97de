"""The reviewer queue, key revocation and a scenario eval in a real browser, on a live server.

Each page is checked for labels, keyboard reach and colour contrast; screenshots are saved
under the test's tmp_path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from assay.core.principal import Role
from tests.api.projects_helpers import SUCCESS, USER_LINES, script_simulator_and_judge
from tests.checkpoints.people import REVIEWER, user_key
from tests.checkpoints.test_task_runs import COMMISSION, until_status
from tests.factories import RunningAssay, make_settings, serve_assay
from tests.fakes.langgraph_server import FakeLangGraph, serve_fake_langgraph
from tests.fakes.openai_server import FakeLLM
from tests.web.browser_checks import check_page, tab_reaches

pytestmark = [pytest.mark.timeout(150), pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningAssay]:
    with serve_assay(make_settings(tmp_path)) as running:
        yield running


async def _sign_in(browser: Any, assay: RunningAssay, key: str) -> tuple[Any, Any]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(assay.url + "/ui/login")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r".*/ui/evaluations$"))
    return context, page


async def test_a_reviewer_rejects_with_a_hint_and_approves_from_the_queue_by_keyboard(
    browser: Any, server: RunningAssay, tmp_path: Path
):
    reviewer = await user_key(server.settings, REVIEWER)
    async with server.client(reviewer) as api:
        created = (await api.post("/api/eval/create-task-agent", json=COMMISSION)).json()
        execution_id = created["executionId"]
        await until_status(api, execution_id, "waiting_verification")
    context, page = await _sign_in(browser, server, reviewer)
    try:
        assert REVIEWER in await page.inner_text("header .user")
        await page.get_by_role("link", name="Reviews").click()
        await page.wait_for_url(re.compile(r".*/ui/reviews$"))
        row = page.locator("table.queue tbody tr")
        assert await row.count() == 1
        assert "Is the result $7,500?" in await row.inner_text()
        assert re.fullmatch(r"\d+ s|\d+ min", await row.locator(".wait").inner_text())
        await check_page(page, "review-queue", tmp_path)

        await page.keyboard.press("j")
        assert await page.evaluate("document.activeElement.dataset.run") == execution_id
        await page.keyboard.press("Enter")
        await page.wait_for_url(re.compile(rf".*/ui/reviews/{execution_id}$"))
        assert urlsplit(created["chatUrl"]).path == urlsplit(page.url).path
        question = page.locator("section.question")
        await question.wait_for()
        assert "Checkpoint 1: Is the result $7,500?" in await question.inner_text()
        assert "calculator" in await question.locator("table.tools").inner_text()
        await check_page(page, "review-run", tmp_path)
        await tab_reaches(page, "Approve")

        await page.get_by_role("button", name="Reject with hint").click()
        await page.locator("#verify-error").wait_for()
        assert "hint: is required" in await page.inner_text("#verify-error")

        await page.keyboard.press("r")
        assert await page.evaluate("document.activeElement.id") == "hint"
        await page.keyboard.type("Use 10% of $40,000")
        await page.keyboard.press("Control+Enter")
        asked_again = page.locator("section.question", has_text="Checkpoint 2:")
        await asked_again.filter(has_text="4000").wait_for(timeout=30_000)
        history = await page.inner_text("table.checkpoints")
        assert f"rejected by {REVIEWER}" in history and "hint: Use 10% of $40,000" in history
        await page.screenshot(path=str(tmp_path / "review-asked-again.png"), full_page=True)

        await page.keyboard.press("a")
        await page.locator("#live .badge", has_text="completed").first.wait_for(timeout=30_000)
        await page.screenshot(path=str(tmp_path / "review-completed.png"), full_page=True)
        assert "approved by" in await page.inner_text("table.checkpoints")
        await page.keyboard.press("q")
        await page.wait_for_url(re.compile(r".*/ui/reviews$"))
        assert "Nothing waits for you" in await page.inner_text("main")
    finally:
        await context.close()
    async with server.client(reviewer) as api:
        done = await until_status(api, execution_id, "completed")
    verdicts = [d["evalMetadata"]["verificationResponse"] for d in done["checkpoints"]["details"]]
    assert [(v["action"], v["verifiedBy"]) for v in verdicts] == [
        ("rejected", REVIEWER),
        ("approved", REVIEWER),
    ]


async def test_an_admin_creates_a_key_and_revokes_it_in_the_browser(
    browser: Any, server: RunningAssay, tmp_path: Path
):
    admin = await server.key()
    context, page = await _sign_in(browser, server, admin)
    try:
        await check_page(page, "evaluations", tmp_path)
        await tab_reaches(page, "Filter")
        await page.goto(server.url + "/ui/manage/agents")
        await check_page(page, "agents", tmp_path)
        await tab_reaches(page, "Register")
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Manage").click()
        await page.get_by_role("link", name="API keys").click()
        await page.wait_for_url(re.compile(r".*/ui/manage/keys$"))
        await tab_reaches(page, "Create key")
        await page.get_by_label("Role").select_option("reviewer")
        await page.get_by_role("button", name="Create key").click()
        new_key = await page.get_by_label("The new API key").input_value()
        assert new_key.startswith("assay_")
        await check_page(page, "keys", tmp_path)
        async with server.client(new_key) as api:
            assert (await api.get("/v1/agents")).status_code == 200
            await page.get_by_role("button", name=f"Revoke {new_key[:10]}").click()
            await page.wait_for_url(re.compile(r".*/ui/manage/keys$"))
            revoked_row = page.locator("tr", has_text=new_key[:10])
            assert "revoked" in await revoked_row.inner_text()
            assert (await api.get("/v1/agents")).status_code == 401
        await page.screenshot(path=str(tmp_path / "keys-revoked.png"), full_page=True)
    finally:
        await context.close()


@pytest.fixture
def agent() -> Iterator[FakeLangGraph]:
    with serve_fake_langgraph() as fake:
        yield fake


@pytest.fixture
def simulated(tmp_path: Path, fake_llm: FakeLLM) -> Iterator[RunningAssay]:
    script_simulator_and_judge(fake_llm)
    with serve_assay(make_settings(tmp_path, fake_llm=fake_llm)) as running:
        yield running


async def test_a_member_builds_and_runs_a_scenario_eval_and_reads_its_transcript(
    browser: Any, simulated: RunningAssay, agent: FakeLangGraph, tmp_path: Path
):
    member = await simulated.key(role=Role.MEMBER)
    context, page = await _sign_in(browser, simulated, member)
    try:
        await page.goto(simulated.url + "/ui/manage/projects")
        await page.get_by_role("link", name="default").click()
        await page.get_by_label("New persona's name").fill("Ann")
        await page.get_by_label("Description").fill("A customer in a hurry.")
        await page.get_by_role("button", name="Add persona").click()
        await page.get_by_label("New scenario's name").fill(SUCCESS)
        await page.get_by_label("Instructions for the simulated user").fill(
            "You want to cancel your booking. Your booking number is B123."
        )
        await page.get_by_label("Success criteria (optional)").fill(
            "The agent confirms the booking is cancelled"
        )
        await page.get_by_role("checkbox", name="Ann").check()
        await page.get_by_role("button", name="Add scenario").click()
        await page.get_by_label("New connector's name").fill("Booking agent")
        await page.get_by_label("Type").select_option("langgraph")
        await page.get_by_label("Base URL", exact=True).fill(agent.url)
        await page.get_by_label(re.compile(r"^Config \(JSON")).fill('{"assistant_id": "booking"}')
        await page.get_by_role("button", name="Add connector").click()
        await page.get_by_label("New eval's name").fill("Cancellation")
        await page.get_by_role("checkbox", name=SUCCESS).check()
        await page.get_by_role("button", name="Create eval").click()
        await check_page(page, "project", tmp_path)

        await page.get_by_role("button", name="Run Cancellation").click()
        await page.wait_for_url(re.compile(r".*/ui/evaluations/[^/]+$"))
        await page.locator("#live .badge", has_text="completed").first.wait_for(timeout=60_000)
        await check_page(page, "scenario-evaluation", tmp_path)
        await page.locator("table.items a").first.click()
        await page.wait_for_url(re.compile(r".*/items/.+"))
        transcript = await page.inner_text("main")
        for line in USER_LINES[SUCCESS][:2]:
            assert line in transcript
        assert "B123" in transcript and "cancel" in transcript.lower()
        await check_page(page, "scenario-transcript", tmp_path)

        await page.goto(simulated.url + "/ui/manage/projects")
        await page.get_by_role("link", name="default").click()
        runs = await page.inner_text("table.runs")
        assert "completed" in runs and "passed" in runs
    finally:
        await context.close()
