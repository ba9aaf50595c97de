"""Running a seed-004 eval end to end: a real LangGraph-shaped agent on loopback, the fake LLM
as simulated user and judge, runs fanned out per scenario x persona, live and final detail."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.projects_helpers import (
    CUT_OFF,
    FAILURE,
    SUCCESS,
    create,
    langgraph_connector,
    persona,
    scenario,
    script_simulator_and_judge,
    wait_for_runs,
)
from tests.factories import RunningAssay, make_settings, serve_assay, wait_until
from tests.fakes.langgraph_server import FakeLangGraph, serve_fake_langgraph
from tests.fakes.openai_server import FakeLLM, FakeReply
from tests.fakes.webhook_receiver import serve_webhook_receiver


@pytest.fixture
def agent() -> Iterator[FakeLangGraph]:
    with serve_fake_langgraph() as fake:
        yield fake


async def test_runs_fan_out_per_scenario_and_its_personas(
    assay: RunningAssay, fake_llm: FakeLLM, agent: FakeLangGraph
):
    script_simulator_and_judge(fake_llm)
    async with assay.client(await assay.key()) as client:
        connector = await langgraph_connector(client, agent.url)
        people = [await persona(client, name) for name in ("Ann", "Bob", "Cy")]
        ids = [p["id"] for p in people]
        first = await scenario(client, SUCCESS, ids)
        second = await scenario(client, FAILURE, ids)
        evaluation = await create(
            client,
            "/api/projects/default/evals",
            {
                "name": "Booking Cancellation Test",
                "connectorId": connector["id"],
                "scenarioIds": [first["id"], second["id"]],
            },
        )
        response = await client.post(f"/api/projects/default/evals/{evaluation['id']}/runs")
        assert response.status_code == 201, response.text
        runs = response.json()
        assert len(runs) == 6
        assert [(r["scenarioId"], r["personaId"]) for r in runs] == [
            (s["id"], p) for s in (first, second) for p in ids
        ]
        assert {r["evalId"] for r in runs} == {evaluation["id"]}
        assert set(runs[0]) == {"id", "evalId", "scenarioId", "personaId", "status", "createdAt"}
        assert runs[0]["status"] in ("pending", "running")

        finished = await wait_for_runs(client, evaluation["id"], 6)
        verdicts = {(r["scenarioId"], r["personaId"]): r["verdict"] for r in finished}
        assert verdicts == {
            **{(first["id"], p): "passed" for p in ids},
            **{(second["id"], p): "failed" for p in ids},
        }
        assert {r["id"] for r in finished} == {r["id"] for r in runs}
        assert all(r["status"] == "completed" and r["turnCount"] > 0 for r in finished)

        matrix = (await client.get(f"/api/projects/default/evals/{evaluation['id']}/matrix")).json()
        cells = matrix["matrix"]["cells"]
        assert cells[first["id"]][ids[0]]["passed"] == 1
        assert cells[second["id"]][ids[2]]["failed"] == 1
        assert matrix["matrix"]["coverage"] == {"pairs": 6, "covered": 6}
        assert matrix["summary"]["verdicts"]["passed"] == 3
        assert matrix["summary"]["passRate"] == 0.5
        assert matrix["status"] == "completed"

    # The connector's API key reached the agent, and every run had its own thread.
    runs_requests = [r for r in agent.requests if r.path.endswith("/runs/wait")]
    assert runs_requests and all(
        r.headers["x-api-key"] == "lg-secret-key-123" for r in runs_requests
    )
    assert len([r for r in agent.requests if r.path == "/threads"]) == 6


async def test_run_detail_for_success_failure_and_cut_off(
    assay: RunningAssay, fake_llm: FakeLLM, agent: FakeLangGraph
):
    script_simulator_and_judge(fake_llm)
    async with assay.client(await assay.key()) as client:
        connector = await langgraph_connector(client, agent.url)
        ann = await persona(client, "Ann")
        scenarios = [
            await scenario(client, name, [ann["id"]]) for name in (SUCCESS, FAILURE, CUT_OFF)
        ]
        evaluation = await create(
            client,
            "/api/projects/default/evals",
            {
                "name": "Three endings",
                "connectorId": connector["id"],
                "scenarioIds": [s["id"] for s in scenarios],
            },
        )
        with serve_webhook_receiver() as receiver:
            created = (
                await client.post(
                    f"/api/projects/default/evals/{evaluation['id']}/runs",
                    json={"webhookUrl": receiver.url},
                )
            ).json()
            finished = await wait_for_runs(client, evaluation["id"], 3)

            async def delivered() -> bool:
                return bool(receiver.received)

            await wait_until(delivered)
            hook = json.loads(receiver.received[0].body)
        assert hook["event"] == "evaluation.completed"
        assert hook["evaluation"]["kind"] == "scenario"
        assert hook["evaluation"]["id"] == finished[0]["evaluationId"]
        details = [
            (await client.get(f"/api/projects/default/runs/{run['id']}")).json() for run in created
        ]

    success, failure, cut_off = details
    assert success["verdict"] == "passed" and success["termination"] == "user_done"
    assert [t["role"] for t in success["transcript"]] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert success["transcript"][3]["content"] == "Booking B123 is cancelled."
    assert success["transcript"][3]["toolCalls"][0]["name"] == "cancel_booking"
    # the agent's own argument keys, exactly as it sent them
    assert success["transcript"][3]["toolCalls"][0]["arguments"] == {"booking_id": "B123"}
    assert success["turnCount"] == 5
    assert len(success["agentLatencyMs"]) == 2
    assert success["transcript"][1]["latencyMs"] >= 0
    [criterion] = success["criteria"]
    assert criterion["kind"] == "success" and criterion["met"] is True
    assert criterion["criterion"] == "The agent confirms the booking is cancelled"
    assert criterion["quotes"] == ["Booking B123 is cancelled."]
    assert criterion["reasoning"]
    assert success["reasoning"] == "Cancel booking: passed"
    assert success["usage"]["agent"]["inputTokens"] == 33  # 11 per AI message of the agent
    assert success["usage"]["judge"]["inputTokens"] == 300
    assert success["usage"]["total"]["inputTokens"] > 0
    assert success["audit"]["faithful"] is True
    assert success["status"] == "completed" and success["error"] is None
    assert success["scenarioId"] == scenarios[0]["id"] and success["personaId"] == ann["id"]
    assert success["evalId"] == evaluation["id"]

    assert failure["verdict"] == "failed" and failure["termination"] == "gave_up"
    failure_criterion = next(c for c in failure["criteria"] if c["kind"] == "failure")
    assert failure_criterion["met"] is True
    assert failure_criterion["quotes"] == ["Please give the booking number."]

    assert cut_off["verdict"] == "inconclusive" and cut_off["termination"] == "max_messages"
    assert cut_off["turnCount"] == 3
    assert [t["role"] for t in cut_off["transcript"]] == ["user", "assistant", "user"]


async def test_transcript_is_readable_while_the_run_is_going(
    assay: RunningAssay, fake_llm: FakeLLM, agent: FakeLangGraph
):
    script_simulator_and_judge(fake_llm)
    release = threading.Event()
    original = fake_llm.handler
    assert original is not None

    def slow_judge(body: dict[str, Any]) -> FakeReply:
        # Hold the judge (in the fake's thread) until the test has read the live transcript.
        if "impartial evaluator" in str(body["messages"][0]["content"]):
            release.wait(timeout=10)
        return original(body)

    fake_llm.handler = slow_judge
    async with assay.client(await assay.key()) as client:
        connector = await langgraph_connector(client, agent.url)
        ann = await persona(client, "Ann")
        only = await scenario(client, SUCCESS, [ann["id"]])
        evaluation = await create(
            client,
            "/api/projects/default/evals",
            {"name": "Live", "connectorId": connector["id"], "scenarioIds": [only["id"]]},
        )
        [run] = (await client.post(f"/api/projects/default/evals/{evaluation['id']}/runs")).json()

        live: dict[str, Any] = {}
        for _ in range(400):
            live = (await client.get(f"/api/projects/default/runs/{run['id']}")).json()
            if live["turnCount"] == 5:
                break
            await asyncio.sleep(0.025)
        release.set()
        assert live["status"] == "running" and live["verdict"] is None
        assert [t["role"] for t in live["transcript"]][:2] == ["user", "assistant"]
        assert live["transcript"][0]["content"] == "Hi, I need to cancel my booking."
        assert len(live["agentLatencyMs"]) == 2
        await wait_for_runs(client, evaluation["id"], 1)
        final = (await client.get(f"/api/projects/default/runs/{run['id']}")).json()
    assert final["verdict"] == "passed"
    assert [t["content"] for t in final["transcript"]] == [t["content"] for t in live["transcript"]]


async def test_an_eval_runs_and_lists_on_each_database(
    tmp_path: Path, fake_llm: FakeLLM, agent: FakeLangGraph, any_database_url: str
):
    script_simulator_and_judge(fake_llm)
    settings = make_settings(tmp_path, database_url=any_database_url, fake_llm=fake_llm)
    with serve_assay(settings) as assay:
        async with assay.client(await assay.key()) as client:
            connector = await langgraph_connector(client, agent.url)
            people = [await persona(client, name) for name in ("Ann", "Bob")]
            only = await scenario(client, SUCCESS, [p["id"] for p in people])
            evaluation = await create(
                client,
                "/api/projects/default/evals",
                {"name": "Both", "connectorId": connector["id"], "scenarioIds": [only["id"]]},
            )
            other = await create(
                client,
                "/api/projects/default/evals",
                {"name": "Other", "connectorId": connector["id"], "scenarioIds": [only["id"]]},
            )
            created = await client.post(f"/api/projects/default/evals/{evaluation['id']}/runs")
            assert created.status_code == 201, created.text
            runs = await wait_for_runs(client, evaluation["id"], 2)
            assert [r["verdict"] for r in runs] == ["passed", "passed"]
            assert (
                await client.get(f"/api/projects/default/evals/{other['id']}/runs")
            ).json() == []
            everything = (await client.get("/api/projects/default/runs")).json()
            assert [r["id"] for r in everything] == [r["id"] for r in created.json()]
            in_use = await client.delete(f"/api/projects/default/scenarios/{only['id']}")
            assert in_use.status_code == 409
