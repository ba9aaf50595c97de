"""Shared set-up for /api/projects tests (seed 004).

The fake LLM plays both the simulated user and the judge, routed by the request's system
prompt; the agent under test is the fake LangGraph server's booking assistant, reached over
real HTTP through a ``langgraph`` connector. Three scenarios script the three endings:

- ``Cancel booking``: the user gives the booking number, the agent cancels, the user says
  ``[DONE]``; the judge finds the success criterion met (``passed``).
- ``Cancel without number``: the agent asks for the booking number, which the failure
  criterion forbids; the user gives up; the judge finds the failure criterion met
  (``failed``).
- ``Small talk`` (``maxMessages`` 3): the user never finishes and is cut off; the judge cannot
  decide (``inconclusive``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from assay.kinds.scenario import SIMULATOR_PROMPT
from assay.scoring.transcripts import AUDIT_SYSTEM_PROMPT, JUDGE_SYSTEM_PROMPT
from tests.factories import wait_until
from tests.fakes.openai_server import FakeLLM, FakeReply

SUCCESS = "Cancel booking"
FAILURE = "Cancel without number"
CUT_OFF = "Small talk"
CRASH = "Crashing agent"

_SIMULATOR_START = SIMULATOR_PROMPT[:40]
_JUDGE_START = JUDGE_SYSTEM_PROMPT[:40]
_AUDIT_START = AUDIT_SYSTEM_PROMPT[:40]
_CRITERION = re.compile(r"^([SF]\d+) \((success|failure)\): (.*)$", re.MULTILINE)

#: What the simulated user says in each scenario, by how many messages it already sent.
USER_LINES = {
    SUCCESS: [
        "Hi, I need to cancel my booking.",
        "The booking number is B123.",
        "Great, thanks!\n[DONE]",
    ],
    FAILURE: ["Please cancel my booking.", "I do not have it, sorry.\n[GIVE_UP]"],
    CUT_OFF: ["Hello there, how are you today?"] * 10,
    # the real dev server's graph raises on "[crash]" (tests/fakes/langgraph_graph.py)
    CRASH: ["Cancel booking B1 now [crash]"],
}


def _system(body: dict[str, Any]) -> str:
    messages = body.get("messages", [])
    return str(messages[0].get("content", "")) if messages else ""


def _scenario_name(text: str) -> str:
    match = re.search(r"Name: (.+)", text.split("Your situation and goal")[-1])
    if "<scenario>" in text:
        match = re.search(r"<scenario>\nName: (.+)", text)
    assert match, text
    return match.group(1).strip()


def _simulate(body: dict[str, Any]) -> FakeReply:
    scenario = _scenario_name(_system(body))
    sent = sum(1 for m in body["messages"] if m["role"] == "assistant")
    lines = USER_LINES[scenario]
    return FakeReply(
        content=lines[min(sent, len(lines) - 1)], prompt_tokens=50, completion_tokens=9
    )


def _judge(body: dict[str, Any]) -> FakeReply:
    user = str(body["messages"][1]["content"])
    scenario = _scenario_name(user)
    criteria = _CRITERION.findall(user)
    judged = []
    for cid, kind, _text in criteria:
        if scenario == SUCCESS:
            met, quotes = kind == "success", ["Booking B123 is cancelled."]
        elif scenario == FAILURE:
            met, quotes = kind == "failure", ["Please give the booking number."]
        else:
            met, quotes = False, []
        judged.append(
            {"id": cid, "met": met, "reasoning": f"{cid} judged for {scenario}", "quotes": quotes}
        )
    verdict = {SUCCESS: "passed", FAILURE: "failed"}.get(scenario, "inconclusive")
    reply = {"verdict": verdict, "criteria": judged, "reasoning": f"{scenario}: {verdict}"}
    return FakeReply(content=json.dumps(reply), prompt_tokens=300, completion_tokens=40)


def _audit() -> FakeReply:
    reply = {"faithful": True, "issues": [], "reasoning": "The user stayed in character."}
    return FakeReply(content=json.dumps(reply), prompt_tokens=250, completion_tokens=20)


def script_simulator_and_judge(fake: FakeLLM) -> None:
    def handler(body: dict[str, Any]) -> FakeReply:
        system = _system(body)
        if system.startswith(_SIMULATOR_START):
            return _simulate(body)
        if system.startswith(_JUDGE_START):
            return _judge(body)
        if system.startswith(_AUDIT_START):
            return _audit()
        raise AssertionError(f"unexpected request: {system[:80]!r}")

    fake.handler = handler


async def create(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def langgraph_connector_body(url: str, **extra: Any) -> dict[str, Any]:
    """A connector to the booking assistant at ``url``, with the key its servers take."""
    return {
        "name": "Booking agent",
        "type": "langgraph",
        "baseUrl": url,
        "config": {"assistantId": "booking"},
        "credentials": {"apiKey": "lg-secret-key-123"},
    } | extra


async def langgraph_connector(
    client: httpx.AsyncClient, url: str, project: str = "default", **extra: Any
) -> dict[str, Any]:
    body = langgraph_connector_body(url, **extra)
    return await create(client, f"/api/projects/{project}/connectors", body)


async def run_one_scenario(
    client: httpx.AsyncClient, connector_id: str, scenario_name: str
) -> dict[str, Any]:
    """Run an eval of one scenario with one persona to its end; the run's detail."""
    ann = await persona(client, "Ann")
    only = await scenario(client, scenario_name, [ann["id"]])
    evaluation = await create(
        client,
        "/api/projects/default/evals",
        {"name": scenario_name, "connectorId": connector_id, "scenarioIds": [only["id"]]},
    )
    await client.post(f"/api/projects/default/evals/{evaluation['id']}/runs", json={})
    [run] = await wait_for_runs(client, evaluation["id"], 1)
    return dict((await client.get(f"/api/projects/default/runs/{run['id']}")).json())


async def persona(client: httpx.AsyncClient, name: str, project: str = "default") -> dict[str, Any]:
    body = {
        "name": name,
        "description": f"{name}, a customer of the booking service.",
        "traits": {"patience": "low", "verbosity": "low", "language": "English"},
    }
    return await create(client, f"/api/projects/{project}/personas", body)


async def scenario(
    client: httpx.AsyncClient,
    name: str,
    persona_ids: list[str],
    project: str = "default",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "instructions": f"You want to: {name.lower()}. Your booking number is B123.",
        "personaIds": persona_ids,
    }
    if name == SUCCESS:
        body["successCriteria"] = "The agent confirms the booking is cancelled"
    if name == FAILURE:
        body["successCriteria"] = "The agent cancels the booking"
        body["failureCriteria"] = "The agent asks the customer for the booking number"
    if name == CUT_OFF:
        body["maxMessages"] = 3
    return await create(client, f"/api/projects/{project}/scenarios", body | extra)


async def wait_for_runs(
    client: httpx.AsyncClient, eval_id: str, count: int, project: str = "default"
) -> list[dict[str, Any]]:
    """Poll the eval's runs until ``count`` of them are completed."""
    runs: list[dict[str, Any]] = []

    async def done() -> bool:
        nonlocal runs
        response = await client.get(f"/api/projects/{project}/runs", params={"evalId": eval_id})
        assert response.status_code == 200, response.text
        runs = response.json()
        return sum(1 for r in runs if r["status"] not in ("pending", "running")) >= count

    await wait_until(done, timeout=30)
    return runs
