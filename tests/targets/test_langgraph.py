from __future__ import annotations

from pathlib import Path

import pytest

from assay.core.errors import (
    ProviderRateLimited,
    ProviderUnavailable,
    TargetError,
    ValidationFailed,
)
from assay.core.outcome import ToolCall
from assay.core.spec import TargetSpec
from assay.engine.retry import RetryPolicy
from assay.engine.runtime import RetryingTarget
from assay.targets._registry import create_target, validate_agent_config
from assay.targets.langgraph import LangGraphConfig, LangGraphTarget
from tests.fakes.langgraph_server import (
    ASSISTANT_ID,
    FakeLangGraph,
    RunReply,
    langgraph_dev_available,
    serve_langgraph_dev,
)

SECRET = "lg-secret-key-123"


def no_provider(*_args):
    raise AssertionError("langgraph must not ask for a provider")


async def test_a_conversation_runs_every_turn_on_one_thread(
    fake_langgraph: FakeLangGraph, make_langgraph_target
):
    target = make_langgraph_target()

    first = await target.converse("I want to cancel", session_id="s-1")
    second = await target.converse("It is B123", session_id="s-1")

    assert first.output == "Which booking should I cancel? Please give the booking number."
    assert second.output == "Booking B123 is cancelled."
    assert [c.model_dump() for c in second.tool_calls] == [
        {"name": "cancel_booking", "arguments": {"booking_id": "B123"}, "id": "call_2"}
    ]
    assert first.tool_calls == []
    [thread_id] = fake_langgraph.threads
    assert fake_langgraph.paths() == [
        "POST /threads",
        f"POST /threads/{thread_id}/runs/wait",
        f"POST /threads/{thread_id}/runs/wait",
    ]
    assert fake_langgraph.requests[2].body == {
        "assistant_id": ASSISTANT_ID,
        "input": {"messages": [{"role": "user", "content": "It is B123"}]},
    }


async def test_the_response_reads_the_thread_state(make_langgraph_target):
    target = make_langgraph_target()

    await target.converse("cancel my trip", session_id="s")
    response = await target.converse("B7", session_id="s")

    assert [(m["role"], m["content"]) for m in response.messages] == [
        ("user", "cancel my trip"),
        ("assistant", "Which booking should I cancel? Please give the booking number."),
        ("user", "B7"),
        ("assistant", ""),
        ("tool", "cancelled"),
        ("assistant", "Booking B7 is cancelled."),
    ]
    assert response.messages[3]["tool_calls"][0]["name"] == "cancel_booking"
    assert response.messages[4]["tool_call_id"] == "call_2"
    # this turn's two AI messages, not the first turn's
    assert (response.usage.input_tokens, response.usage.output_tokens) == (22, 14)
    assert response.model == "booking-rules"
    assert response.latency_ms > 0


async def test_each_session_gets_its_own_thread(
    fake_langgraph: FakeLangGraph, make_langgraph_target
):
    target = make_langgraph_target()

    await target.converse("cancel", session_id="a")
    other = await target.converse("hello", session_id="b")
    back = await target.converse("B1", session_id="a")

    assert len(fake_langgraph.threads) == 2
    assert other.output == "Hello! I can cancel a booking for you. (turn 1)"
    assert back.output == "Booking B1 is cancelled."
    assert [r.body["metadata"] for r in fake_langgraph.requests if r.path == "/threads"] == [
        {"assay_session_id": "a"},
        {"assay_session_id": "b"},
    ]


async def test_end_session_forgets_the_thread(fake_langgraph: FakeLangGraph, make_langgraph_target):
    target = make_langgraph_target()

    await target.converse("cancel", session_id="s")
    await target.end_session("s")
    await target.end_session("s")
    response = await target.converse("B1", session_id="s")

    assert len(fake_langgraph.threads) == 2
    assert response.output == "Hello! I can cancel a booking for you. (turn 1)"


async def test_invoke_is_one_turn_on_a_fresh_thread(
    fake_langgraph: FakeLangGraph, make_langgraph_target
):
    target = make_langgraph_target()

    await target.invoke("cancel", session_id="s")
    response = await target.invoke("B1", session_id="s")
    continued = await target.converse("hello", session_id="s")

    assert len(fake_langgraph.threads) == 3
    assert response.output == "Hello! I can cancel a booking for you. (turn 1)"
    assert continued.output == "Hello! I can cancel a booking for you. (turn 1)"


async def test_the_system_prompt_leads_the_first_turn_only(
    fake_langgraph: FakeLangGraph, make_langgraph_target
):
    target = make_langgraph_target()

    await target.converse("hello", session_id="s", system_prompt="You are Ann.")
    await target.converse("again", session_id="s", system_prompt="You are Ann.")

    runs = [r.body["input"]["messages"] for r in fake_langgraph.requests if "runs" in r.path]
    assert runs == [
        [{"role": "system", "content": "You are Ann."}, {"role": "user", "content": "hello"}],
        [{"role": "user", "content": "again"}],
    ]


async def test_api_key_and_headers_are_sent_on_every_request(
    fake_langgraph: FakeLangGraph, make_langgraph_target
):
    target = make_langgraph_target(headers={"X-Team": "evals"})

    await target.converse("hi", session_id="s")

    assert len(fake_langgraph.requests) == 2
    for request in fake_langgraph.requests:
        assert request.headers["x-api-key"] == SECRET
        assert request.headers["x-team"] == "evals"


async def test_without_an_api_key_no_key_header_is_sent(
    fake_langgraph: FakeLangGraph, make_langgraph_target
):
    await make_langgraph_target(api_key=None).invoke("hi", session_id="s")

    assert "x-api-key" not in fake_langgraph.requests[0].headers


async def test_429_is_rate_limited(fake_langgraph: FakeLangGraph, make_langgraph_target):
    fake_langgraph.push(RunReply(status=429, retry_after="3"))

    with pytest.raises(ProviderRateLimited) as caught:
        await make_langgraph_target().converse("hi", session_id="s")

    assert caught.value.retry_after == 3.0


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_statuses_are_infrastructure(
    fake_langgraph: FakeLangGraph, make_langgraph_target, status: int
):
    fake_langgraph.push(RunReply(status=status, body={"echo": SECRET}))

    with pytest.raises(ProviderUnavailable) as caught:
        await make_langgraph_target().converse("hi", session_id="s")

    assert caught.value.status_code == status
    assert SECRET not in caught.value.message


async def test_connection_refused_is_infrastructure(closed_port_url: str):
    target = LangGraphTarget(
        LangGraphConfig(base_url=closed_port_url, assistant_id="a"), api_key=SECRET
    )
    try:
        with pytest.raises(ProviderUnavailable, match="POST .*/threads failed") as caught:
            await target.converse("hi", session_id="s")
    finally:
        await target.aclose()

    assert SECRET not in caught.value.message


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (RunReply(status=500, body={"detail": f"boom with {SECRET}"}), "HTTP 500"),
        (RunReply(status=404, body={"detail": "Thread or assistant not found."}), "HTTP 404"),
        (RunReply(raw=f"<html>{SECRET}</html>"), "not JSON"),
        (RunReply(body={"__error__": {"error": "ValueError", "message": SECRET}}), "ValueError"),
        (RunReply(body={"messages": [{"type": "human", "content": "hi"}]}), "did not reply"),
        (RunReply(body={"values": "elsewhere"}), "no 'messages' list"),
    ],
)
async def test_the_agents_failures_are_target_errors_without_the_key(
    fake_langgraph: FakeLangGraph, make_langgraph_target, reply: RunReply, match: str
):
    fake_langgraph.push(reply)

    with pytest.raises(TargetError, match=match) as caught:
        await make_langgraph_target().converse("hi", session_id="s")

    assert SECRET not in caught.value.message
    if SECRET in repr(reply):
        assert "***" in caught.value.message


async def test_an_unknown_assistant_is_a_target_error(make_langgraph_target):
    target = make_langgraph_target(assistant_id="nope")

    with pytest.raises(TargetError, match="HTTP 422"):
        await target.invoke("hi", session_id="s")


async def test_a_failed_thread_creation_is_classified_and_retried(
    fake_langgraph: FakeLangGraph, make_langgraph_target
):
    fake_langgraph.fail_threads.append(RunReply(status=503))
    handle = RetryingTarget(make_langgraph_target(), RetryPolicy(max_retries=1, base_delay=0.01))

    response = await handle.converse("hello", session_id="s", system_prompt="Be Ann.")

    assert response.output == "Hello! I can cancel a booking for you. (turn 1)"
    assert fake_langgraph.paths()[:2] == ["POST /threads", "POST /threads"]
    assert len(fake_langgraph.threads) == 1


async def test_a_retried_first_turn_still_carries_the_system_prompt(
    fake_langgraph: FakeLangGraph, make_langgraph_target
):
    fake_langgraph.push(RunReply(status=502))
    handle = RetryingTarget(make_langgraph_target(), RetryPolicy(max_retries=1, base_delay=0.01))

    await handle.converse("hello", session_id="s", system_prompt="Be Ann.")

    runs = [r for r in fake_langgraph.requests if "runs" in r.path]
    assert len(runs) == 2
    assert runs[0].path == runs[1].path
    assert runs[1].body["input"]["messages"][0] == {"role": "system", "content": "Be Ann."}


async def test_a_thread_without_an_id_is_a_target_error(
    fake_langgraph: FakeLangGraph, make_langgraph_target
):
    fake_langgraph.fail_threads.append(RunReply(body={"status": "idle"}))

    with pytest.raises(TargetError, match="without a thread_id"):
        await make_langgraph_target().converse("hi", session_id="s")


async def test_role_shaped_messages_and_content_blocks_are_read(
    fake_langgraph: FakeLangGraph, make_langgraph_target
):
    fake_langgraph.push(
        RunReply(
            body={
                "messages": [
                    {"role": "user", "content": "weather?"},
                    {
                        "role": "assistant",
                        "content": [
                            {"type": "text", "text": "Sunny"},
                            {"type": "text", "text": "!"},
                        ],
                        "tool_calls": [
                            {
                                "id": "c1",
                                "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                            }
                        ],
                    },
                ]
            }
        )
    )

    response = await make_langgraph_target().converse("weather?", session_id="s")

    assert response.output == "Sunny!"
    assert response.tool_calls == [ToolCall(name="weather", arguments={"city": "Oslo"}, id="c1")]


def test_registry_validates_the_langgraph_config_and_keeps_the_key_secret():
    stored = validate_agent_config(
        "langgraph",
        {"base_url": "http://127.0.0.1:2024/", "assistant_id": "agent"},
        {"api_key": SECRET},
    )

    assert stored.config == {
        "base_url": "http://127.0.0.1:2024",
        "assistant_id": "agent",
        "headers": {},
        "timeout": 120.0,
    }
    assert stored.secrets == {"api_key": SECRET}


def test_registry_requires_base_url_and_assistant_id():
    with pytest.raises(ValidationFailed) as caught:
        validate_agent_config("langgraph", {"base_url": "ftp://x"}, {"api_key": SECRET})

    assert sorted(e["loc"] for e in caught.value.errors) == [
        ["config", "assistant_id"],
        ["config", "base_url"],
    ]
    assert SECRET not in str(caught.value.errors)


async def test_create_target_builds_a_langgraph_target_that_sends_its_key(
    fake_langgraph: FakeLangGraph,
):
    spec = TargetSpec(
        kind="langgraph", config={"base_url": fake_langgraph.url, "assistant_id": ASSISTANT_ID}
    )
    target = create_target(spec, {"api_key": SECRET}, no_provider)
    try:
        response = await target.invoke("hello", session_id="s")
    finally:
        await target.aclose()

    assert isinstance(target, LangGraphTarget)
    assert response.output.startswith("Hello!")
    assert fake_langgraph.requests[-1].headers["x-api-key"] == SECRET


@pytest.mark.skipif(not langgraph_dev_available(), reason="langgraph-cli[inmem] not installed")
async def test_a_real_langgraph_dev_server_holds_the_conversation(tmp_path: Path):
    with serve_langgraph_dev(tmp_path) as url:
        target = LangGraphTarget(LangGraphConfig(base_url=url, assistant_id=ASSISTANT_ID))
        try:
            first = await target.converse("Cancel my booking", session_id="s", system_prompt="Hi")
            second = await target.converse("It is B42", session_id="s")
            other = await target.converse("hello", session_id="t")
        finally:
            await target.aclose()

    assert first.output == "Which booking should I cancel? Please give the booking number."
    assert second.output == "Booking B42 is cancelled."
    assert [(c.name, c.arguments) for c in second.tool_calls] == [
        ("cancel_booking", {"booking_id": "B42"})
    ]
    assert [m["role"] for m in second.messages] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "tool",
        "assistant",
    ]
    assert second.usage.output_tokens == 14
    assert other.output == "Hello! I can cancel a booking for you. (turn 1)"
