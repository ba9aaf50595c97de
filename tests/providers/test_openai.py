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
from assay.providers.base import ProviderConfig
from assay.providers.openai import OpenAIProvider, decode_arguments, max_tokens_field
from tests.fakes.openai_server import FakeLLM, FakeReply
from tests.providers.conftest import API_KEY, MakeProvider


def ask(text: str = "hi", **options: object) -> ChatRequest:
    return ChatRequest(messages=[ChatMessage(role="user", content=text)], **options)


async def test_text_usage_latency_and_model_come_from_the_response(
    fake_llm: FakeLLM, make_openai: MakeProvider
):
    fake_llm.push(FakeReply(content="Paris", prompt_tokens=12, completion_tokens=3))

    response = await make_openai("gpt-test").generate(ask("Capital of France?"))

    assert response.text == "Paris"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (12, 3)
    assert response.latency_ms > 0
    assert response.model == "gpt-test"
    assert response.tool_calls == []


async def test_tool_calls_are_parsed_with_decoded_arguments_and_ids(
    fake_llm: FakeLLM, make_openai: MakeProvider
):
    fake_llm.push(
        FakeReply(
            tool_calls=[
                {"name": "multiply", "arguments": {"a": 12, "b": 7}},
                {"name": "lookup", "arguments": "not an object"},
            ]
        )
    )

    response = await make_openai().generate(ask("What is 12 times 7?"))

    assert response.text == ""
    assert response.tool_calls == [
        ToolCall(name="multiply", arguments={"a": 12, "b": 7}, id="call_0"),
        ToolCall(name="lookup", arguments={"_raw": '"not an object"'}, id="call_1"),
    ]


@pytest.mark.parametrize(
    ("text", "arguments"),
    [
        ('{"a": 1}', {"a": 1}),
        ('{"a": 1', {"_raw": '{"a": 1'}),
        ("[1, 2]", {"_raw": "[1, 2]"}),
        ("", {}),
    ],
)
def test_tool_arguments_that_are_not_a_json_object_are_kept_raw(
    text: str, arguments: dict[str, object]
):
    assert decode_arguments(text) == arguments


async def test_json_mode_asks_for_a_json_object(fake_llm: FakeLLM, make_openai: MakeProvider):
    await make_openai().generate(ask("Reply in JSON", json_mode=True))
    await make_openai().generate(ask("Reply in prose"))

    first, second = fake_llm.requests
    assert first["response_format"] == {"type": "json_object"}
    assert "response_format" not in second


async def test_system_prompt_temperature_and_max_tokens_are_forwarded(
    fake_llm: FakeLLM, make_openai: MakeProvider
):
    request = ChatRequest(
        messages=[
            ChatMessage(role="system", content="Be brief."),
            ChatMessage(role="user", content="hi"),
        ],
        temperature=0.3,
        max_tokens=64,
    )

    await make_openai("gpt-test").generate(request)

    sent = fake_llm.requests[0]
    assert sent["model"] == "gpt-test"
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]
    assert sent["temperature"] == 0.3
    assert sent["max_tokens"] == 64
    assert "tools" not in sent


def test_openai_itself_gets_max_completion_tokens_and_other_servers_max_tokens():
    assert max_tokens_field("https://api.openai.com/v1") == "max_completion_tokens"
    assert max_tokens_field("http://localhost:8000/v1") == "max_tokens"


async def test_tools_and_earlier_tool_calls_are_sent_in_openai_shape(
    fake_llm: FakeLLM, make_openai: MakeProvider
):
    tool = {"type": "function", "function": {"name": "multiply", "parameters": {}}}
    request = ChatRequest(
        messages=[
            ChatMessage(role="user", content="What is 12 times 7?"),
            ChatMessage(
                role="assistant",
                content="",
                tool_calls=[ToolCall(name="multiply", arguments={"a": 12, "b": 7}, id="c1")],
            ),
            ChatMessage(role="tool", content="84", tool_call_id="c1"),
        ],
        tools=[tool],
    )

    await make_openai().generate(request)

    sent = fake_llm.requests[0]
    assert sent["tools"] == [tool]
    assert sent["messages"][1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "multiply", "arguments": '{"a": 12, "b": 7}'},
                }
            ],
        },
        {"role": "tool", "content": "84", "tool_call_id": "c1"},
    ]


async def test_key_and_configured_headers_are_sent(fake_llm: FakeLLM, make_openai: MakeProvider):
    await make_openai(headers={"X-Team": "evals"}).generate(ask())

    headers = fake_llm.headers[0]
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert headers["x-team"] == "evals"


async def test_a_local_server_without_a_key_gets_a_placeholder(
    fake_llm: FakeLLM, make_openai: MakeProvider
):
    await make_openai(api_key=None).generate(ask())

    assert fake_llm.headers[0]["authorization"] == "Bearer not-needed"


def test_no_key_and_no_base_url_is_a_configuration_error_naming_the_variable():
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        OpenAIProvider("gpt-4o", ProviderConfig())


async def test_429_is_rate_limited_with_the_servers_retry_after(
    fake_llm: FakeLLM, make_openai: MakeProvider
):
    fake_llm.push(FakeReply(status=429, retry_after=1.5))

    with pytest.raises(ProviderRateLimited) as caught:
        await make_openai().generate(ask())

    assert caught.value.retry_after == 1.5
    assert caught.value.status_code == 429
    assert "429" in caught.value.message
    assert "injected 429" in caught.value.message


async def test_429_without_retry_after_leaves_the_wait_to_the_engine(
    fake_llm: FakeLLM, make_openai: MakeProvider
):
    fake_llm.push(FakeReply(status=429))

    with pytest.raises(ProviderRateLimited) as caught:
        await make_openai().generate(ask())

    assert caught.value.retry_after is None


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_unavailable_with_their_status(
    fake_llm: FakeLLM, make_openai: MakeProvider, status: int
):
    fake_llm.push(FakeReply(status=status))

    with pytest.raises(ProviderUnavailable) as caught:
        await make_openai().generate(ask())

    assert caught.value.status_code == status
    assert caught.value.retryable
    assert str(status) in caught.value.message


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_other_client_errors_are_rejected_with_their_status(
    fake_llm: FakeLLM, make_openai: MakeProvider, status: int
):
    fake_llm.push(FakeReply(status=status))

    with pytest.raises(ProviderRejected) as caught:
        await make_openai().generate(ask())

    assert caught.value.status_code == status
    assert not caught.value.retryable
    assert f"HTTP {status}: injected {status}" in caught.value.message


async def test_connection_refused_is_unavailable(closed_port_url: str, make_openai: MakeProvider):
    provider = make_openai(base_url=f"{closed_port_url}/v1")

    with pytest.raises(ProviderUnavailable) as caught:
        await provider.generate(ask())

    assert caught.value.status_code is None
    assert closed_port_url in caught.value.message


async def test_a_call_slower_than_the_timeout_is_unavailable(
    fake_llm: FakeLLM, make_openai: MakeProvider
):
    fake_llm.push(FakeReply(content="late", latency=1.0))

    with pytest.raises(ProviderUnavailable):
        await make_openai(timeout=0.1).generate(ask())


async def test_a_200_that_is_not_a_chat_completion_is_unavailable(
    hostile_server: str, make_openai: MakeProvider
):
    provider = make_openai(base_url=f"{hostile_server}/garbage/v1")

    with pytest.raises(ProviderUnavailable) as caught:
        await provider.generate(ask())

    assert caught.value.status_code == 200


async def test_the_api_key_never_appears_in_an_error_message(
    fake_llm: FakeLLM, hostile_server: str, closed_port_url: str, make_openai: MakeProvider
):
    fake_llm.push(*(FakeReply(status=s) for s in (400, 401, 429, 500)))
    providers = [make_openai()] * 4 + [
        make_openai(base_url=f"{hostile_server}/echo/v1"),
        make_openai(base_url=f"{closed_port_url}/v1"),
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


async def test_connection_key_names_the_endpoint_but_not_the_key(make_openai: MakeProvider):
    first = make_openai(base_url="http://127.0.0.1:9/v1")
    same_account = make_openai(base_url="http://127.0.0.1:9/v1")
    other_key = make_openai(base_url="http://127.0.0.1:9/v1", api_key="sk-other")

    assert first.connection_key().startswith("http://127.0.0.1:9/v1")
    assert API_KEY not in first.connection_key()
    assert first.connection_key() == same_account.connection_key()
    assert first.connection_key() != other_key.connection_key()


async def test_aclose_is_safe_twice_and_before_any_call(make_openai: MakeProvider):
    unused = make_openai()
    used = make_openai()
    await used.generate(ask())

    for provider in (unused, used):
        await provider.aclose()
        await provider.aclose()
