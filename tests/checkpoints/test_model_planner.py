"""A model plans the task and calls the tools through function calling (the fake OpenAI server).

The planner reaches the fake over real HTTP; a business action it calls is staged, paused on
for the reviewer (its reason taken from the arguments), and only recorded, never performed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.checkpoints.people import REVIEWER, user_key
from tests.checkpoints.test_task_runs import status, until_status
from tests.factories import make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM, FakeReply

pytestmark = pytest.mark.timeout(60)


async def test_the_model_planner_uses_tools_and_pauses_before_an_outside_email(
    tmp_path: Path, fake_llm: FakeLLM
):
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
    settings = make_settings(tmp_path, fake_llm=fake_llm, agent_model="openai/planner-1")
    with serve_assay(settings) as server:
        reviewer = await user_key(settings, REVIEWER)
        task = {
            "taskName": "Commission",
            "taskDescription": "Compute 15% of $50,000 and email it to the boss",
            "autoDetectCheckpoints": True,
            "testMode": "with-verification",
            "assignedReviewer": REVIEWER,
        }
        async with server.client(reviewer) as client:
            created = (await client.post("/api/eval/create-task-agent", json=task)).json()
            assert created["checkpointCount"] == 0, "a model planner decides as it goes"
            execution_id = created["executionId"]
            waiting = await until_status(client, execution_id, "waiting_verification")
            [checkpoint] = waiting["checkpoints"]["details"]
            assert checkpoint["stepId"] == "step-2"
            assert "outside the team, to boss@elsewhere.org" in checkpoint["evalMetadata"]["reason"]
            [call] = checkpoint["evalMetadata"]["evidence"]["tool_calls"]
            assert call["name"] == "send_email" and call["status"] == "staged"
            assert waiting["metrics"]["model"] == "openai/planner-1"
            verified = await client.post(
                f"/api/eval/verify/{execution_id}",
                json={"checkpointNumber": 1, "action": "approved"},
            )
            assert verified.status_code == 200, verified.text
            done = await until_status(client, execution_id, "completed")
            assert done["progress"]["completedSteps"] == 2
            assert (await status(client, execution_id))["metrics"]["tapsUsed"] == 1

    assert [r["model"] for r in fake_llm.requests] == ["planner-1"] * 5
    assert fake_llm.requests[0]["response_format"] == {"type": "json_object"}
    tool_names = {t["function"]["name"] for t in fake_llm.requests[1]["tools"]}
    assert {"calculator", "send_email", "request_verification"} <= tool_names
    calculator_answer = fake_llm.requests[2]["messages"][-1]
    assert calculator_answer["role"] == "tool" and json.loads(calculator_answer["content"]) == {
        "result": 7500
    }
