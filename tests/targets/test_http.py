from __future__ import annotations

import json

import pytest

from assay.core.errors import ProviderRateLimited, ProviderUnavailable, TargetError
from assay.core.outcome import ToolCall
from assay.targets.http import HTTPConfig, HTTPTarget
from tests.fakes.http_agent import AgentReply, HTTPAgent


async def test_default_template_sends_input_and_session_id(http_agent: HTTPAgent, make_http_target):
    target = make_http_target()

    response = await target.invoke("hello", session_id="s-1")

    assert http_agent.requests[0].body == {"input": "hello", "session_id": "s-1"}
    assert http_agent.requests[0].method == "POST"
    assert response.output == "echo: hello"
    assert response.tool_calls == []
    assert response.messages == [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "echo: hello"},
    ]
    assert response.latency_ms > 0


async def test_template_substitutes_whole_and_embedded_placeholders_in_nested_values(
    http_agent: HTTPAgent, make_http_target
):
    template = {
        "messages": [{"role": "user", "content": "{{input}}"}],
        "meta": {"thread": "thread-{{session_id}}", "note": "say {{input}} twice: {{input}}"},
        "n": 3,
        "stream": False,
        "extra": None,
    }
    target = make_http_target(request_template=template)

    await target.invoke("hi", session_id="abc")

    assert http_agent.requests[0].body == {
        "messages": [{"role": "user", "content": "hi"}],
        "meta": {"thread": "thread-abc", "note": "say hi twice: hi"},
        "n": 3,
        "stream": False,
        "extra": None,
    }


async def test_input_with_quotes_and_braces_stays_one_json_string(
    http_agent: HTTPAgent, make_http_target
):
    target = make_http_target()
    tricky = 'say "hi" {{session_id}} } ]'

    await target.invoke(tricky, session_id="s")

    assert http_agent.requests[0].body["input"] == 'say "hi" {{session_id}} } ]'


async def test_each_call_sends_its_own_session_id(http_agent: HTTPAgent, make_http_target):
    target = make_http_target()

    await target.invoke("one", session_id="session-1")
    await target.invoke("two", session_id="session-2")

    assert [r.body["session_id"] for r in http_agent.requests] == ["session-1", "session-2"]


async def test_system_prompt_fills_its_placeholder_and_leaves_the_input_alone(
    http_agent: HTTPAgent, make_http_target
):
    template = {"system": "{{system_prompt}}", "message": "{{input}}", "thread": "{{session_id}}"}
    target = make_http_target(request_template=template)

    response = await target.invoke("hi", session_id="s", system_prompt="Secret: ABC")
    await target.invoke("again", session_id="s2")

    assert http_agent.requests[0].body == {"system": "Secret: ABC", "message": "hi", "thread": "s"}
    assert http_agent.requests[1].body == {"system": "", "message": "again", "thread": "s2"}
    assert response.messages[:2] == [
        {"role": "system", "content": "Secret: ABC"},
        {"role": "user", "content": "hi"},
    ]


async def test_system_prompt_without_a_placeholder_is_prepended_to_the_input(
    http_agent: HTTPAgent, make_http_target
):
    target = make_http_target()

    response = await target.invoke("hi", session_id="s", system_prompt="Secret: ABC")
    await target.invoke("plain", session_id="s2", system_prompt=None)

    sent = "[Context]\nSecret: ABC\n\n[User]\nhi"
    assert http_agent.requests[0].body == {"input": sent, "session_id": "s"}
    assert http_agent.requests[1].body == {"input": "plain", "session_id": "s2"}
    assert response.messages[0] == {"role": "user", "content": sent}


async def test_placeholders_inside_a_system_prompt_are_not_expanded(
    http_agent: HTTPAgent, make_http_target
):
    target = make_http_target(request_template={"s": "{{system_prompt}}", "i": "{{input}}"})

    await target.invoke("{{system_prompt}}", session_id="s", system_prompt="say {{input}}")

    assert http_agent.requests[0].body == {"s": "say {{input}}", "i": "{{system_prompt}}"}


async def test_method_and_path_are_configurable(http_agent: HTTPAgent, make_http_target):
    target = make_http_target(path="/agents/run", method="put")

    await target.invoke("x", session_id="s")

    assert (http_agent.requests[0].method, http_agent.requests[0].path) == ("PUT", "/agents/run")


async def test_nested_output_tool_calls_and_usage_paths(http_agent: HTTPAgent, make_http_target):
    http_agent.push(
        AgentReply(
            body={
                "choices": [
                    {
                        "message": {
                            "content": "it is sunny",
                            "tool_calls": [
                                {
                                    "id": "call_1",
                                    "function": {
                                        "name": "get_weather",
                                        "arguments": json.dumps({"city": "Oslo"}),
                                    },
                                }
                            ],
                        }
                    }
                ],
                "usage": {"prompt_tokens": 15, "completion_tokens": 4},
            }
        )
    )
    target = make_http_target(
        output_path="choices.0.message.content",
        tool_calls_path="choices.0.message.tool_calls",
        tool_name_key="function.name",
        tool_args_key="function.arguments",
        usage_input_tokens_path="usage.prompt_tokens",
        usage_output_tokens_path="usage.completion_tokens",
    )

    response = await target.invoke("weather in Oslo?", session_id="s")

    assert response.output == "it is sunny"
    assert response.tool_calls == [
        ToolCall(name="get_weather", arguments={"city": "Oslo"}, id="call_1")
    ]
    assert (response.usage.input_tokens, response.usage.output_tokens) == (15, 4)
    assert response.messages[-1]["tool_calls"] == [
        {"name": "get_weather", "arguments": {"city": "Oslo"}, "id": "call_1"}
    ]


async def test_tool_call_arguments_may_be_an_object_or_a_json_string(
    http_agent: HTTPAgent, make_http_target
):
    http_agent.push(
        AgentReply(
            output="done",
            tool_calls=[
                {"name": "search", "arguments": {"q": "cats"}},
                {"name": "open", "arguments": '{"url": "https://example.com"}'},
                {"name": "noop"},
            ],
        )
    )
    target = make_http_target()

    response = await target.invoke("find cats", session_id="s")

    assert response.tool_calls == [
        ToolCall(name="search", arguments={"q": "cats"}),
        ToolCall(name="open", arguments={"url": "https://example.com"}),
        ToolCall(name="noop", arguments={}),
    ]


async def test_missing_tool_calls_path_means_no_tool_calls(http_agent: HTTPAgent, make_http_target):
    http_agent.push(AgentReply(body={"output": "plain"}))
    target = make_http_target()

    response = await target.invoke("x", session_id="s")

    assert response.tool_calls == []
    assert response.usage.total_tokens == 0


async def test_non_string_output_is_returned_as_json(http_agent: HTTPAgent, make_http_target):
    http_agent.push(AgentReply(body={"output": {"answer": 42}}))
    target = make_http_target()

    response = await target.invoke("x", session_id="s")

    assert json.loads(response.output) == {"answer": 42}


async def test_tool_arguments_that_are_not_json_are_the_agents_error(
    http_agent: HTTPAgent, make_http_target
):
    http_agent.push(AgentReply(output="x", tool_calls=[{"name": "f", "arguments": "{not json"}]))
    target = make_http_target()

    with pytest.raises(TargetError, match=r"tool_calls\.0\.arguments"):
        await target.invoke("x", session_id="s")


async def test_tool_call_without_a_name_is_the_agents_error(
    http_agent: HTTPAgent, make_http_target
):
    http_agent.push(AgentReply(output="x", tool_calls=[{"arguments": {}}]))
    target = make_http_target()

    with pytest.raises(TargetError, match=r"tool_calls\.0 has no string at 'name'"):
        await target.invoke("x", session_id="s")


async def test_429_is_rate_limited_with_retry_after(http_agent: HTTPAgent, make_http_target):
    http_agent.push(AgentReply(body={"error": "slow down"}, status=429, retry_after="3"))
    target = make_http_target()

    with pytest.raises(ProviderRateLimited) as caught:
        await target.invoke("x", session_id="s")

    assert caught.value.retry_after == 3.0
    assert caught.value.status_code == 429


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_statuses_are_infrastructure(
    http_agent: HTTPAgent, make_http_target, status: int
):
    http_agent.push(AgentReply(body={"error": "down"}, status=status))
    target = make_http_target()

    with pytest.raises(ProviderUnavailable) as caught:
        await target.invoke("x", session_id="s")

    assert caught.value.status_code == status


@pytest.mark.parametrize("status", [500, 400, 404])
async def test_other_error_statuses_are_the_agents_error_with_an_excerpt(
    http_agent: HTTPAgent, make_http_target, status: int
):
    http_agent.push(AgentReply(body={"error": "tool crashed"}, status=status))
    target = make_http_target()

    with pytest.raises(TargetError, match=rf"HTTP {status}.*tool crashed"):
        await target.invoke("x", session_id="s")


async def test_non_json_body_is_the_agents_error(http_agent: HTTPAgent, make_http_target):
    http_agent.push(AgentReply(raw="<html>oops</html>"))
    target = make_http_target()

    with pytest.raises(TargetError, match="not JSON.*oops"):
        await target.invoke("x", session_id="s")


async def test_missing_output_path_is_the_agents_error_naming_the_path(
    http_agent: HTTPAgent, make_http_target
):
    http_agent.push(AgentReply(body={"choices": []}))
    target = make_http_target(output_path="choices.0.message.content")

    with pytest.raises(TargetError, match=r"output_path 'choices\.0\.message\.content'"):
        await target.invoke("x", session_id="s")


async def test_connection_refused_is_infrastructure(closed_port_url: str):
    target = HTTPTarget(HTTPConfig(url=f"{closed_port_url}/agent"))
    try:
        with pytest.raises(ProviderUnavailable, match="ConnectError"):
            await target.invoke("x", session_id="s")
    finally:
        await target.aclose()


async def test_timeout_is_infrastructure(http_agent: HTTPAgent, make_http_target):
    http_agent.push(AgentReply(output="late", latency=0.5))
    target = make_http_target(timeout=0.1)

    with pytest.raises(ProviderUnavailable, match="timed out after 0.1s"):
        await target.invoke("x", session_id="s")


async def test_latency_covers_the_agents_time(http_agent: HTTPAgent, make_http_target):
    http_agent.push(AgentReply(output="ok", latency=0.1))
    target = make_http_target()

    response = await target.invoke("x", session_id="s")

    assert response.latency_ms >= 100


async def test_headers_and_secret_headers_are_sent(http_agent: HTTPAgent, make_http_target):
    target = make_http_target(
        headers={"X-Team": "evals"}, secret_headers={"Authorization": "Bearer s3cret-token"}
    )

    await target.invoke("x", session_id="s")

    headers = http_agent.requests[0].headers
    assert headers["x-team"] == "evals"
    assert headers["authorization"] == "Bearer s3cret-token"
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "reply",
    [
        AgentReply(raw="echoing your auth: Bearer s3cret-token", status=500),
        AgentReply(raw="echoing your auth: Bearer s3cret-token"),
        AgentReply(raw="echoing your auth: Bearer s3cret-token", status=429),
        AgentReply(raw="echoing your auth: s3cret-token", status=400),
    ],
    ids=["error-status", "non-json", "rate-limited", "token-alone"],
)
async def test_secret_header_values_never_appear_in_errors(
    http_agent: HTTPAgent, make_http_target, reply: AgentReply
):
    http_agent.push(reply)
    target = make_http_target(secret_headers={"Authorization": "Bearer s3cret-token"})

    with pytest.raises((TargetError, ProviderRateLimited)) as caught:
        await target.invoke("x", session_id="s")

    assert "s3cret-token" not in str(caught.value)
    assert "echoing your auth" in str(caught.value)


async def test_aclose_is_safe_twice(make_http_target):
    target = make_http_target()

    await target.aclose()
    await target.aclose()


def test_config_rejects_a_non_http_url():
    with pytest.raises(ValueError, match="http:// or https://"):
        HTTPConfig(url="ftp://example.com/agent")
