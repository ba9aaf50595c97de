from __future__ import annotations

import pytest

from assay.core.errors import ProviderRejected, ProviderUnavailable
from assay.core.spec import ModelRef, TargetSpec
from assay.targets._registry import create_target
from assay.targets.base import Target
from assay.targets.model import ModelTarget
from tests.fakes.openai_server import FakeLLM, FakeReply


@pytest.fixture
def model_target(fake_llm: FakeLLM, make_provider) -> Target:
    ref = ModelRef(
        provider="openai",
        model="gpt-test",
        system_prompt="Be brief.",
        temperature=0.0,
        max_tokens=32,
    )
    secrets = {"api_key": "sk-test", "base_url": fake_llm.url}
    return create_target(TargetSpec(kind="model", model=ref), secrets, make_provider)


async def test_a_bare_model_answers_with_the_exchanged_messages(
    fake_llm: FakeLLM, model_target: Target
):
    fake_llm.push(
        FakeReply(content="Paris", tool_calls=[{"name": "lookup", "arguments": {"q": "France"}}])
    )

    response = await model_target.invoke("Capital of France?", session_id="s")

    assert isinstance(model_target, ModelTarget)
    assert response.output == "Paris"
    assert [c.name for c in response.tool_calls] == ["lookup"]
    assert [(m["role"], m["content"]) for m in response.messages] == [
        ("system", "Be brief."),
        ("user", "Capital of France?"),
        ("assistant", "Paris"),
    ]
    assert response.messages[-1]["tool_calls"][0]["arguments"] == {"q": "France"}
    assert response.usage.total_tokens == 15
    assert fake_llm.requests[0]["model"] == "gpt-test"
    assert fake_llm.requests[0]["temperature"] == 0.0


async def test_without_a_system_prompt_only_the_user_message_is_sent(
    fake_llm: FakeLLM, make_provider
):
    spec = TargetSpec(kind="model", model=ModelRef(provider="openai", model="gpt-test"))
    target = create_target(spec, {"api_key": "sk-test", "base_url": fake_llm.url}, make_provider)

    await target.invoke("hi", session_id="s")

    assert [(m["role"], m["content"]) for m in fake_llm.requests[0]["messages"]] == [("user", "hi")]


async def test_a_calls_system_prompt_follows_the_configured_one(
    fake_llm: FakeLLM, model_target: Target
):
    response = await model_target.invoke("hi", session_id="s", system_prompt="The code is 42.")

    sent = fake_llm.requests[0]["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("system", "Be brief.\n\nThe code is 42."),
        ("user", "hi"),
    ]
    assert response.messages[0] == {"role": "system", "content": "Be brief.\n\nThe code is 42."}


async def test_a_calls_system_prompt_alone_is_the_system_message(fake_llm: FakeLLM, make_provider):
    spec = TargetSpec(kind="model", model=ModelRef(provider="openai", model="gpt-test"))
    target = create_target(spec, {"api_key": "sk-test", "base_url": fake_llm.url}, make_provider)

    await target.invoke("hi", session_id="s", system_prompt="The code is 42.")
    await target.invoke("again", session_id="s2", system_prompt="")

    assert [(m["role"], m["content"]) for m in fake_llm.requests[0]["messages"]] == [
        ("system", "The code is 42."),
        ("user", "hi"),
    ]
    assert [m["role"] for m in fake_llm.requests[1]["messages"]] == ["user"]


@pytest.mark.parametrize(("status", "error"), [(500, ProviderUnavailable), (400, ProviderRejected)])
async def test_provider_errors_propagate_unchanged(
    fake_llm: FakeLLM, model_target: Target, status: int, error: type[Exception]
):
    fake_llm.push(FakeReply(status=status))

    with pytest.raises(error):
        await model_target.invoke("hi", session_id="s")
