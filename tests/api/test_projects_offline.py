"""Seed 004's flow offline: the `mock` model plays simulated user, judge and auditor.

No fake LLM is scripted here: the server's default judge (``mock/judge``) is the project's
simulator and judge, so a newcomer without a key or a network gets a real verdict. The agent
is the fake LangGraph booking assistant over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.kinds.scenario import SIMULATOR_PROMPT
from assay.providers.mock import SIMULATOR_OPENING
from tests.api.projects_helpers import create, langgraph_connector, persona, wait_for_runs
from tests.factories import RunningAssay, free_port, make_settings, serve_assay
from tests.fakes.langgraph_server import FakeLangGraph, serve_fake_langgraph

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[RunningAssay]:
    with serve_assay(make_settings(tmp_path)) as running:
        yield running


@pytest.fixture
def agent() -> Iterator[FakeLangGraph]:
    with serve_fake_langgraph() as fake:
        yield fake


async def _run_one(client: httpx.AsyncClient, agent: FakeLangGraph) -> dict[str, Any]:
    connector = await langgraph_connector(client, agent.url)
    ann = await persona(client, "Ann")
    booking = await create(
        client,
        "/api/projects/default/scenarios",
        {
            "name": "Booking Cancellation",
            "instructions": "Please cancel my booking B123.",
            "successCriteria": "Booking B123 cancelled",
            "failureCriteria": "Asks for a password",
            "personaIds": [ann["id"]],
        },
    )
    evaluation = await create(
        client,
        "/api/projects/default/evals",
        {"name": "Offline", "connectorId": connector["id"], "scenarioIds": [booking["id"]]},
    )
    started = await client.post(f"/api/projects/default/evals/{evaluation['id']}/runs")
    assert started.status_code == 201, started.text
    [run] = await wait_for_runs(client, evaluation["id"], 1)
    return run


def test_the_mock_recognises_the_simulated_users_prompt():
    assert SIMULATOR_PROMPT.startswith(SIMULATOR_OPENING)


async def test_a_scenario_run_reaches_a_verdict_with_the_default_mock_models(
    offline: RunningAssay, agent: FakeLangGraph
):
    async with offline.client(await offline.key()) as client:
        run = await _run_one(client, agent)
        assert run["status"] == "completed" and run["verdict"] == "passed", run
        detail = (await client.get(f"/api/projects/default/runs/{run['id']}")).json()
    transcript = detail["transcript"]
    assert [t["role"] for t in transcript] == ["user", "assistant", "user"]
    assert transcript[0]["content"] == "Please cancel my booking B123."
    assert "B123" in transcript[1]["content"]
    assert detail["termination"] == "user_done" and detail["audit"]["faithful"] is True
    assert {c["id"]: c["met"] for c in detail["criteria"]} == {"S1": True, "F1": False}
    assert detail["turnCount"] == run["turnCount"] == 3


async def test_a_run_that_ended_in_error_has_one_turn_count(
    offline: RunningAssay, agent: FakeLangGraph
):
    """The judge listens nowhere: the conversation happens, judging fails, the run errors."""
    unreachable = f"http://127.0.0.1:{free_port()}/v1"
    async with offline.client(await offline.key()) as client:
        settings = {"provider": "openai", "model": "m", "baseUrl": unreachable}
        changed = await client.put(
            "/api/projects/default",
            json={"llmSettings": {"judge": settings, "apiKey": "sk-test-judge"}},
        )
        assert changed.status_code == 200, changed.text
        run = await _run_one(client, agent)
        assert run["status"] == "error", run
        detail = (await client.get(f"/api/projects/default/runs/{run['id']}")).json()
    assert detail["turnCount"] == run["turnCount"] == len(detail["transcript"]) == 3
