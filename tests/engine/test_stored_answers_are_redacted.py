"""An agent that echoes a credential in its answer never gets it stored: every known secret
of the evaluation, and the server's provider key, is `[redacted]` in outcomes, errors and
item events, as the API returns them and as the database holds them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assay.core.redaction import REDACTED
from assay.store.db import create_engine
from assay.store.tables import Item, ItemEvent
from tests.api.eval_runs_helpers import is_judge_request, register_chat_agent
from tests.api.projects_helpers import (
    SUCCESS,
    create,
    persona,
    scenario,
    script_simulator_and_judge,
)
from tests.factories import RunningAssay, make_settings, serve_assay, wait_until
from tests.fakes.http_agent import AgentReply, HTTPAgent, serve_http_agent
from tests.fakes.openai_server import FakeLLM, FakeReply

#: The server's OPENAI_API_KEY in tests/factories.make_settings.
SERVER_KEY = "sk-test-secret"
#: The agent's key in tests/api/eval_runs_helpers.register_chat_agent.
AGENT_KEY = "sk-agent-secret"
CONNECTOR_KEY = "conn-key-5c1f0e9d8b7a"


@pytest.fixture
def stored_assay(
    tmp_path: Path, fake_llm: FakeLLM, any_database_url: str
) -> Iterator[RunningAssay]:
    """A running Assay whose judge and OpenAI provider are the fake LLM, on each database."""
    settings = make_settings(tmp_path, database_url=any_database_url, fake_llm=fake_llm)
    with serve_assay(settings) as running:
        yield running


@pytest.fixture
def http_agent() -> Iterator[HTTPAgent]:
    with serve_http_agent() as agent:
        yield agent


async def _stored(running: RunningAssay) -> str:
    """Every item outcome, item error and item event as the database holds them."""
    db = create_engine(running.settings.database_url)
    try:
        async with db.connect() as conn:
            items = (await conn.execute(select(Item.outcome, Item.error))).all()
            events = (await conn.execute(select(ItemEvent.payload))).all()
    finally:
        await db.dispose()
    assert items
    return json.dumps([list(row) for row in items] + [list(row) for row in events])


async def test_an_openai_chat_agent_echoing_its_key_is_stored_redacted(
    stored_assay: RunningAssay, fake_llm: FakeLLM
):
    assay = stored_assay

    def handler(body: dict[str, Any]) -> FakeReply:
        if is_judge_request(body):
            verdict = {"score": 9, "passed": True, "reason": f"it said {AGENT_KEY}"}
            return FakeReply(content=json.dumps(verdict))
        # The agent repeats the credential it was called with, and knows the server's key too.
        sent = fake_llm.headers[-1]["authorization"]
        return FakeReply(
            content=f"You called me with {sent!r}; the server uses {SERVER_KEY}.",
            tool_calls=[{"name": "login", "arguments": {"password": AGENT_KEY}}],
        )

    fake_llm.handler = handler
    async with assay.client(await assay.key()) as client:
        await register_chat_agent(client, fake_llm)
        response = await client.post(
            "/eval-runs",
            json={
                "eval_type": "accuracy",
                "input": "Who are you?",
                "expected_output": "an agent",
                "agent_id": "calc-agent",
                "num_iterations": 2,
            },
        )
    assert response.status_code == 200, response.text
    result = response.json()["eval_data"]["results"][0]
    assert (
        result["output"] == f"You called me with 'Bearer {REDACTED}'; the server uses {REDACTED}."
    )
    assert result["reason"] == f"it said {REDACTED}"
    stored = await _stored(assay)
    for text in (response.text, stored):
        assert AGENT_KEY not in text and SERVER_KEY not in text
    assert f'"password": "{REDACTED}"' in stored


async def test_a_connector_echoing_its_credentials_is_redacted_in_events_and_transcripts(
    stored_assay: RunningAssay, fake_llm: FakeLLM, http_agent: HTTPAgent
):
    assay = stored_assay
    script_simulator_and_judge(fake_llm)
    http_agent.push(
        AgentReply(
            output=f"Your token is {CONNECTOR_KEY}.",
            tool_calls=[{"name": "lookup", "arguments": {"auth": f"Bearer {CONNECTOR_KEY}"}}],
        ),
        # A failing agent that prints the server's key: the error is stored too.
        AgentReply(status=400, raw=f"bad request, upstream key {SERVER_KEY}"),
    )
    async with assay.client(await assay.key()) as client:
        connector = await create(
            client,
            "/api/projects/default/connectors",
            {
                "name": "Echo agent",
                "type": "http",
                "baseUrl": http_agent.url,
                "credentials": {"apiKey": CONNECTOR_KEY},
            },
        )
        ann = await persona(client, "Ann")
        situation = await scenario(client, SUCCESS, [ann["id"]])
        evaluation = await create(
            client,
            "/api/projects/default/evals",
            {"name": "Echo", "connectorId": connector["id"], "scenarioIds": [situation["id"]]},
        )
        runs = (await client.post(f"/api/projects/default/evals/{evaluation['id']}/runs")).json()
        detail: dict[str, Any] = {}

        async def finished() -> bool:
            nonlocal detail
            detail = (await client.get(f"/api/projects/default/runs/{runs[0]['id']}")).json()
            return detail["status"] not in ("pending", "running")

        await wait_until(finished, timeout=30)
    # The agent really received the key, and answered with it.
    assert http_agent.requests[0].headers["authorization"] == f"Bearer {CONNECTOR_KEY}"
    assistant = [t for t in detail["transcript"] if t["role"] == "assistant"]
    assert assistant[0]["content"] == f"Your token is {REDACTED}."
    stored = await _stored(assay)
    for text in (json.dumps(detail), stored):
        assert CONNECTOR_KEY not in text and SERVER_KEY not in text
    assert f"upstream key {REDACTED}" in stored  # the agent_error event and the outcome
    # The whole header value is a secret, so the tool call's argument is blanked whole.
    assert f'"auth": "{REDACTED}"' in stored
