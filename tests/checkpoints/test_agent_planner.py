"""`agentId` (an Assay extension): a registered openai-chat agent plans the task and calls the
task agent's tools through function calling, with its own endpoint, model and key.

The agent is the fake OpenAI server, serving a plan and tool calls over real HTTP; the
server's own model settings point nowhere useful, so only the agent's credentials can work.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.core.principal import Role
from tests.api.eval_runs_helpers import register_chat_agent
from tests.checkpoints.people import REVIEWER, user_key
from tests.checkpoints.test_task_runs import status, until_status
from tests.factories import make_key, make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM, FakeReply

pytestmark = pytest.mark.timeout(60)

TASK = {
    "taskName": "Commission",
    "taskDescription": "Compute 15% of $50,000 and email it to the boss",
    "autoDetectCheckpoints": True,
    "testMode": "with-verification",
    "assignedReviewer": REVIEWER,
}


async def test_a_registered_chat_agent_plans_and_calls_the_tools(tmp_path: Path, fake_llm: FakeLLM):
    fake_llm.push(
        FakeReply(content=json.dumps({"steps": ["Compute the commission", "Email the boss"]})),
        FakeReply(tool_calls=[{"name": "calculator", "arguments": {"expression": "0.15 * 50000"}}]),
        FakeReply(content="The commission is 7500"),
        FakeReply(
            tool_calls=[
                {
                    "name": "send_email",
                    "arguments": {"to": ["boss@elsewhere.org"], "subject": "Q4", "body": "7500"},
                }
            ]
        ),
        FakeReply(content="Email staged"),
    )
    # No server-wide OpenAI key or URL: the planner can only work with the agent's own.
    settings = make_settings(tmp_path, agent_model="mock/task-agent")
    with serve_assay(settings) as server:
        reviewer = await user_key(settings, REVIEWER)
        async with server.client(await make_key(settings, "default", Role.ADMIN)) as admin:
            await register_chat_agent(admin, fake_llm, "planner-bot")
        async with server.client(reviewer) as client:
            created = await client.post(
                "/api/eval/create-task-agent", json=TASK | {"agentId": "planner-bot"}
            )
            assert created.status_code == 200, created.text
            execution_id = created.json()["executionId"]
            waiting = await until_status(client, execution_id, "waiting_verification")
            [checkpoint] = waiting["checkpoints"]["details"]
            assert checkpoint["stepId"] == "step-2"
            assert "boss@elsewhere.org" in checkpoint["evalMetadata"]["reason"]
            assert waiting["metrics"]["model"] == "openai/agent-model"
            verified = await client.post(
                f"/api/eval/verify/{execution_id}",
                json={"checkpointNumber": 1, "action": "approved"},
            )
            assert verified.status_code == 200, verified.text
            done = await until_status(client, execution_id, "completed")
            assert done["progress"]["completedSteps"] == 2
            assert done["isComplete"] is True and done["isFailed"] is False
            assert (await status(client, execution_id))["metrics"]["tapsUsed"] == 1

    assert [r["model"] for r in fake_llm.requests] == ["agent-model"] * 5
    assert {h["authorization"] for h in fake_llm.headers} == {"Bearer sk-agent-secret"}
    tool_names = {t["function"]["name"] for t in fake_llm.requests[1]["tools"]}
    assert {"calculator", "send_email", "request_verification"} <= tool_names
    answer = fake_llm.requests[2]["messages"][-1]
    assert answer["role"] == "tool" and json.loads(answer["content"]) == {"result": 7500}


async def test_a_bad_agent_id_is_refused_naming_it(tmp_path: Path, fake_llm: FakeLLM):
    settings = make_settings(tmp_path)
    with serve_assay(settings) as server:
        reviewer = await user_key(settings, REVIEWER)
        async with server.client(await make_key(settings, "default", Role.ADMIN)) as admin:
            http_agent = await admin.post(
                "/v1/agents",
                json={"id": "web-bot", "kind": "http", "config": {"url": fake_llm.url}},
            )
            assert http_agent.status_code == 201, http_agent.text
        async with server.client(reviewer) as client:
            missing = await client.post(
                "/api/eval/create-task-agent", json=TASK | {"agentId": "nobody"}
            )
            assert missing.status_code == 404
            assert "agentId" in missing.json()["error"]
            wrong_kind = await client.post(
                "/api/eval/create-task-agent", json=TASK | {"agentId": "web-bot"}
            )
            assert wrong_kind.status_code == 400
            assert wrong_kind.json()["field"] == "agentId"
            assert "openai-chat" in wrong_kind.json()["hint"]
            unknown = await client.post(
                "/api/eval/create-task-agent", json=TASK | {"agentId": "nosuch/model"}
            )
            assert unknown.status_code == 400 and unknown.json()["field"] == "agentId"
            listed = await client.get("/v1/evaluations")
            assert listed.json()["total"] == 0
