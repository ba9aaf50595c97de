"""The task agent's planners: one that needs no model, and one driven by a model.

Both split a task into steps and carry out one step at a time with the tools of
``tools.py``. Safe and drafting tools run at once; business actions are staged (never
performed) and their reason to be checked is attached to the call.

- :class:`MockPlanner` is deterministic and offline: it splits the description at commas,
  semicolons, "and" and "then", and picks a tool by keyword. A reviewer's hint is read first,
  so a hint that gives the right figures ("use 10% of $40,000") changes the redone step.
- :class:`ModelPlanner` asks a model (``ctx.llm``) for the steps as JSON, then runs each step
  as a function-calling loop over the same tools.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Protocol

from assay.core.checkpoints import StepResult, ToolCallRecord
from assay.core.errors import TargetError
from assay.core.llm import ChatMessage, ChatRequest
from assay.core.outcome import ToolCall
from assay.kinds.base import LLM
from assay.kinds.checkpointed.tools import (
    REQUEST_VERIFICATION,
    TOOLS,
    Impact,
    ToolFailed,
    checkpoint_reason,
)

#: Tool-calling rounds one step may take before the planner is judged stuck.
MAX_ROUNDS = 8


class Planner(Protocol):
    label: str

    async def plan(self, description: str) -> list[str]:
        """The task's steps, in order."""
        ...

    async def run_step(
        self, task: str, step: str, hints: Sequence[str], team: set[str]
    ) -> StepResult:
        """Carry out ``step`` of ``task``, taking the reviewer's ``hints`` into account."""
        ...


def call_tool(name: str, arguments: dict[str, Any], team: set[str]) -> ToolCallRecord:
    """Run a safe tool, or stage a business action with the reason to check it."""
    tool = TOOLS.get(name)
    if tool is None:
        known = ", ".join(sorted(TOOLS))
        return ToolCallRecord(
            name=name,
            arguments=arguments,
            impact="unknown",
            status="refused",
            result={"error": f"no tool {name!r}; the tools are {known}"},
        )
    if tool.impact is Impact.HIGH or tool.run is None:
        return ToolCallRecord(
            name=name,
            arguments=arguments,
            impact=tool.impact.value,
            status="staged",
            result={"staged": "recorded once the step is accepted; never performed"},
            checkpoint_reason=checkpoint_reason(name, arguments, team),
        )
    try:
        result = tool.run(arguments)
    except ToolFailed as exc:
        return ToolCallRecord(
            name=name,
            arguments=arguments,
            impact=tool.impact.value,
            status="refused",
            result={"error": str(exc)},
        )
    return ToolCallRecord(
        name=name, arguments=arguments, impact=tool.impact.value, status="done", result=result
    )


# -- the offline planner -------------------------------------------------------------------

_SPLIT = re.compile(
    r"\s*(?:;|\.\s|,\s+(?:and\s+|then\s+)?|\s+and\s+then\s+|\s+then\s+|\s+and\s+)\s*"
)
_PERCENT_OF = re.compile(
    r"(\d+(?:\.\d+)?)\s*%[^$\d]{0,40}?\$?\s*(\d[\d,]*(?:\.\d+)?)", re.IGNORECASE
)
_ARITHMETIC = re.compile(r"(-?\d[\d,]*(?:\.\d+)?)\s*([-+*/x×])\s*(-?\d[\d,]*(?:\.\d+)?)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MONEY = re.compile(r"\$\s*(\d[\d,]*(?:\.\d+)?)")
_KEYWORDS: list[tuple[str, re.Pattern[str]]] = [
    ("draft_document", re.compile(r"\b(draft|write|compose|prepare)\b", re.IGNORECASE)),
    ("make_purchase", re.compile(r"\b(buy|purchase|order|pay)\b", re.IGNORECASE)),
    ("delete_record", re.compile(r"\b(delete|remove|erase)\b", re.IGNORECASE)),
    ("modify_record", re.compile(r"\b(modify|update|change|edit)\b", re.IGNORECASE)),
    ("send_email", re.compile(r"\b(e-?mail|send)\b", re.IGNORECASE)),
    ("send_message", re.compile(r"\b(message|post|notify|slack)\b", re.IGNORECASE)),
    ("calculator", re.compile(r"\b(calculat\w*|comput\w*|percent|sum|total)\b|%", re.IGNORECASE)),
]


def split_steps(description: str) -> list[str]:
    """The description cut at commas, semicolons, sentence ends, "and" and "then"."""
    parts = [p.strip(" .") for p in _SPLIT.split(description.strip())]
    return [p[0].upper() + p[1:] for p in parts if p] or [description.strip() or "Do the task"]


def expression_in(*texts: str) -> str | None:
    """The first computation the texts ask for: "15% of $50,000" or "12 * 4"."""
    for text in texts:
        percent = _PERCENT_OF.search(text)
        if percent:
            return f"{percent.group(1)} / 100 * {percent.group(2).replace(',', '')}"
        arithmetic = _ARITHMETIC.search(text)
        if arithmetic:
            left, op, right = arithmetic.groups()
            op = "*" if op in "x×" else op
            return f"{left.replace(',', '')} {op} {right.replace(',', '')}"
    return None


def choose_tool(step: str) -> str:
    for name, pattern in _KEYWORDS:
        if pattern.search(step):
            return name
    return "take_note"


def predicted_checkpoints(description: str) -> int:
    """Checkpoints the offline planner will ask for: one per step with a business action."""
    return sum(
        1 for step in split_steps(description) if TOOLS[choose_tool(step)].impact is Impact.HIGH
    )


class MockPlanner:
    """Deterministic and offline: the demo and the tests need no model and no key."""

    label = "mock/task-agent"

    async def plan(self, description: str) -> list[str]:
        return split_steps(description)

    async def run_step(
        self, task: str, step: str, hints: Sequence[str], team: set[str]
    ) -> StepResult:
        name = choose_tool(step)
        texts = [*reversed(hints), step, task]
        arguments = self._arguments(name, step, texts)
        if name == "calculator" and arguments is None:
            name, arguments = "take_note", {"text": f"No figures to compute for: {step}"}
        assert arguments is not None
        call = call_tool(name, arguments, team)
        output = f"{step}: {_summary(call)}"
        if hints:
            output += f" (redone with the reviewer's hint: {hints[-1]})"
        return StepResult(output=output, tool_calls=[call])

    @staticmethod
    def _arguments(name: str, step: str, texts: Sequence[str]) -> dict[str, Any] | None:
        joined = " ".join(texts)
        if name == "calculator":
            expression = expression_in(*texts)
            return None if expression is None else {"expression": expression}
        if name == "send_email":
            recipients = _EMAIL.findall(joined) or ["team@example.com"]
            return {"to": recipients[:5], "subject": step[:80], "body": f"Summary: {texts[-1]}"}
        if name == "send_message":
            return {"channel": "#team", "text": step}
        if name == "make_purchase":
            money = _MONEY.search(joined)
            amount = float(money.group(1).replace(",", "")) if money else 0.0
            return {"item": step, "amount_usd": amount}
        if name in ("delete_record", "modify_record"):
            arguments: dict[str, Any] = {"record": step}
            if name == "modify_record":
                arguments["changes"] = step
            return arguments
        if name == "draft_document":
            return {"title": step[:80], "body": f"Draft for: {texts[-1]}"}
        return {"text": f"Notes on {step} (context: {texts[-1]})"}


def _summary(call: ToolCallRecord) -> str:
    if call.status == "done" and isinstance(call.result, dict):
        value = next(iter(call.result.values()), "")
        return f"{call.name} gave {value}"
    if call.status == "staged":
        return f"{call.name} staged ({call.checkpoint_reason})"
    return f"{call.name} failed: {call.result}"


# -- the model-driven planner --------------------------------------------------------------

_PLAN_PROMPT = (
    "You plan tasks for an agent. Split the user's task into short, concrete steps, in order. "
    'Answer only with JSON: {"steps": ["...", "..."]}.'
)
_STEP_PROMPT = (
    "You carry out one step of a task with the tools given. Business actions (emails, "
    "messages, purchases, record changes) are staged for a reviewer, never performed. Call "
    "request_verification if the step needs a person's check for another reason. When the "
    "step is done, answer with its result in plain text."
)


class ModelPlanner:
    """A model plans the steps and carries each out through function calling."""

    def __init__(self, llm: LLM) -> None:
        self._llm = llm
        self.label = llm.label

    async def plan(self, description: str) -> list[str]:
        response = await self._llm.generate(
            ChatRequest(
                messages=[
                    ChatMessage(role="system", content=_PLAN_PROMPT),
                    ChatMessage(role="user", content=description),
                ],
                json_mode=True,
            )
        )
        try:
            steps = json.loads(response.text)["steps"]
        except (ValueError, KeyError, TypeError):
            raise TargetError(
                f"the planner model {self.label} answered no JSON plan: {response.text[:200]!r}"
            ) from None
        if not isinstance(steps, list) or not steps or not all(isinstance(s, str) for s in steps):
            raise TargetError(f"the planner model {self.label} gave no list of steps")
        return [s.strip() for s in steps if s.strip()][:50]

    async def run_step(
        self, task: str, step: str, hints: Sequence[str], team: set[str]
    ) -> StepResult:
        prompt = f"Task: {task}\nStep: {step}"
        if hints:
            prompt += "\nA reviewer rejected an earlier try. Their hints:\n" + "\n".join(
                f"- {h}" for h in hints
            )
        messages = [
            ChatMessage(role="system", content=_STEP_PROMPT),
            ChatMessage(role="user", content=prompt),
        ]
        schemas = [t.schema() for t in TOOLS.values()] + [REQUEST_VERIFICATION.schema()]
        result = StepResult(output="")
        for _ in range(MAX_ROUNDS):
            response = await self._llm.generate(ChatRequest(messages=messages, tools=schemas))
            result.input_tokens += response.usage.input_tokens
            result.output_tokens += response.usage.output_tokens
            if not response.tool_calls:
                result.output = response.text
                return result
            messages.append(
                ChatMessage(role="assistant", content=response.text, tool_calls=response.tool_calls)
            )
            for number, call in enumerate(response.tool_calls):
                answer = self._answer(call, team, result)
                messages.append(
                    ChatMessage(
                        role="tool",
                        content=json.dumps(answer),
                        tool_call_id=call.id or f"call_{number}",
                    )
                )
        raise TargetError(f"the planner model did not finish the step in {MAX_ROUNDS} rounds")

    @staticmethod
    def _answer(call: ToolCall, team: set[str], result: StepResult) -> Any:
        if call.name == REQUEST_VERIFICATION.name:
            result.requested_review = str(call.arguments.get("reason", "asked by the planner"))
            return {"ok": "the reviewer will verify this step"}
        record = call_tool(call.name, call.arguments, team)
        result.tool_calls.append(record)
        return record.result
