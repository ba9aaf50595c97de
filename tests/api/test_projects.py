"""Seed 004's resources at /api/projects/{projectId}: happy paths and the seed's shapes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

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
from tests.fakes.langgraph_server import FakeLangGraph, serve_fake_langgraph
from tests.fakes.openai_server import FakeLLM

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def agent() -> Iterator[FakeLangGraph]:
    with serve_fake_langgraph() as fake:
        yield fake


async def test_eval_crud_in_the_seeds_shapes(assay: RunningAssay, agent: FakeLangGraph):
    async with assay.client(await assay.key()) as client:
        connector = await langgraph_connector(client, agent.url)
        ann = await persona(client, "Ann")
        first = await scenario(
            client,
            "Booking Cancellation",
            [ann["id"]],
            instructions="Customer needs to cancel",
            successCriteria="Agent confirms cancellation",
            failureCriteria="Agent fails to process",
        )
        second = await scenario(
            client,
            "Booking Modification",
            [ann["id"]],
            instructions="Customer needs to change date",
        )
        body = {
            "name": "Booking Cancellation Test",
            "connectorId": connector["id"],
            "scenarioIds": [first["id"], second["id"]],
        }
        created = await create(client, "/api/projects/default/evals", body)
        assert set(created) == {
            "id",
            "name",
            "connectorId",
            "scenarioIds",
            "createdAt",
            "updatedAt",
        }
        assert {k: created[k] for k in body} == body
        assert TIMESTAMP.match(created["createdAt"]) and TIMESTAMP.match(created["updatedAt"])

        listed = (await client.get("/api/projects/default/evals")).json()
        assert listed == [created]
        assert (await client.get(f"/api/projects/default/evals/{created['id']}")).json() == created

        expanded = (
            await client.get(
                f"/api/projects/default/evals/{created['id']}", params={"expand": "true"}
            )
        ).json()
        assert expanded["connector"] == {
            "id": connector["id"],
            "name": "Booking agent",
            "type": "langgraph",
            "baseUrl": agent.url,
        }
        assert [s["id"] for s in expanded["scenarios"]] == [first["id"], second["id"]]
        assert expanded["scenarios"][1] == {
            "id": second["id"],
            "name": "Booking Modification",
            "instructions": "Customer needs to change date",
            "maxMessages": 10,
        }
        assert expanded["scenarios"][0] == {
            "id": first["id"],
            "name": "Booking Cancellation",
            "instructions": "Customer needs to cancel",
            "maxMessages": 10,
            "successCriteria": "Agent confirms cancellation",
            "failureCriteria": "Agent fails to process",
        }
        assert set(expanded) == set(created) | {"scenarios", "connector"}

        updated = (
            await client.put(
                f"/api/projects/default/evals/{created['id']}",
                json={"name": "Updated Eval Name", "scenarioIds": [second["id"]]},
            )
        ).json()
        assert updated["name"] == "Updated Eval Name"
        assert updated["scenarioIds"] == [second["id"]]
        assert updated["connectorId"] == connector["id"]
        assert updated["createdAt"] == created["createdAt"]
        assert updated["updatedAt"] >= created["updatedAt"]

        deleted = await client.delete(f"/api/projects/default/evals/{created['id']}")
        assert deleted.status_code == 204 and deleted.content == b""
        missing = await client.get(f"/api/projects/default/evals/{created['id']}")
        assert missing.status_code == 404 and missing.json() == {"error": "Eval not found"}
        assert (await client.get("/api/projects/default/evals")).json() == []


async def test_connector_crud_never_returns_credentials(
    assay: RunningAssay, fake_llm: FakeLLM, agent: FakeLangGraph
):
    secret = "lg-secret-key-123"
    async with assay.client(await assay.key()) as client:
        created = await langgraph_connector(client, agent.url, headers={"X-Team": "qa"})
        assert created == {
            "id": created["id"],
            "name": "Booking agent",
            "type": "langgraph",
            "baseUrl": agent.url,
            "config": {"assistantId": "booking"},
            "headers": {"X-Team": "qa"},
            "hasCredentials": True,
            "createdAt": created["createdAt"],
            "updatedAt": created["updatedAt"],
        }
        path = f"/api/projects/default/connectors/{created['id']}"
        renamed = (await client.put(path, json={"name": "Renamed"})).json()
        assert renamed["name"] == "Renamed" and renamed["hasCredentials"] is True
        assert renamed["config"] == {"assistantId": "booking"}

        chat = await create(
            client,
            "/api/projects/default/connectors",
            {
                "name": "Chat agent",
                "type": "openai-chat",
                "baseUrl": fake_llm.url,
                "config": {"model": "agent-model", "systemPrompt": "Be brief."},
            },
        )
        assert chat["hasCredentials"] is False
        assert chat["config"] == {"model": "agent-model", "systemPrompt": "Be brief."}
        http = await create(
            client,
            "/api/projects/default/connectors",
            {
                "name": "HTTP agent",
                "type": "http",
                "baseUrl": "http://127.0.0.1:9/chat",
                "config": {"requestTemplate": {"message": "{{input}}"}, "outputPath": "reply"},
                "credentials": {"apiKey": "http-secret-456"},
            },
        )
        assert http["config"]["requestTemplate"] == {"message": "{{input}}"}
        cleared = (
            await client.put(
                f"/api/projects/default/connectors/{http['id']}", json={"credentials": None}
            )
        ).json()
        assert cleared["hasCredentials"] is False

        texts = [
            (await client.get(path)).text,
            (await client.get("/api/projects/default/connectors")).text,
            str(created),
            str(renamed),
            str(http),
        ]
        for text in texts:
            assert secret not in text and "http-secret-456" not in text
            assert "apiKey" not in text and "credentials" not in text
        listed = (await client.get("/api/projects/default/connectors")).json()
        assert [c["name"] for c in listed] == ["Renamed", "Chat agent", "HTTP agent"]

        assert (await client.delete(path)).status_code == 204
        gone = await client.get(path)
        assert gone.status_code == 404 and gone.json() == {"error": "Connector not found"}


async def test_persona_and_scenario_crud(assay: RunningAssay):
    async with assay.client(await assay.key()) as client:
        ann = await create(
            client,
            "/api/projects/default/personas",
            {
                "name": "Impatient Ann",
                "description": "Busy, short answers",
                "traits": {"patience": "low", "techSavviness": "high", "language": "German"},
            },
        )
        assert ann["traits"] == {
            "patience": "low",
            "verbosity": None,
            "language": "German",
            "techSavviness": "high",
        }
        bob = await create(
            client, "/api/projects/default/personas", {"name": "Bob", "description": "Retired"}
        )
        assert bob["traits"] is None
        persona_path = f"/api/projects/default/personas/{bob['id']}"
        bob = (await client.put(persona_path, json={"traits": {"verbosity": "high"}})).json()
        assert bob["traits"]["verbosity"] == "high" and bob["name"] == "Bob"
        assert len((await client.get("/api/projects/default/personas")).json()) == 2

        created = await create(
            client,
            "/api/projects/default/scenarios",
            {
                "name": "Booking Cancellation",
                "instructions": "Customer needs to cancel",
                "successCriteria": "Agent confirms cancellation",
                "failureCriteria": "Agent fails to process",
                "personaIds": [ann["id"], bob["id"]],
            },
        )
        assert created["maxMessages"] == 10
        assert created["personaIds"] == [ann["id"], bob["id"]]
        path = f"/api/projects/default/scenarios/{created['id']}"
        updated = (
            await client.put(
                path, json={"maxMessages": 4, "failureCriteria": None, "personaIds": [bob["id"]]}
            )
        ).json()
        assert updated["maxMessages"] == 4 and "failureCriteria" not in updated
        assert updated["successCriteria"] == "Agent confirms cancellation"
        assert updated["personaIds"] == [bob["id"]]
        assert (await client.get(path)).json() == updated
        assert [s["id"] for s in (await client.get("/api/projects/default/scenarios")).json()] == [
            created["id"]
        ]

        # Ann is no longer in a scenario: she can go; Bob is still used.
        assert (
            await client.delete(f"/api/projects/default/personas/{ann['id']}")
        ).status_code == 204
        in_use = await client.delete(persona_path)
        assert in_use.status_code == 409
        assert in_use.json() == {
            "error": "Persona is used by scenarios 'Booking Cancellation'; remove it from them first"
        }
        assert (await client.delete(path)).status_code == 204
        assert (await client.delete(persona_path)).status_code == 204
        assert (await client.get(path)).json() == {"error": "Scenario not found"}
        assert (await client.get(persona_path)).json() == {"error": "Persona not found"}


async def test_project_llm_settings_drive_the_simulator_and_judge(
    assay: RunningAssay, fake_llm: FakeLLM, agent: FakeLangGraph
):
    script_simulator_and_judge(fake_llm)
    async with assay.client(await assay.key()) as client:
        projects = (await client.get("/api/projects")).json()
        assert [p["slug"] for p in projects] == ["default"]
        project = projects[0]
        assert project["llmSettings"] == {
            "simulator": {"provider": "openai", "model": "judge", "baseUrl": None},
            "judge": {"provider": "openai", "model": "judge", "baseUrl": None},
            "hasApiKey": False,
            "attacker": None,
        }
        assert (await client.get(f"/api/projects/{project['id']}")).json() == project

        updated = await client.put(
            "/api/projects/default",
            json={
                "llmSettings": {
                    "simulator": {
                        "provider": "openai",
                        "model": "sim-model",
                        "baseUrl": fake_llm.url,
                    },
                    "judge": {"provider": "openai", "model": "judge-model"},
                    "apiKey": "sk-project-key-789",
                }
            },
        )
        assert updated.status_code == 200, updated.text
        settings = updated.json()["llmSettings"]
        assert settings["simulator"]["model"] == "sim-model"
        assert settings["judge"] == {"provider": "openai", "model": "judge-model", "baseUrl": None}
        assert settings["hasApiKey"] is True
        assert "sk-project-key-789" not in updated.text
        # A partial update keeps the rest, the key included.
        renamed = (await client.put("/api/projects/default", json={"name": "Support bots"})).json()
        assert renamed["name"] == "Support bots" and renamed["llmSettings"] == settings

        connector = await langgraph_connector(client, agent.url, project=project["id"])
        ann = await persona(client, "Ann", project=project["id"])
        only = await scenario(client, SUCCESS, [ann["id"]], project=project["id"])
        evaluation = await create(
            client,
            f"/api/projects/{project['id']}/evals",
            {"name": "Settings", "connectorId": connector["id"], "scenarioIds": [only["id"]]},
        )
        await client.post(f"/api/projects/default/evals/{evaluation['id']}/runs")
        [run] = await wait_for_runs(client, evaluation["id"], 1)
        assert run["verdict"] == "passed"

    models = {r["model"] for r in fake_llm.requests}
    assert models == {"sim-model", "judge-model"}
    keys = {h["authorization"] for h in fake_llm.headers}
    assert keys == {"Bearer sk-project-key-789"}


async def test_removing_the_project_api_key(assay: RunningAssay):
    async with assay.client(await assay.key()) as client:
        await client.put("/api/projects/default", json={"llmSettings": {"apiKey": "sk-1"}})
        cleared = (
            await client.put("/api/projects/default", json={"llmSettings": {"apiKey": None}})
        ).json()
    assert cleared["llmSettings"]["hasApiKey"] is False
