import pytest

from assay.core.outcome import NormalizedResponse
from assay.examples.calculator import DIVIDE_BY_ZERO, QUESTIONS, REFUSAL, agent
from assay.kinds.accuracy import AccuracyKind
from assay.providers.base import ProviderConfig
from assay.providers.mock import MockProvider
from tests.kinds.support import CalculatorTarget, LabelledLLM, make_spec, run_evaluation


@pytest.mark.parametrize(
    ("question", "answer", "tool", "arguments"),
    [
        ("What is 12 times 7?", "12 times 7 is 84.", "multiply", {"a": 12, "b": 7}),
        ("Add 3 and 4", "3 plus 4 is 7.", "add", {"a": 3, "b": 4}),
        ("What is 2 + 2?", "2 plus 2 is 4.", "add", {"a": 2, "b": 2}),
        ("Subtract 4 from 10", "10 minus 4 is 6.", "subtract", {"a": 10, "b": 4}),
        ("what is 10-3", "10 minus 3 is 7.", "subtract", {"a": 10, "b": 3}),
        ("Multiply 2.5 by 4", "2.5 times 4 is 10.", "multiply", {"a": 2.5, "b": 4}),
        ("Divide 9 by 3", "9 divided by 3 is 3.", "divide", {"a": 9, "b": 3}),
        ("What is 3 x 4?", "3 times 4 is 12.", "multiply", {"a": 3, "b": 4}),
    ],
)
def test_arithmetic_in_words_or_symbols_calls_the_right_tool(question, answer, tool, arguments):
    result = agent(question, "s-1")

    assert result["output"] == answer
    assert result["tool_calls"] == [{"name": tool, "arguments": arguments, "id": f"s-1-{tool}"}]
    assert NormalizedResponse.model_validate(result).tool_calls[0].name == tool


def test_fractional_division_is_rounded_on_purpose():
    assert agent("What is 7 divided by 2?", "s")["output"] == "7 divided by 2 is 4."


def test_division_by_zero_is_refused_but_still_calls_divide():
    result = agent("What is 9 / 0?", "s")

    assert result["output"] == DIVIDE_BY_ZERO
    assert result["tool_calls"][0]["name"] == "divide"
    assert result["messages"][2] == {
        "role": "tool",
        "tool_call_id": "s-divide",
        "content": "error: division by zero",
    }


def test_anything_else_is_politely_declined_without_tools():
    result = agent("What is the capital of France?", "s")

    assert result == {
        "output": REFUSAL,
        "tool_calls": [],
        "messages": [
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": REFUSAL},
        ],
    }


def test_quickstart_questions_call_the_expected_tools():
    for question in QUESTIONS:
        called = [c["name"] for c in agent(question.input, "s")["tool_calls"]]
        assert called == question.expected_tool_calls, question.input


async def test_quickstart_questions_fail_only_on_the_deliberate_flaw_under_the_mock_judge():
    judge = LabelledLLM(MockProvider("judge", ProviderConfig()), label="mock/judge")
    failing = []
    for question in QUESTIONS:
        spec = make_spec(
            "accuracy", {"input": question.input, "expected_output": question.expected_output}
        )
        _, summary = await run_evaluation(AccuracyKind(), spec, CalculatorTarget(), judge)
        if summary["counts"]["failed"]:
            failing.append(question.input)

    assert failing == ["What is 7 divided by 2?"]
