"""Shared set-up for /eval-runs tests: an openai-chat agent and a judge on the fake LLM."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.fakes.openai_server import FakeLLM, FakeReply


def is_judge_request(body: dict[str, Any]) -> bool:
    return body.get("response_format", {}).get("type") == "json_object"


def script_agent_and_judge(
    fake: FakeLLM,
    *,
    answer: str = "12 times 7 is 84.",
    tool_calls: list[dict[str, Any]] | None = None,
    verdict: dict[str, Any] | None = None,
    agent_status: int = 200,
) -> None:
    """Agent requests get ``answer``; judge requests (JSON mode) get ``verdict``."""
    verdict = verdict or {"score": 9, "passed": True, "reason": "The answer matches: 84."}

    def handler(body: dict[str, Any]) -> FakeReply:
        if is_judge_request(body):
            return FakeReply(content=json.dumps(verdict), prompt_tokens=200, completion_tokens=30)
        return FakeReply(
            content=answer,
            tool_calls=tool_calls or [],
            status=agent_status,
            prompt_tokens=20,
            completion_tokens=8,
        )

    fake.handler = handler


def agent_requests(fake: FakeLLM) -> list[dict[str, Any]]:
    return [r for r in fake.requests if not is_judge_request(r)]


def judge_requests(fake: FakeLLM) -> list[dict[str, Any]]:
    return [r for r in fake.requests if is_judge_request(r)]


async def register_chat_agent(
    client: httpx.AsyncClient, fake: FakeLLM, agent_id: str = "calc-agent"
) -> dict[str, Any]:
    response = await client.post(
        "/v1/agents",
        json={
            "id": agent_id,
            "kind": "openai-chat",
            "name": "Calculator agent",
            "config": {
                "base_url": fake.url,
                "model": "agent-model",
                "system_prompt": "You do arithmetic.",
            },
            "secrets": {"api_key": "sk-agent-secret"},
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())
