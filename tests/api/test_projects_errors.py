"""Seed 004's errors: ``{"error": "..."}`` with the seed's messages and status codes, tenant
isolation, reference checks and delete semantics."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from assay.core.principal import Role
from tests.api.projects_helpers import (
    SUCCESS,
    create,
    langgraph_connector,
    persona,
    scenario,
    script_simulator_and_judge,
    wait_for_runs,
)
from tests.factories import RunningAssay
from tests.fakes.langgraph_server import serve_fake_langgraph
from tests.fakes.openai_server import FakeLLM

EVALS = "/api/projects/default/evals"
MISSING = "00000000-0000-4000-8000-000000000000"


async def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    return str(body["error"])


async def _setup(client: httpx.AsyncClient) -> dict[str, Any]:
    connector = await langgraph_connector(client, "http://127.0.0.1:9")
    ann = await persona(client, "Ann")
    first = await scenario(client, SUCCESS, [ann["id"]])
    return {"connector": connector, "persona": ann, "scenario": first}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Name is required"),
        ({"name": "  ", "connectorId": "c", "scenarioIds": ["s"]}, "Name is required"),
        ({"name": "x"}, "Connector ID is required"),
        ({"name": "x", "connectorId": ""}, "Connector ID is required"),
        ({"name": "x", "connectorId": "c"}, "At least one Scenario ID is required"),
        (
            {"name": "x", "connectorId": "c", "scenarioIds": []},
            "At least one Scenario ID is required",
        ),
    ],
)
async def test_create_eval_validation_messages(
    assay: RunningAssay, body: dict[str, Any], message: str
):
    async with assay.client(await assay.key()) as client:
        assert await _error(await client.post(EVALS, json=body), 400) == message


async def test_eval_not_found_messages(assay: RunningAssay):
    async with assay.client(await assay.key()) as client:
        parts = await _setup(client)
        connector_id, scenario_id = parts["connector"]["id"], parts["scenario"]["id"]
        body = {"name": "x", "connectorId": MISSING, "scenarioIds": [scenario_id]}
        assert await _error(await client.post(EVALS, json=body), 404) == "Connector not found"
        body = {"name": "x", "connectorId": connector_id, "scenarioIds": [scenario_id, MISSING]}
        assert await _error(await client.post(EVALS, json=body), 404) == "Scenario not found"

        for method in ("GET", "PUT", "DELETE"):
            response = await client.request(method, f"{EVALS}/{MISSING}", json={"name": "y"})
            assert await _error(response, 404) == "Eval not found"
        assert await _error(await client.get(f"{EVALS}/{MISSING}?expand=true"), 404) == (
            "Eval not found"
        )
        for path in (f"{EVALS}/{MISSING}/runs", f"{EVALS}/{MISSING}/matrix"):
            method = "POST" if path.endswith("runs") else "GET"
            assert await _error(await client.request(method, path), 404) == "Eval not found"
        assert await _error(
            await client.get("/api/projects/default/runs", params={"evalId": MISSING}), 404
        ) == ("Eval not found")

        created = await create(
            client,
            EVALS,
            {"name": "x", "connectorId": connector_id, "scenarioIds": [scenario_id]},
        )
        path = f"{EVALS}/{created['id']}"
        assert await _error(await client.put(path, json={"scenarioIds": []}), 400) == (
            "scenarioIds cannot be empty"
        )
        assert await _error(await client.put(path, json={"scenarioIds": None}), 400) == (
            "scenarioIds cannot be empty"
        )
        assert await _error(await client.put(path, json={"scenarioIds": [MISSING]}), 404) == (
            "Scenario not found"
        )
        assert await _error(await client.put(path, json={"connectorId": MISSING}), 404) == (
            "Connector not found"
        )
        # Nothing changed.
        assert (await client.get(path)).json() == created
        assert await _error(await client.get(f"{path}/matrix"), 404) == (
            "Eval has no runs yet; create them with POST .../evals/{id}/runs"
        )


async def test_other_resources_name_the_field(assay: RunningAssay):
    async with assay.client(await assay.key()) as client:
        connectors = "/api/projects/default/connectors"
        cases = [
            (connectors, {"type": "langgraph", "baseUrl": "http://a"}, "Name is required"),
            (connectors, {"name": "a", "baseUrl": "http://a"}, "Type is required"),
            (connectors, {"name": "a", "type": "langgraph"}, "Base URL is required"),
            (
                connectors,
                {"name": "a", "type": "grpc", "baseUrl": "http://a"},
                "type: must be one of langgraph, openai-chat, http, got 'grpc'",
            ),
            (
                connectors,
                {"name": "a", "type": "langgraph", "baseUrl": "http://a"},
                "config.assistantId is required",
            ),
            (
                connectors,
                {"name": "a", "type": "openai-chat", "baseUrl": "http://a/v1"},
                "config.model is required",
            ),
            (
                connectors,
                {
                    "name": "a",
                    "type": "langgraph",
                    "baseUrl": "http://a",
                    "config": {"assistantId": "x", "timeout": 0},
                },
                "config.timeout: Input should be greater than 0",
            ),
            (
                connectors,
                {
                    "name": "a",
                    "type": "langgraph",
                    "baseUrl": "http://a",
                    "config": {"assistantId": "x"},
                    "credentials": {"password": "hunter2-secret"},
                },
                "credentials.password: unknown key (expected one of: api_key)",
            ),
            (
                "/api/projects/default/scenarios",
                {"name": "s", "instructions": "i", "maxMessages": 0},
                "maxMessages must be between 1 and 100",
            ),
            (
                "/api/projects/default/scenarios",
                {"name": "s", "instructions": "i", "maxMessages": 101},
                "maxMessages must be between 1 and 100",
            ),
            ("/api/projects/default/scenarios", {"name": "s"}, "Instructions is required"),
            ("/api/projects/default/personas", {"name": "p"}, "Description is required"),
            (
                "/api/projects/default/personas",
                {"name": "p", "description": "d", "traits": {"patience": "endless"}},
                "traits.patience: Input should be 'low', 'medium' or 'high'",
            ),
            (EVALS, {"name": 5}, "name: must be a string"),
        ]
        for path, body, message in cases:
            response = await client.post(path, json=body)
            assert await _error(response, 400) == message, body
            assert "hunter2-secret" not in response.text
        broken = await client.post(
            connectors, content=b"{not json", headers={"content-type": "application/json"}
        )
        assert await _error(broken, 400) == "Request body is not valid JSON"
        assert (await client.get(connectors)).json() == []

        unknown = await client.post(
            "/api/projects/default/scenarios",
            json={"name": "s", "instructions": "i", "personaIds": [MISSING]},
        )
        assert await _error(unknown, 404) == "Persona not found"
        assert await _error(
            await client.put(
                "/api/projects/default",
                json={"llmSettings": {"judge": {"provider": "nope", "model": "m"}}},
            ),
            400,
        ) == (
            "llmSettings.judge.provider: unknown provider 'nope'; known providers: "
            "anthropic, bedrock, mock, openai, vertex"
        )


async def test_scenario_without_personas_cannot_run(assay: RunningAssay):
    async with assay.client(await assay.key()) as client:
        parts = await _setup(client)
        lonely = await scenario(client, "Lonely", [])
        created = await create(
            client,
            EVALS,
            {
                "name": "x",
                "connectorId": parts["connector"]["id"],
                "scenarioIds": [parts["scenario"]["id"], lonely["id"]],
            },
        )
        response = await client.post(f"{EVALS}/{created['id']}/runs")
        assert await _error(response, 400) == (
            "Scenario 'Lonely' has no personas; add personaIds to it before running the eval"
        )
        assert (await client.get("/api/projects/default/runs")).json() == []


async def test_references_in_use_cannot_be_deleted(assay: RunningAssay):
    async with assay.client(await assay.key()) as client:
        parts = await _setup(client)
        created = await create(
            client,
            EVALS,
            {
                "name": "Uses them",
                "connectorId": parts["connector"]["id"],
                "scenarioIds": [parts["scenario"]["id"]],
            },
        )
        connector = f"/api/projects/default/connectors/{parts['connector']['id']}"
        scenario_path = f"/api/projects/default/scenarios/{parts['scenario']['id']}"
        assert await _error(await client.delete(connector), 409) == (
            "Connector is used by evals 'Uses them'; change or delete them first"
        )
        assert await _error(await client.delete(scenario_path), 409) == (
            "Scenario is used by evals 'Uses them'; remove it from them first"
        )
        assert (await client.delete(f"{EVALS}/{created['id']}")).status_code == 204
        assert (await client.delete(scenario_path)).status_code == 204
        assert (await client.delete(connector)).status_code == 204


async def test_deleting_an_eval_deletes_its_runs(assay: RunningAssay, fake_llm: FakeLLM):
    script_simulator_and_judge(fake_llm)
    with serve_fake_langgraph() as agent:
        async with assay.client(await assay.key()) as client:
            connector = await langgraph_connector(client, agent.url)
            ann = await persona(client, "Ann")
            only = await scenario(client, SUCCESS, [ann["id"]])
            created = await create(
                client,
                EVALS,
                {"name": "x", "connectorId": connector["id"], "scenarioIds": [only["id"]]},
            )
            [run] = (await client.post(f"{EVALS}/{created['id']}/runs")).json()
            [finished] = await wait_for_runs(client, created["id"], 1)
            evaluation_id = finished["evaluationId"]
            assert (await client.get(f"/v1/evaluations/{evaluation_id}")).status_code == 200

            assert (await client.delete(f"{EVALS}/{created['id']}")).status_code == 204
            assert await _error(
                await client.get(f"/api/projects/default/runs/{run['id']}"), 404
            ) == ("Run not found")
            assert (await client.get("/api/projects/default/runs")).json() == []
            assert (await client.get(f"/v1/evaluations/{evaluation_id}")).status_code == 404


async def test_another_organizations_project_is_invisible(assay: RunningAssay, fake_llm: FakeLLM):
    script_simulator_and_judge(fake_llm)
    with serve_fake_langgraph() as agent:
        async with (
            assay.client(await assay.key("org-a")) as a,
            assay.client(await assay.key("org-b")) as b,
        ):
            project_a = (await a.get("/api/projects/default")).json()
            connector = await langgraph_connector(a, agent.url)
            ann = await persona(a, "Ann")
            only = await scenario(a, SUCCESS, [ann["id"]])
            created = await create(
                a,
                EVALS,
                {"name": "A's", "connectorId": connector["id"], "scenarioIds": [only["id"]]},
            )
            [run] = (await a.post(f"{EVALS}/{created['id']}/runs")).json()
            await wait_for_runs(a, created["id"], 1)

            # B addresses A's project by id: not found, whatever the resource.
            a_project = f"/api/projects/{project_a['id']}"
            for path in ("", "/connectors", "/evals", "/personas", "/scenarios", "/runs"):
                assert await _error(await b.get(a_project + path), 404) == "Project not found"
            assert await _error(await b.post(f"{a_project}/evals", json={}), 404) == (
                "Project not found"
            )
            # B's own default project holds none of A's objects.
            b_default = "/api/projects/default"
            assert (await b.get(f"{b_default}")).json()["id"] != project_a["id"]
            assert await _error(await b.get(f"{b_default}/connectors/{connector['id']}"), 404) == (
                "Connector not found"
            )
            assert await _error(await b.get(f"{b_default}/evals/{created['id']}"), 404) == (
                "Eval not found"
            )
            assert await _error(await b.delete(f"{b_default}/evals/{created['id']}"), 404) == (
                "Eval not found"
            )
            assert await _error(await b.post(f"{b_default}/evals/{created['id']}/runs"), 404) == (
                "Eval not found"
            )
            assert await _error(await b.get(f"{b_default}/runs/{run['id']}"), 404) == (
                "Run not found"
            )
            assert await _error(await b.get(f"{b_default}/personas/{ann['id']}"), 404) == (
                "Persona not found"
            )
            # B cannot point its eval at A's connector or scenarios.
            b_connector = await langgraph_connector(b, agent.url)
            body = {"name": "B's", "connectorId": connector["id"], "scenarioIds": [only["id"]]}
            assert await _error(await b.post(f"{b_default}/evals", json=body), 404) == (
                "Connector not found"
            )
            body["connectorId"] = b_connector["id"]
            assert await _error(await b.post(f"{b_default}/evals", json=body), 404) == (
                "Scenario not found"
            )
            for path in ("/connectors", "/evals", "/personas", "/scenarios", "/runs"):
                listed = (await b.get(b_default + path)).json()
                assert listed == ([b_connector] if path == "/connectors" else [])
            assert [p["id"] for p in (await b.get("/api/projects")).json()] != [project_a["id"]]
            # A still has everything.
            assert (await a.get(f"{EVALS}/{created['id']}")).status_code == 200


async def test_authentication_and_roles(assay: RunningAssay):
    async with assay.client(None) as anonymous:
        assert await _error(await anonymous.get(EVALS), 401)
    async with assay.client(await assay.key(role=Role.REVIEWER)) as reviewer:
        assert (await reviewer.get(EVALS)).json() == []
        message = await _error(await reviewer.post(EVALS, json={"name": "x"}), 403)
        assert "member" in message
    async with assay.client(await assay.key()) as client:
        assert await _error(await client.get("/api/projects/nope/evals"), 404) == (
            "Project not found"
        )
