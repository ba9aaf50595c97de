"""A tiny, deterministic, offline calculator agent for ``assay quickstart`` and ``make demo``.

``agent(input, session_id)`` answers one arithmetic question with two numbers, in words or
symbols ("What is 12 times 7?", "Add 3 and 4", "What is 2 + 2?", "Subtract 4 from 10",
"Divide 9 by 3"). It "calls" one of the tools ``add``, ``subtract``, ``multiply`` or
``divide`` and reports the call, with its arguments and result, the way a real agent's
response carries tool calls. Anything else gets "I can only help with arithmetic." and no
tool call.

It is wrong on purpose in one way, so a demo shows a failure too: **a division whose result
is not a whole number is rounded to the nearest whole number** (halves up), so "What is 7
divided by 2?" is answered "7 divided by 2 is 4." instead of 3.5. Division by zero is
handled correctly ("You cannot divide by zero.").

The returned dict has the fields of ``NormalizedResponse`` (``output``, ``tool_calls``,
``messages``), so a Python target can validate it directly.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

REFUSAL = "I can only help with arithmetic."
DIVIDE_BY_ZERO = "You cannot divide by zero."

_NUMBER = r"(-?\d+(?:\.\d+)?)"
#: The word each tool is read back with in answers ("12 times 7 is 84.").
_SPOKEN = {"add": "plus", "subtract": "minus", "multiply": "times", "divide": "divided by"}
#: Infix operators, longest first so "multiplied by" wins over "x".
_INFIX = {
    "multiplied by": "multiply",
    "divided by": "divide",
    "times": "multiply",
    "plus": "add",
    "minus": "subtract",
    "over": "divide",
    "+": "add",
    "-": "subtract",
    "*": "multiply",
    "x": "multiply",
    "×": "multiply",
    "/": "divide",
    "÷": "divide",
}
_INFIX_PATTERN = re.compile(
    _NUMBER
    + r"\s*("
    + "|".join(re.escape(op) for op in sorted(_INFIX, key=len, reverse=True))
    + r")\s*"
    + _NUMBER
)
#: Verb phrases: (pattern, tool, whether the operands are given in reverse order).
_PHRASES: list[tuple[re.Pattern[str], str, bool]] = [
    (re.compile(rf"\badd\s+{_NUMBER}\s+(?:and|to)\s+{_NUMBER}"), "add", False),
    (re.compile(rf"\bsum\s+of\s+{_NUMBER}\s+and\s+{_NUMBER}"), "add", False),
    (re.compile(rf"\bsubtract\s+{_NUMBER}\s+from\s+{_NUMBER}"), "subtract", True),
    (re.compile(rf"\bdifference\s+between\s+{_NUMBER}\s+and\s+{_NUMBER}"), "subtract", False),
    (re.compile(rf"\bmultiply\s+{_NUMBER}\s+(?:by|and|with)\s+{_NUMBER}"), "multiply", False),
    (re.compile(rf"\bproduct\s+of\s+{_NUMBER}\s+and\s+{_NUMBER}"), "multiply", False),
    (re.compile(rf"\bdivide\s+{_NUMBER}\s+by\s+{_NUMBER}"), "divide", False),
    (re.compile(rf"\bquotient\s+of\s+{_NUMBER}\s+and\s+{_NUMBER}"), "divide", False),
]


class Question(NamedTuple):
    """A demo question with what a correct agent would answer and call."""

    input: str
    #: The correct answer, bare ("84"), as an accuracy evaluation's expected output.
    expected_output: str
    expected_tool_calls: list[str]


#: The questions ``assay quickstart`` runs; the division one exposes the deliberate flaw.
QUESTIONS: list[Question] = [
    Question("What is 12 times 7?", "84", ["multiply"]),
    Question("Add 3 and 4", "7", ["add"]),
    Question("What is 2 + 2?", "4", ["add"]),
    Question("Subtract 4 from 10", "6", ["subtract"]),
    Question("What is 7 divided by 2?", "3.5", ["divide"]),
    Question("What is the capital of France?", REFUSAL, []),
]


def agent(input: str, session_id: str) -> dict[str, Any]:
    """Answer one arithmetic question; stateless, so ``session_id`` only labels the call."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": input}]
    parsed = _parse(input)
    if parsed is None:
        messages.append({"role": "assistant", "content": REFUSAL})
        return {"output": REFUSAL, "tool_calls": [], "messages": messages}
    tool, a, b = parsed
    call_id = f"{session_id}-{tool}"
    arguments = {"a": _number(a), "b": _number(b)}
    result = _run_tool(tool, a, b)
    if result is None:
        tool_text = "error: division by zero"
        output = DIVIDE_BY_ZERO
    else:
        tool_text = _format(result)
        output = f"{_format(a)} {_SPOKEN[tool]} {_format(b)} is {tool_text}."
    call = {"name": tool, "arguments": arguments, "id": call_id}
    messages += [
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call_id, "content": tool_text},
        {"role": "assistant", "content": output},
    ]
    return {"output": output, "tool_calls": [call], "messages": messages}


def _parse(text: str) -> tuple[str, float, float] | None:
    """(tool, a, b) from a question, or None when it is not two-number arithmetic."""
    lowered = text.lower()
    for pattern, tool, reverse in _PHRASES:
        if match := pattern.search(lowered):
            a, b = float(match.group(1)), float(match.group(2))
            return (tool, b, a) if reverse else (tool, a, b)
    if match := _INFIX_PATTERN.search(lowered):
        return _INFIX[match.group(2)], float(match.group(1)), float(match.group(3))
    return None


def _run_tool(tool: str, a: float, b: float) -> float | None:
    """The tool's result; None for a division by zero."""
    if tool == "add":
        return a + b
    if tool == "subtract":
        return a - b
    if tool == "multiply":
        return a * b
    if b == 0:
        return None
    # The deliberate flaw: a fractional quotient is rounded to a whole number (halves up).
    return float(math.floor(a / b + 0.5))


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _format(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:.10g}"
