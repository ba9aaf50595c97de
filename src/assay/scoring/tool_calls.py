"""Compare the tools an agent called with the tools it was expected to call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from assay.core.outcome import ToolCall

#: Agno's ``expected_tool_call_arguments``: per tool, one argument set or several.
ExpectedArguments = Mapping[str, Mapping[str, Any] | Sequence[Mapping[str, Any]]]


class ToolCallCheck(NamedTuple):
    """The result of one comparison; lists keep call order and repeats, as Agno reports them."""

    #: Calls (by name, one entry per call) whose tool was expected.
    passed_tool_calls: list[str]
    #: Calls whose tool was not expected; the expected names when no tool was called at all.
    failed_tool_calls: list[str]
    #: Expected tool names that were never called, in expected order.
    missing_tool_calls: list[str]
    #: True when nothing failed and nothing is missing.
    passed: bool
    #: Calls whose tool was not expected, when additional calls are allowed.
    additional_tool_calls: list[str] = []
    #: Tools whose expected arguments were all found in some call (Agno's argument checks).
    passed_argument_checks: list[str] = []
    #: Tools with expected arguments that no call matched, or that were never called.
    failed_argument_checks: list[str] = []


def compare_tool_calls(
    actual: Sequence[ToolCall],
    expected: Sequence[str],
    *,
    allow_additional: bool = False,
    expected_arguments: ExpectedArguments | None = None,
) -> ToolCallCheck:
    """Check ``actual`` calls against the ``expected`` tool names and arguments.

    The lists follow Agno's ``ReliabilityEval``: each actual call whose name is in
    ``expected`` is passed; every other call is failed, or with ``allow_additional`` listed
    as an additional call that fails nothing (subset matching). When the agent called no tool
    at all the failed list is the expected list. ``missing_tool_calls`` names expected tools
    never called; any of them fails the check.

    ``expected_arguments`` maps a tool to the arguments it must be called with (one mapping,
    or a list of mappings each of which some call must match). A call matches when it has
    every expected key with an equal value; other keys are ignored. A tool already missing is
    not checked again; a tool that was not called fails its check.
    """
    expected_names = set(expected)
    called = [call.name for call in actual]
    passed_calls = [name for name in called if name in expected_names]
    unexpected = [name for name in called if name not in expected_names]
    additional = unexpected if allow_additional else []
    failed_calls = [] if allow_additional else unexpected
    if not called:
        failed_calls = list(expected)
    called_names = set(called)
    missing = list(dict.fromkeys(name for name in expected if name not in called_names))
    passed_arguments, failed_arguments = _check_arguments(
        actual, expected_arguments or {}, set(missing)
    )
    return ToolCallCheck(
        passed_tool_calls=passed_calls,
        failed_tool_calls=failed_calls,
        missing_tool_calls=missing,
        passed=not failed_calls and not missing and not failed_arguments,
        additional_tool_calls=additional,
        passed_argument_checks=passed_arguments,
        failed_argument_checks=failed_arguments,
    )


def _check_arguments(
    actual: Sequence[ToolCall], expected: ExpectedArguments, missing: set[str]
) -> tuple[list[str], list[str]]:
    passed: list[str] = []
    failed: list[str] = []
    for name, specs in expected.items():
        if name in missing:
            continue
        wanted = [specs] if isinstance(specs, Mapping) else list(specs)
        made = [call.arguments for call in actual if call.name == name]
        matched = bool(made) and all(
            any(
                all(key in args and args[key] == value for key, value in spec.items())
                for args in made
            )
            for spec in wanted
        )
        (passed if matched else failed).append(name)
    return passed, failed
