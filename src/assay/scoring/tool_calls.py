"""Compare the tools an agent called with the tools it was expected to call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from assay.core.outcome import ToolCall


class ToolCallCheck(NamedTuple):
    """The result of one comparison; lists keep call order and repeats, as Agno reports them."""

    #: Calls (by name, one entry per call) whose tool was expected.
    passed_tool_calls: list[str]
    #: Calls whose tool was not expected; the expected names when no tool was called at all.
    failed_tool_calls: list[str]
    #: Expected tool names that were never called (Assay's addition), in expected order.
    missing_tool_calls: list[str]
    #: True when nothing failed and nothing is missing.
    passed: bool


def compare_tool_calls(actual: Sequence[ToolCall], expected: Sequence[str]) -> ToolCallCheck:
    """Check ``actual`` calls against the ``expected`` tool names.

    The first two lists follow Agno's ``ReliabilityEval``: each actual call whose name is in
    ``expected`` is passed, every other call is failed, and when the agent called no tool at
    all the failed list is the expected list. Agno stops there, so an agent that calls only
    one of two expected tools passes; Assay also reports ``missing_tool_calls`` (expected
    names never called) and passes only when no call failed and none is missing. Arguments
    and order are not compared.
    """
    expected_names = set(expected)
    called = [call.name for call in actual]
    if called:
        passed_calls = [name for name in called if name in expected_names]
        failed_calls = [name for name in called if name not in expected_names]
    else:
        passed_calls = []
        failed_calls = list(expected)
    called_names = set(called)
    missing = list(dict.fromkeys(name for name in expected if name not in called_names))
    return ToolCallCheck(
        passed_tool_calls=passed_calls,
        failed_tool_calls=failed_calls,
        missing_tool_calls=missing,
        passed=not failed_calls and not missing,
    )
