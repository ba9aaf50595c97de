from __future__ import annotations

import pytest

from assay.core.errors import ProviderRateLimited, ProviderUnavailable, TargetError
from assay.core.outcome import ToolCall
from assay.core.spec import TargetSpec
from assay.targets._registry import create_target
from assay.targets.base import Target
from assay.targets.openai_chat import OpenAIChatTarget
from tests.fakes.openai_server import FakeLLM, FakeReply


@pytest.fixture
def chat_agent(fake_llm: FakeLLM, make_provider) -> Target:
    spec = TargetSpec(
        kind="openai-chat",
        config={
            "base_url": fake_llm.url,
            "model": "agent-model",
            "system_prompt": "You do arithmetic.",
            "temperature": 0.2,
            "max_tokens": 64,
            "headers": {"X-Team": "evals"},
        },
    )
    return create_target(spec, {"api_key": "sk-agent-secret"}, make_provider)


async def test_output_usage_and_exchanged_messages(fake_llm: FakeLLM, chat_agent: Target):
    fake_llm.push(FakeReply(content="4", prompt_tokens=11, completion_tokens=2))

    response = await chat_agent.invoke("What is 2 + 2?", session_id="s")

    assert isinstance(chat_agent, OpenAIChatTarget)
    assert response.output == "4"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (11, 2)
    assert response.model == "agent-model"
    assert response.latency_ms > 0
    assert response.messages == [
        {"role": "system", "content": "You do arithmetic."},
        {"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "content": "4"},
    ]


async def test_request_carries_model_and_generation_settings(fake_llm: FakeLLM, chat_agent: Target):
    await chat_agent.invoke("hi", session_id="s")

    request = fake_llm.requests[0]
    assert request["model"] == "agent-model"
    assert request["temperature"] == 0.2
    assert request.get("max_tokens", request.get("max_completion_tokens")) == 64


async def test_tool_calls_are_read_from_the_response(fake_llm: FakeLLM, chat_agent: Target):
    fake_llm.push(FakeReply(tool_calls=[{"name": "multiply", "arguments": {"a": 12, "b": 7}}]))

    response = await chat_agent.invoke("What is 12 times 7?", session_id="s")

    assert [(c.name, c.arguments) for c in response.tool_calls] == [("multiply", {"a": 12, "b": 7})]
    assert response.messages[-1]["role"] == "assistant"
    assert response.messages[-1]["tool_calls"][0]["name"] == "multiply"
    assert all(isinstance(c, ToolCall) for c in response.tool_calls)


async def test_each_invoke_is_a_fresh_conversation(fake_llm: FakeLLM, chat_agent: Target):
    await chat_agent.invoke("first question", session_id="s-1")
    await chat_agent.invoke("second question", session_id="s-2")

    conversations = [
        [(m["role"], m["content"]) for m in request["messages"]] for request in fake_llm.requests
    ]
    assert conversations == [
        [("system", "You do arithmetic."), ("user", "first question")],
        [("system", "You do arithmetic."), ("user", "second question")],
    ]


async def test_a_calls_system_prompt_is_merged_after_the_agents_own(
    fake_llm: FakeLLM, chat_agent: Target
):
    await chat_agent.invoke("What is 2 + 2?", session_id="s", system_prompt="Never reveal X.")

    assert fake_llm.requests[0]["messages"] == [
        {"role": "system", "content": "You do arithmetic.\n\nNever reveal X."},
        {"role": "user", "content": "What is 2 + 2?"},
    ]


async def test_key_and_configured_headers_are_sent(fake_llm: FakeLLM, chat_agent: Target):
    await chat_agent.invoke("hi", session_id="s")

    headers = fake_llm.headers[0]
    assert headers["authorization"] == "Bearer sk-agent-secret"
    assert headers["x-team"] == "evals"


@pytest.mark.parametrize("status", [500, 501, 400, 404])
async def test_agent_failures_are_target_errors(fake_llm: FakeLLM, chat_agent: Target, status: int):
    fake_llm.push(FakeReply(status=status))

    with pytest.raises(TargetError, match=str(status)) as caught:
        await chat_agent.invoke("hi", session_id="s")

    assert "sk-agent-secret" not in caught.value.message


async def test_429_is_rate_limited(fake_llm: FakeLLM, chat_agent: Target):
    fake_llm.push(FakeReply(status=429, retry_after=2))

    with pytest.raises(ProviderRateLimited) as caught:
        await chat_agent.invoke("hi", session_id="s")

    assert caught.value.retry_after == 2.0


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_statuses_stay_infrastructure(
    fake_llm: FakeLLM, chat_agent: Target, status: int
):
    fake_llm.push(FakeReply(status=status))

    with pytest.raises(ProviderUnavailable) as caught:
        await chat_agent.invoke("hi", session_id="s")

    assert caught.value.status_code == status


async def test_connection_refused_stays_infrastructure(closed_port_url: str, make_provider):
    spec = TargetSpec(
        kind="openai-chat", config={"base_url": f"{closed_port_url}/v1", "model": "m"}
    )
    target = create_target(spec, {"api_key": "sk-x"}, make_provider)

    with pytest.raises(ProviderUnavailable):
        await target.invoke("hi", session_id="s")
