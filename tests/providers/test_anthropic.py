from __future__ import annotations

import pytest

from assay.core.errors import (
    ConfigurationError,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from assay.core.llm import ChatMessage, ChatRequest
from assay.core.outcome import ToolCall
from assay.providers.anthropic import DEFAULT_MAX_TOKENS, JSON_INSTRUCTION, AnthropicProvider
from assay.providers.base import ProviderConfig
from tests.fakes.openai_server import FakeLLM, FakeReply
from tests.providers.conftest import API_KEY, MakeProvider


def ask(text: str = "hi", **options: object) -> ChatRequest:
    return ChatRequest(messages=[ChatMessage(role="user", content=text)], **options)


async def test_text_usage_latency_and_model_come_from_the_response(
    fake_llm: FakeLLM, make_anthropic: MakeProvider
):
    fake_llm.push(FakeReply(content="Paris", prompt_tokens=12, completion_tokens=3))

    response = await make_anthropic("claude-test").generate(ask("Capital of France?"))

    assert response.text == "Paris"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (12, 3)
    assert response.latency_ms > 0
    assert response.model == "claude-test"
    assert response.tool_calls == []


async def test_system_messages_become_the_system_parameter(
    fake_llm: FakeLLM, make_anthropic: MakeProvider
):
    request = ChatRequest(
        messages=[
            ChatMessage(role="system", content="Be brief."),
            ChatMessage(role="user", content="hi"),
        ],
        temperature=0.3,
    )

    await make_anthropic().generate(request)

    sent = fake_llm.requests[0]
    assert sent["system"] == "Be brief."
    assert sent["messages"] == [{"role": "user", "content": "hi"}]
    assert sent["temperature"] == 0.3
    assert sent["max_tokens"] == DEFAULT_MAX_TOKENS


async def test_json_mode_appends_the_json_instruction_to_the_system_prompt(
    fake_llm: FakeLLM, make_anthropic: MakeProvider
):
    request = ChatRequest(
        messages=[
            ChatMessage(role="system", content="You are a judge."),
            ChatMessage(role="user", content="Grade this."),
        ],
        json_mode=True,
        max_tokens=50,
    )

    await make_anthropic().generate(request)

    sent = fake_llm.requests[0]
    assert sent["system"] == f"You are a judge.\n\n{JSON_INSTRUCTION}"
    assert sent["max_tokens"] == 50


async def test_tool_use_blocks_become_tool_calls(fake_llm: FakeLLM, make_anthropic: MakeProvider):
    fake_llm.push(
        FakeReply(
            content="Let me multiply.", tool_calls=[{"name": "multiply", "arguments": {"a": 12}}]
        )
    )

    response = await make_anthropic().generate(ask("What is 12 times 7?"))

    assert response.text == "Let me multiply."
    assert response.tool_calls == [ToolCall(name="multiply", arguments={"a": 12}, id="toolu_0")]


async def test_tools_and_earlier_tool_calls_are_sent_in_anthropic_shape(
    fake_llm: FakeLLM, make_anthropic: MakeProvider
):
    schema = {"type": "object", "properties": {"a": {"type": "number"}}}
    native = {"name": "lookup", "input_schema": {"type": "object"}}
    request = ChatRequest(
        messages=[
            ChatMessage(role="user", content="What is 12 times 7?"),
            ChatMessage(
                role="assistant",
                content="Multiplying.",
                tool_calls=[ToolCall(name="multiply", arguments={"a": 12, "b": 7}, id="t1")],
            ),
            ChatMessage(role="tool", content="84", tool_call_id="t1"),
        ],
        tools=[
            {
                "type": "function",
                "function": {"name": "multiply", "description": "a × b", "parameters": schema},
            },
            native,
        ],
    )

    await make_anthropic().generate(request)

    sent = fake_llm.requests[0]
    assert sent["tools"] == [
        {"name": "multiply", "description": "a × b", "input_schema": schema},
        native,
    ]
    assert sent["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Multiplying."},
                {"type": "tool_use", "id": "t1", "name": "multiply", "input": {"a": 12, "b": 7}},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "84"}],
        },
    ]


async def test_key_and_configured_headers_are_sent(fake_llm: FakeLLM, make_anthropic: MakeProvider):
    await make_anthropic(headers={"X-Team": "evals"}).generate(ask())

    headers = fake_llm.headers[0]
    # SDK 2.x sends the key as a bearer token; 0.x sent it as x-api-key.
    assert API_KEY in headers.get("authorization", "") + headers.get("x-api-key", "")
    assert headers["x-team"] == "evals"


def test_no_key_and_no_base_url_is_a_configuration_error_naming_the_variable():
    with pytest.raises(ConfigurationError, match="ANTHROPIC_API_KEY"):
        AnthropicProvider("claude-test", ProviderConfig())


async def test_429_is_rate_limited_with_the_servers_retry_after(
    fake_llm: FakeLLM, make_anthropic: MakeProvider
):
    fake_llm.push(FakeReply(status=429, retry_after=3))

    with pytest.raises(ProviderRateLimited) as caught:
        await make_anthropic().generate(ask())

    assert caught.value.retry_after == 3.0
    assert "injected 429" in caught.value.message


@pytest.mark.parametrize("status", [500, 529])
async def test_server_errors_and_overload_are_unavailable(
    fake_llm: FakeLLM, make_anthropic: MakeProvider, status: int
):
    fake_llm.push(FakeReply(status=status))

    with pytest.raises(ProviderUnavailable) as caught:
        await make_anthropic().generate(ask())

    assert caught.value.status_code == status


@pytest.mark.parametrize("status", [400, 401])
async def test_other_client_errors_are_rejected(
    fake_llm: FakeLLM, make_anthropic: MakeProvider, status: int
):
    fake_llm.push(FakeReply(status=status))

    with pytest.raises(ProviderRejected) as caught:
        await make_anthropic().generate(ask())

    assert caught.value.status_code == status
    assert f"HTTP {status}: injected {status}" in caught.value.message


async def test_connection_refused_is_unavailable(
    closed_port_url: str, make_anthropic: MakeProvider
):
    with pytest.raises(ProviderUnavailable) as caught:
        await make_anthropic(base_url=closed_port_url).generate(ask())

    assert caught.value.status_code is None


async def test_a_200_that_is_not_a_message_is_unavailable(
    hostile_server: str, make_anthropic: MakeProvider
):
    with pytest.raises(ProviderUnavailable) as caught:
        await make_anthropic(base_url=f"{hostile_server}/garbage").generate(ask())

    assert caught.value.status_code == 200


async def test_the_api_key_never_appears_in_an_error_message(
    fake_llm: FakeLLM, hostile_server: str, closed_port_url: str, make_anthropic: MakeProvider
):
    fake_llm.push(*(FakeReply(status=s) for s in (400, 401, 429, 529)))
    providers = [make_anthropic()] * 4 + [
        make_anthropic(base_url=f"{hostile_server}/echo"),
        make_anthropic(base_url=closed_port_url),
    ]
    errors: list[ProviderError] = []

    for provider in providers:
        with pytest.raises(ProviderError) as caught:
            await provider.generate(ask())
        errors.append(caught.value)

    assert "Incorrect API key provided: ***" in errors[4].message
    for error in errors:
        assert API_KEY not in str(error)
        assert API_KEY not in str(error.__cause__ or "")


async def test_connection_key_names_the_endpoint_but_not_the_key(make_anthropic: MakeProvider):
    provider = make_anthropic(base_url="http://127.0.0.1:9")

    assert provider.connection_key().startswith("http://127.0.0.1:9#")
    assert API_KEY not in provider.connection_key()
