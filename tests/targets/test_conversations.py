"""Multi-turn conversations (``converse`` / ``end_session``) on the model, openai-chat, http and
python targets, and through the engine's retrying wrapper."""

from __future__ import annotations

from typing import Any

import pytest

from assay.core.errors import ConfigurationError, TargetError
from assay.core.outcome import NormalizedResponse
from assay.core.spec import ModelRef, TargetSpec
from assay.engine.retry import RetryPolicy
from assay.engine.runtime import RetryingTarget
from assay.targets._registry import create_target
from assay.targets.base import Target
from assay.targets.python import PythonTarget
from tests.fakes.http_agent import AgentReply, HTTPAgent
from tests.fakes.openai_server import FakeLLM, FakeReply

AGENTS = "tests.targets.agents"


def roles_and_contents(request: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(m["role"], m.get("content")) for m in request["messages"]]


@pytest.fixture
def model_target(fake_llm: FakeLLM, make_provider) -> Target:
    ref = ModelRef(provider="openai", model="gpt-test", system_prompt="Be brief.")
    secrets = {"api_key": "sk-test", "base_url": fake_llm.url}
    return create_target(TargetSpec(kind="model", model=ref), secrets, make_provider)


@pytest.fixture
def chat_agent(fake_llm: FakeLLM, make_provider) -> Target:
    spec = TargetSpec(
        kind="openai-chat",
        config={"base_url": fake_llm.url, "model": "agent-model", "system_prompt": "Book trips."},
    )
    return create_target(spec, {"api_key": "sk-agent-secret"}, make_provider)


async def test_a_models_second_turn_carries_the_first_turns_messages(
    fake_llm: FakeLLM, model_target: Target
):
    fake_llm.push("Hi, how can I help?", "Cancelled.")

    first = await model_target.converse("Hello", session_id="s", system_prompt="Persona test.")
    second = await model_target.converse("Cancel it", session_id="s", system_prompt="Persona test.")

    assert (first.output, second.output) == ("Hi, how can I help?", "Cancelled.")
    assert roles_and_contents(fake_llm.requests[1]) == [
        ("system", "Be brief.\n\nPersona test."),
        ("user", "Hello"),
        ("assistant", "Hi, how can I help?"),
        ("user", "Cancel it"),
    ]
    assert [m["content"] for m in second.messages][-2:] == ["Cancel it", "Cancelled."]


async def test_an_openai_chat_agents_history_keeps_the_replys_tool_calls(
    fake_llm: FakeLLM, chat_agent: Target
):
    fake_llm.push(
        FakeReply(content="", tool_calls=[{"name": "find_booking", "arguments": {"id": "B1"}}]),
        "Done.",
    )

    first = await chat_agent.converse("Cancel B1", session_id="s")
    await chat_agent.converse("Thanks", session_id="s")

    assert [c.name for c in first.tool_calls] == ["find_booking"]
    sent = fake_llm.requests[1]["messages"]
    assert roles_and_contents(fake_llm.requests[1]) == [
        ("system", "Book trips."),
        ("user", "Cancel B1"),
        ("assistant", None),
        ("user", "Thanks"),
    ]
    assert sent[2]["tool_calls"][0]["function"]["name"] == "find_booking"


async def test_separate_sessions_do_not_mix(fake_llm: FakeLLM, chat_agent: Target):
    await chat_agent.converse("alpha one", session_id="a")
    await chat_agent.converse("beta one", session_id="b")
    await chat_agent.converse("alpha two", session_id="a")

    assert roles_and_contents(fake_llm.requests[2]) == [
        ("system", "Book trips."),
        ("user", "alpha one"),
        ("assistant", "echo: alpha one"),
        ("user", "alpha two"),
    ]
    assert [m["content"] for m in fake_llm.requests[1]["messages"]] == ["Book trips.", "beta one"]


async def test_end_session_forgets_the_conversation_and_is_safe_twice(
    fake_llm: FakeLLM, chat_agent: Target
):
    await chat_agent.converse("first", session_id="s")
    await chat_agent.end_session("s")
    await chat_agent.end_session("s")
    await chat_agent.end_session("never-started")
    await chat_agent.converse("again", session_id="s")

    assert roles_and_contents(fake_llm.requests[1]) == [
        ("system", "Book trips."),
        ("user", "again"),
    ]


async def test_invoke_stays_single_turn_beside_a_conversation(
    fake_llm: FakeLLM, chat_agent: Target
):
    await chat_agent.converse("in the conversation", session_id="s")
    await chat_agent.invoke("alone", session_id="s")
    await chat_agent.converse("still in it", session_id="s")

    assert roles_and_contents(fake_llm.requests[1]) == [
        ("system", "Book trips."),
        ("user", "alone"),
    ]
    assert [m["content"] for m in fake_llm.requests[2]["messages"]] == [
        "Book trips.",
        "in the conversation",
        "echo: in the conversation",
        "still in it",
    ]


async def test_a_failed_turn_is_not_kept_and_the_engine_retries_only_that_turn(
    fake_llm: FakeLLM, chat_agent: Target
):
    handle = RetryingTarget(chat_agent, RetryPolicy(max_retries=2, base_delay=0.01))
    fake_llm.push("Hello!", FakeReply(status=503), "Cancelled.")

    await handle.converse("Hi", session_id="s")
    second = await handle.converse("Cancel", session_id="s")
    await handle.end_session("s")
    await handle.end_session("s")

    assert second.output == "Cancelled."
    assert len(fake_llm.requests) == 3
    assert fake_llm.requests[1]["messages"] == fake_llm.requests[2]["messages"]
    assert roles_and_contents(fake_llm.requests[2]) == [
        ("system", "Book trips."),
        ("user", "Hi"),
        ("assistant", "Hello!"),
        ("user", "Cancel"),
    ]


async def test_an_http_agent_gets_the_same_session_id_on_every_turn(
    http_agent: HTTPAgent, make_http_target
):
    target = make_http_target(
        request_template={"message": "{{input}}", "conversation": "{{session_id}}"},
        output_path="reply",
    )
    http_agent.push(
        AgentReply(body={"reply": "Which booking?"}), AgentReply(body={"reply": "Done."})
    )

    first = await target.converse("Cancel please", session_id="conv-1")
    second = await target.converse("B123", session_id="conv-1")
    await target.end_session("conv-1")

    assert [r.body for r in http_agent.requests] == [
        {"message": "Cancel please", "conversation": "conv-1"},
        {"message": "B123", "conversation": "conv-1"},
    ]
    assert (first.output, second.output) == ("Which booking?", "Done.")
    assert second.messages == [
        {"role": "user", "content": "B123"},
        {"role": "assistant", "content": "Done."},
    ]


async def test_a_python_function_taking_history_gets_the_earlier_turns():
    target = PythonTarget(f"{AGENTS}:with_history")

    first = await target.converse("one", session_id="s")
    second = await target.converse("two", session_id="s")
    other = await target.converse("solo", session_id="t")
    await target.end_session("s")
    fresh = await target.converse("three", session_id="s")

    assert first.output == "one after []"
    assert second.output == "two after ['one']"
    assert other.output == "solo after []"
    assert fresh.output == "three after []"
    assert second.messages == [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "one after []"},
        {"role": "user", "content": "two"},
        {"role": "assistant", "content": "two after ['one']"},
    ]


async def test_a_python_function_without_history_keys_its_own_state_by_session():
    target = PythonTarget(f"{AGENTS}:remembering")

    await target.converse("hi", session_id="p-1")
    second = await target.converse("bye", session_id="p-1")
    other = await target.converse("yo", session_id="p-2")

    assert second.output == "p-1 heard ['hi', 'bye']"
    assert other.output == "p-2 heard ['yo']"


async def test_a_python_turn_that_raises_is_not_kept():
    target = PythonTarget(f"{AGENTS}:failing_once")

    await target.converse("one", session_id="s")
    with pytest.raises(TargetError, match="exploded"):
        await target.converse("boom", session_id="s")
    after = await target.converse("two", session_id="s")

    assert after.output == "two after 2 messages"


async def test_a_python_invoke_passes_no_history():
    target = PythonTarget(f"{AGENTS}:with_kwargs")

    assert (await target.invoke("b", session_id="s")).output == "b with ['session_id']"
    assert (await target.converse("b", session_id="s")).output == (
        "b with ['history', 'session_id']"
    )


class SingleTurnTarget(Target):
    async def invoke(
        self, input: str, *, session_id: str, system_prompt: str | None = None
    ) -> NormalizedResponse:
        return NormalizedResponse(output=input)


async def test_a_target_without_conversation_support_says_so():
    target = SingleTurnTarget()

    with pytest.raises(ConfigurationError, match="SingleTurnTarget does not support multi-turn"):
        await target.converse("hi", session_id="s")
    await target.end_session("s")
