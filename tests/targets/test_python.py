from __future__ import annotations

import pytest

from assay.core.errors import ConfigurationError, TargetError
from assay.core.outcome import ToolCall
from assay.targets.python import PythonTarget

AGENTS = "tests.targets.agents"


async def test_sync_function_returning_a_string():
    target = PythonTarget(f"{AGENTS}:echo")

    response = await target.invoke("hi", session_id="s-1")

    assert response.output == "echo: hi"
    assert response.messages == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "echo: hi"},
    ]
    assert target.in_process is True


async def test_async_function_is_awaited_with_the_session_id():
    target = PythonTarget(f"{AGENTS}:async_echo")

    response = await target.invoke("hi", session_id="s-2")

    assert response.output == "async: hi in s-2"


async def test_session_id_is_passed_only_to_functions_that_accept_it():
    with_session = PythonTarget(f"{AGENTS}:with_session")
    with_kwargs = PythonTarget(f"{AGENTS}:with_kwargs")
    without = PythonTarget(f"{AGENTS}:echo")

    assert (await with_session.invoke("a", session_id="s-3")).output == "a in s-3"
    assert (await with_kwargs.invoke("b", session_id="s-4")).output == "b with ['session_id']"
    assert (await without.invoke("c", session_id="s-5")).output == "echo: c"


async def test_system_prompt_is_passed_to_functions_that_accept_it():
    target = PythonTarget(f"{AGENTS}:with_system_prompt")

    response = await target.invoke("a", session_id="s", system_prompt="be terse")
    unset = await target.invoke("b", session_id="s")

    assert response.output == "a under 'be terse'"
    assert response.messages[:2] == [
        {"role": "system", "content": "be terse"},
        {"role": "user", "content": "a"},
    ]
    assert unset.output == "b under 'default instructions'"


async def test_system_prompt_is_prepended_for_functions_that_do_not_accept_it():
    target = PythonTarget(f"{AGENTS}:echo")

    response = await target.invoke("c", session_id="s", system_prompt="be terse")

    assert response.output == "echo: [Context]\nbe terse\n\n[User]\nc"
    assert response.messages[0] == {"role": "user", "content": "[Context]\nbe terse\n\n[User]\nc"}


async def test_system_prompt_goes_through_kwargs():
    target = PythonTarget(f"{AGENTS}:with_kwargs")

    response = await target.invoke("d", session_id="s", system_prompt="x")

    assert response.output == "d with ['session_id', 'system_prompt']"


async def test_structured_dict_becomes_the_normalized_response():
    target = PythonTarget(f"{AGENTS}:structured")

    response = await target.invoke("Oslo", session_id="s")

    assert response.output == "the weather in Oslo is sunny"
    assert response.tool_calls == [ToolCall(name="get_weather", arguments={"city": "Oslo"})]
    assert response.messages == [
        {"role": "user", "content": "Oslo"},
        {"role": "tool", "content": "sunny"},
    ]
    assert (response.usage.input_tokens, response.usage.output_tokens) == (12, 7)


async def test_normalized_response_is_returned_with_measured_latency():
    target = PythonTarget(f"{AGENTS}:normalized")

    response = await target.invoke("hey", session_id="s")

    assert response.output == "HEY"
    assert response.tool_calls == [ToolCall(name="shout", arguments={"text": "hey"})]
    assert response.model == "shouter-1"
    assert response.usage.total_tokens == 7
    assert response.latency_ms > 0


async def test_latency_covers_a_sync_functions_run():
    target = PythonTarget(f"{AGENTS}:slow")

    response = await target.invoke("x", session_id="s")

    assert response.latency_ms >= 50


async def test_a_method_can_be_named_with_a_dotted_attribute():
    target = PythonTarget(f"{AGENTS}:Agent.reply")

    assert (await target.invoke("x", session_id="s")).output == "method: x"


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("failing", r"agents:failing raised ValueError: cannot handle 'boom'"),
        ("async_failing", r"agents:async_failing raised RuntimeError: the async agent broke"),
    ],
)
async def test_exceptions_become_target_errors_with_type_and_message(function, message):
    target = PythonTarget(f"{AGENTS}:{function}")

    with pytest.raises(TargetError, match=message):
        await target.invoke("boom", session_id="s")


async def test_a_dict_without_output_is_the_agents_error():
    target = PythonTarget(f"{AGENTS}:malformed")

    with pytest.raises(TargetError, match="malformed dict: output: Field required"):
        await target.invoke("x", session_id="s")


async def test_an_unsupported_return_type_is_the_agents_error():
    target = PythonTarget(f"{AGENTS}:wrong_type")

    with pytest.raises(TargetError, match="returned int"):
        await target.invoke("x", session_id="s")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("tests.targets.agents", "must look like package.module:function"),
        ("tests.targets.no_such_module:agent", "cannot be imported: ModuleNotFoundError"),
        (f"{AGENTS}:no_such_function", "cannot be imported: AttributeError"),
        (f"{AGENTS}:NOT_CALLABLE", "is a str, not callable"),
    ],
)
def test_a_bad_callable_path_is_a_configuration_error_naming_it(path: str, reason: str):
    with pytest.raises(ConfigurationError) as caught:
        PythonTarget(path)

    assert repr(path) in caught.value.message
    assert reason in caught.value.message
