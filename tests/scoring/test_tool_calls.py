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


def test_argument_checks_match_expected_keys_in_some_call_like_agno():
    made = [
        ToolCall(name="add", arguments={"a": 2, "b": 2}),
        ToolCall(name="add", arguments={"a": 3, "b": 3, "note": "x"}),
    ]
    both = compare_tool_calls(made, ["add"], expected_arguments={"add": [{"a": 2}, {"b": 3}]})
    assert both.passed_argument_checks == ["add"] and both.passed is True
    wrong = compare_tool_calls(made, ["add"], expected_arguments={"add": {"a": 2, "b": 3}})
    assert wrong.failed_argument_checks == ["add"] and wrong.passed is False
    absent = compare_tool_calls(made, ["add"], expected_arguments={"sub": {"a": 1}})
    assert absent.failed_argument_checks == ["sub"] and absent.passed is False


def test_a_missing_tool_is_not_argument_checked_again():
    check = compare_tool_calls(calls("add"), ["add", "sub"], expected_arguments={"sub": {}})
    assert check.missing_tool_calls == ["sub"]
    assert check.failed_argument_checks == [] and check.passed_argument_checks == []


def test_allowed_additional_calls_are_listed_and_do_not_fail():
    check = compare_tool_calls(calls("add", "log"), ["add"], allow_additional=True)
    assert check.additional_tool_calls == ["log"]
    assert check.failed_tool_calls == [] and check.passed is True
    none_expected = compare_tool_calls(calls("log"), [])
    assert none_expected.failed_tool_calls == ["log"] and none_expected.passed is False
