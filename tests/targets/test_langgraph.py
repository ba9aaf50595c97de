from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from assay.core.errors import (
    ConfigurationError,
    ProviderRateLimited,
    ProviderRejected,
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
from tests.fakes.booking_agent import API_KEY
from tests.fakes.langgraph_server import ASSISTANT_ID, FakeLangGraph, RunReply

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
    first_run, second_run = fake_langgraph.requests[1].body, fake_langgraph.requests[2].body
    assert second_run == {
        "assistant_id": ASSISTANT_ID,
        "input": {"messages": [{"role": "user", "content": "It is B123"}]},
        "metadata": {"assay_turn": second_run["metadata"]["assay_turn"]},
        "multitask_strategy": "reject",
    }
    assert first_run["metadata"]["assay_turn"] != second_run["metadata"]["assay_turn"]


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


@pytest.mark.parametrize(
    ("reply", "error", "match"),
    [
        (RunReply(status=404, body={"detail": "Thread not found."}), ConfigurationError, "404"),
        (RunReply(status=422, body={"detail": "Invalid assistant"}), ConfigurationError, "422"),
        (RunReply(status=401, body={"detail": f"no {SECRET}"}), ProviderRejected, "refused"),
        (RunReply(status=403, body={"detail": "forbidden"}), ProviderRejected, "refused"),
    ],
)
async def test_answers_about_the_settings_are_not_the_agents_fault(
    fake_langgraph: FakeLangGraph, make_langgraph_target, reply: RunReply, error, match: str
):
    fake_langgraph.push(reply)

    with pytest.raises(error, match=match) as caught:
        await make_langgraph_target().converse("hi", session_id="s")

    assert not isinstance(caught.value, TargetError)
    assert SECRET not in caught.value.message


async def test_an_unknown_assistant_is_a_configuration_error(make_langgraph_target):
    target = make_langgraph_target(assistant_id="nope")

    with pytest.raises(ConfigurationError, match="HTTP 422.*'nope'"):
        await target.invoke("hi", session_id="s")
    with pytest.raises(ConfigurationError, match="no assistant or graph 'nope'"):
        await target.check()
    await make_langgraph_target().check()


async def test_a_turn_the_server_took_before_a_gateway_error_is_joined_not_resent(
    fake_langgraph: FakeLangGraph, make_langgraph_target
):
    fake_langgraph.push(RunReply(status=504, accepted=True))
    handle = RetryingTarget(make_langgraph_target(), RetryPolicy(max_retries=1, base_delay=0.01))

    response = await handle.converse("Cancel B9", session_id="s")

    assert response.output == "Booking B9 is cancelled."
    [thread_id] = fake_langgraph.threads
    assert fake_langgraph.paths()[1:] == [
        f"POST /threads/{thread_id}/runs/wait",
        f"GET /threads/{thread_id}/runs",
        f"GET /threads/{thread_id}/runs/{fake_langgraph.runs[thread_id][0]['run_id']}/join",
    ]
    humans = [m for m in fake_langgraph.threads[thread_id] if m["type"] == "human"]
    assert len(humans) == 1


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

    runs = [r for r in fake_langgraph.requests if r.path.endswith("/runs/wait")]
    assert len(runs) == 2  # the first was refused before the server took it, so it is resent
    assert runs[0].body["metadata"] == runs[1].body["metadata"]
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


# -- the real `langgraph dev` server (tests/conftest.py: langgraph_dev) ----------------------

REAL = pytest.mark.timeout(240)  # the first test on a worker waits for the server to start


def real_target(url: str, api_key: str | None = API_KEY, **config: Any) -> LangGraphTarget:
    settings = {"base_url": url, "assistant_id": ASSISTANT_ID} | config
    return LangGraphTarget(LangGraphConfig(**settings), api_key=api_key)


async def session_thread(url: str, session_id: str) -> tuple[list[Any], list[Any]]:
    """The session's thread on the server: its messages and its runs."""
    async with httpx.AsyncClient(base_url=url, headers={"x-api-key": API_KEY}) as client:
        found = await client.post(
            "/threads/search", json={"metadata": {"assay_session_id": session_id}}
        )
        [thread] = found.json()
        state = (await client.get(f"/threads/{thread['thread_id']}/state")).json()
        runs = (await client.get(f"/threads/{thread['thread_id']}/runs")).json()
    return state["values"]["messages"], runs


@REAL
async def test_a_real_langgraph_dev_server_holds_the_conversation(langgraph_dev: str):
    target = real_target(langgraph_dev)
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


@REAL
async def test_a_turn_retried_after_a_client_timeout_joins_the_accepted_run(langgraph_dev: str):
    session = f"slow-{uuid.uuid4()}"
    # The run takes 3 s; the client gives up after 1 s, and each retry waits on the same run.
    target = real_target(langgraph_dev, timeout=1.0)
    handle = RetryingTarget(target, RetryPolicy(max_retries=8, base_delay=0.5))
    try:
        await handle.converse("Cancel my booking", session_id=session)
        answer = await handle.converse("It is B42 [slow]", session_id=session)
        after = await handle.converse("thanks", session_id=session)
    finally:
        await target.aclose()
    messages, runs = await session_thread(langgraph_dev, session)

    assert answer.output == "Booking B42 is cancelled."
    assert [(c.name, c.arguments) for c in answer.tool_calls] == [
        ("cancel_booking", {"booking_id": "B42"})
    ]
    humans = [m["content"] for m in messages if m["type"] == "human"]
    assert humans == ["Cancel my booking", "It is B42 [slow]", "thanks"]
    assert len(runs) == 3 and {r["status"] for r in runs} == {"success"}
    assert after.tool_calls == []  # the thread took the next turn: nothing was left queued


@REAL
async def test_a_real_servers_answers_about_the_settings_are_configuration_errors(
    langgraph_dev: str,
):
    wrong_key = real_target(langgraph_dev, api_key="not-the-key")
    no_key = real_target(langgraph_dev, api_key=None)
    unknown = real_target(langgraph_dev, assistant_id="no-such-graph")
    good = real_target(langgraph_dev)
    try:
        with pytest.raises(ProviderRejected, match="HTTP 401: the API key was refused") as refused:
            await wrong_key.converse("hi", session_id="s")
        with pytest.raises(ProviderRejected, match="HTTP 401: the API key is missing"):
            await no_key.invoke("hi", session_id="s")
        with pytest.raises(ConfigurationError, match="HTTP 422.*'no-such-graph'"):
            await unknown.converse("hi", session_id="s")
        with pytest.raises(TargetError, match="RuntimeError: the booking database is down"):
            await good.converse("Cancel B1 [crash]", session_id="s")
        # the same questions up front, running nothing
        await good.check()
        with pytest.raises(ProviderRejected):
            await wrong_key.check()
        with pytest.raises(ConfigurationError, match="HTTP 404.*'no-such-graph'"):
            await unknown.check()
    finally:
        for target in (wrong_key, no_key, unknown, good):
            await target.aclose()

    assert refused.value.status_code == 401 and "not-the-key" not in refused.value.message
