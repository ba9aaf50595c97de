from assay.core.outcome import ToolCall
from assay.scoring.tool_calls import compare_tool_calls


def calls(*names: str) -> list[ToolCall]:
    return [ToolCall(name=name, arguments={"a": 1}) for name in names]


def test_expected_calls_pass_and_unexpected_calls_fail_like_agno():
    check = compare_tool_calls(calls("multiply", "search", "add"), ["multiply", "add"])
    assert check.passed_tool_calls == ["multiply", "add"]
    assert check.failed_tool_calls == ["search"]
    assert check.missing_tool_calls == []
    assert check.passed is False


def test_no_calls_at_all_fail_with_the_expected_list():
    check = compare_tool_calls([], ["multiply", "add"])
    assert check.passed_tool_calls == []
    assert check.failed_tool_calls == ["multiply", "add"]
    assert check.missing_tool_calls == ["multiply", "add"]
    assert check.passed is False


def test_expected_tool_never_called_is_missing_and_fails():
    check = compare_tool_calls(calls("multiply"), ["multiply", "add"])
    assert check.passed_tool_calls == ["multiply"]
    assert check.failed_tool_calls == []
    assert check.missing_tool_calls == ["add"]
    assert check.passed is False


def test_repeated_calls_are_listed_once_per_call_and_pass():
    check = compare_tool_calls(calls("multiply", "multiply"), ["multiply"])
    assert check.passed_tool_calls == ["multiply", "multiply"]
    assert check.failed_tool_calls == []
    assert check.missing_tool_calls == []
    assert check.passed is True


def test_missing_names_are_deduplicated_in_expected_order():
    check = compare_tool_calls(calls("divide"), ["add", "subtract", "add", "divide"])
    assert check.missing_tool_calls == ["add", "subtract"]
