"""Seed 004 against a real ``langgraph dev`` server: a connector's wrong key or assistant is a
400 when it is created, updated or tested, and a run shows why the agent failed, counting a
refused key as an error of the run rather than a failure of the agent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.projects_helpers import (
    CRASH,
    langgraph_connector,
    langgraph_connector_body,
    run_one_scenario,
    script_simulator_and_judge,
)
from tests.factories import RunningAssay, make_settings, serve_assay
from tests.fakes.langgraph_server import FakeLangGraph, RunReply, serve_fake_langgraph
from tests.fakes.openai_server import FakeLLM

REAL = pytest.mark.timeout(240)  # the first test on a worker waits for the server to start
CONNECTORS = "/api/projects/default/connectors"


@pytest.fixture
def agent() -> Iterator[FakeLangGraph]:
    with serve_fake_langgraph() as fake:
        yield fake


@REAL
async def test_a_wrong_key_or_assistant_is_a_400_on_create_update_and_test(
    assay: RunningAssay, langgraph_dev: str, closed_port_url: str
):
    async with assay.client(await assay.key()) as client:
        wrong_key = await client.post(
            CONNECTORS,
            json=langgraph_connector_body(langgraph_dev, credentials={"apiKey": "nope-123"}),
        )
        no_key = await client.post(
            CONNECTORS, json=langgraph_connector_body(langgraph_dev, credentials={})
        )
        unknown = await client.post(
            CONNECTORS,
            json=langgraph_connector_body(langgraph_dev, config={"assistantId": "nobody"}),
        )
        good = await client.post(CONNECTORS, json=langgraph_connector_body(langgraph_dev))
        assert good.status_code == 201, good.text
        path = f"{CONNECTORS}/{good.json()['id']}"
        tested = await client.post(f"{path}/test")
        bad_update = await client.put(path, json={"credentials": {"apiKey": "nope-456"}})
        after = await client.post(f"{path}/test")
        # not deployed yet: it may be created, and a test says it cannot be reached
        offline = await client.post(CONNECTORS, json=langgraph_connector_body(closed_port_url))
        offline_test = await client.post(f"{CONNECTORS}/{offline.json()['id']}/test")
        listed = (await client.get(CONNECTORS)).json()

    assert wrong_key.status_code == 400
    assert wrong_key.json()["error"].startswith("credentials.apiKey: was refused (HTTP 401)")
    assert "nope-123" not in wrong_key.text
    assert no_key.status_code == 400
    assert no_key.json()["error"].startswith("credentials.apiKey: is missing (HTTP 401)")
    assert unknown.status_code == 400
    assert unknown.json()["error"].startswith("config.assistantId: names nothing")
    assert "'nobody'" in unknown.json()["error"]
    assert tested.status_code == 200 and tested.json()["id"] == good.json()["id"]
    assert bad_update.status_code == 400 and "credentials.apiKey" in bad_update.json()["error"]
    assert after.status_code == 200  # the refused update changed nothing
    assert offline.status_code == 201
    assert offline_test.status_code == 400
    assert offline_test.json()["error"].startswith("baseUrl: could not be asked")
    assert len(listed) == 2


@REAL
async def test_a_crashing_graph_shows_its_error_in_the_run(
    assay: RunningAssay, fake_llm: FakeLLM, langgraph_dev: str
):
    script_simulator_and_judge(fake_llm)
    async with assay.client(await assay.key()) as client:
        connector = await langgraph_connector(client, langgraph_dev)
        detail = await run_one_scenario(client, connector["id"], CRASH)

    assert detail["termination"] == "agent_error"
    assert detail["error"]["code"] == "agent_error"
    assert "RuntimeError: the booking database is down" in detail["error"]["message"]


async def test_a_key_refused_while_running_is_an_error_of_the_run_not_a_failure(
    assay: RunningAssay, fake_llm: FakeLLM, agent: FakeLangGraph
):
    script_simulator_and_judge(fake_llm)
    async with assay.client(await assay.key()) as client:
        connector = await langgraph_connector(client, agent.url)
        # the deployment's key was rotated after the connector was checked
        agent.push(RunReply(status=401, body={"detail": "Invalid API key"}))
        detail = await run_one_scenario(client, connector["id"], CRASH)

    assert detail["status"] == "error" and detail["verdict"] is None
    assert detail["error"]["code"] == "invalid_api_key"
    assert "HTTP 401: the API key was refused" in detail["error"]["message"]


async def test_with_checks_off_only_a_test_asks_the_deployment(
    tmp_path: Path, fake_llm: FakeLLM, agent: FakeLangGraph
):
    body = langgraph_connector_body(agent.url, config={"assistantId": "nobody"})
    checked = make_settings(tmp_path / "on", fake_llm=fake_llm)
    unchecked = make_settings(tmp_path / "off", fake_llm=fake_llm, check_connectors=False)
    with serve_assay(checked) as on:
        async with on.client(await on.key()) as client:
            refused = await client.post(CONNECTORS, json=body)
    with serve_assay(unchecked) as off:
        async with off.client(await off.key()) as client:
            created = await client.post(CONNECTORS, json=body)
            tested = await client.post(f"{CONNECTORS}/{created.json()['id']}/test")

    assert refused.status_code == 400 and "config.assistantId" in refused.json()["error"]
    assert created.status_code == 201
    assert tested.status_code == 400 and "'nobody'" in tested.json()["error"]
    searched = [r for r in agent.requests if r.path == "/assistants/search"]
    assert len(searched) == 2  # the checked create and the test, not the unchecked create
