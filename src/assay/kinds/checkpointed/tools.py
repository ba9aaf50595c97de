"""The task agent's tools, each with its declared impact.

Safe tools (the calculator, notes) and drafting run at once. Business actions (send an email
or a message, make a purchase, delete or modify a record) are never performed: they are
staged with their step and recorded in the run's outbox once the step is accepted.
:func:`checkpoint_reason` decides per call, from the tool's impact and the call's arguments,
whether a person should look before the action happens, and says why.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Impact(StrEnum):
    SAFE = "safe"  #: reads or computes; nothing leaves the run
    LOW = "low"  #: produces a draft nobody sees until it is sent
    HIGH = "high"  #: acts on the world: messages, money, records


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    impact: Impact
    parameters: dict[str, Any]
    #: Runs the tool (safe and low impact only); business actions have none.
    run: Callable[[dict[str, Any]], Any] | None = None

    def schema(self) -> dict[str, Any]:
        """The OpenAI function-calling description of the tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": f"{self.description} (impact: {self.impact.value})",
                "parameters": self.parameters,
            },
        }


class ToolFailed(Exception):
    """A tool was called with arguments it cannot use; the message goes back to the planner."""


_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
}
_MAX_EXPRESSION = 200


def calculate(expression: str) -> float:
    """Evaluate + - * / % and parentheses over numbers; anything else is refused.

    No names, calls, attributes or powers: the expression is parsed, never executed.
    """
    if len(expression) > _MAX_EXPRESSION:
        raise ToolFailed(f"expression is longer than {_MAX_EXPRESSION} characters")
    try:
        tree = ast.parse(expression.replace(",", ""), mode="eval")
    except SyntaxError:
        raise ToolFailed(f"not an arithmetic expression: {expression!r}") from None
    return _evaluate(tree.body)


def _evaluate(node: ast.expr) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _evaluate(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        try:
            return _BINARY[type(node.op)](_evaluate(node.left), _evaluate(node.right))
        except ZeroDivisionError:
            raise ToolFailed("division by zero") from None
    raise ToolFailed("only numbers, + - * / % and parentheses are allowed")


def _calculator(arguments: dict[str, Any]) -> Any:
    value = calculate(str(arguments.get("expression", "")))
    return {"result": int(value) if value.is_integer() else round(value, 6)}


def _note(arguments: dict[str, Any]) -> Any:
    return {"note": str(arguments.get("text", ""))[:4000]}


def _draft(arguments: dict[str, Any]) -> Any:
    title = str(arguments.get("title", "Draft"))[:200]
    body = str(arguments.get("body", ""))[:8000]
    return {"document": f"# {title}\n\n{body}"}


def _object(properties: dict[str, Any], required: Sequence[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


_TEXT = {"type": "string"}

TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "calculator",
            "Evaluate an arithmetic expression",
            Impact.SAFE,
            _object({"expression": _TEXT}, ["expression"]),
            _calculator,
        ),
        Tool(
            "take_note",
            "Write down findings about the task's context",
            Impact.SAFE,
            _object({"text": _TEXT}, ["text"]),
            _note,
        ),
        Tool(
            "draft_document",
            "Draft a document, email or summary without sending it",
            Impact.LOW,
            _object({"title": _TEXT, "body": _TEXT}, ["title", "body"]),
            _draft,
        ),
        Tool(
            "send_email",
            "Send an email",
            Impact.HIGH,
            _object(
                {"to": {"type": "array", "items": _TEXT}, "subject": _TEXT, "body": _TEXT},
                ["to", "subject", "body"],
            ),
        ),
        Tool(
            "send_message",
            "Post a message to a channel or a person",
            Impact.HIGH,
            _object({"channel": _TEXT, "text": _TEXT}, ["channel", "text"]),
        ),
        Tool(
            "make_purchase",
            "Buy something",
            Impact.HIGH,
            _object({"item": _TEXT, "amount_usd": {"type": "number"}}, ["item", "amount_usd"]),
        ),
        Tool(
            "delete_record",
            "Delete a record",
            Impact.HIGH,
            _object({"record": _TEXT}, ["record"]),
        ),
        Tool(
            "modify_record",
            "Change a record",
            Impact.HIGH,
            _object({"record": _TEXT, "changes": _TEXT}, ["record", "changes"]),
        ),
    )
}

#: Offered to a model planner only: it asks for a person's look at a free-form step.
REQUEST_VERIFICATION = Tool(
    "request_verification",
    "Ask the reviewer to verify this step before it counts; give the reason",
    Impact.SAFE,
    _object({"reason": _TEXT}, ["reason"]),
)

#: A purchase from this amount up is called a large one in the checkpoint's reason.
LARGE_PURCHASE_USD = 1000.0

_EMAIL = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")


def checkpoint_reason(name: str, arguments: dict[str, Any], team_domains: set[str]) -> str | None:
    """Why this call should wait for a person, or None when it may run unseen.

    Every high-impact call gets a checkpoint; the reason says how much is at stake, from the
    arguments: an email to the task's own team is told apart from one that leaves it, a
    small purchase from a large one.
    """
    tool = TOOLS.get(name)
    if tool is None or tool.impact is not Impact.HIGH:
        return None
    if name == "send_email":
        recipients = [str(r) for r in arguments.get("to", [])] or ["nobody"]
        outside = [r for r in recipients if _domain(r) not in team_domains]
        if outside:
            return f"sends an email outside the team, to {', '.join(outside)}"
        return f"sends an email to the team ({', '.join(recipients)})"
    if name == "send_message":
        return f"posts a message to {arguments.get('channel', 'an unnamed channel')}"
    if name == "make_purchase":
        amount = _amount(arguments.get("amount_usd"))
        size = "a large purchase" if amount >= LARGE_PURCHASE_USD else "a purchase"
        return f"makes {size} of ${amount:,.2f} ({arguments.get('item', 'unnamed item')})"
    if name == "delete_record":
        return f"deletes the record {arguments.get('record', '?')}"
    return f"changes the record {arguments.get('record', '?')}: {arguments.get('changes', '')}"


def team_domains(*texts: str) -> set[str]:
    """The email domains named in the task and the reviewer's address: the task's own team."""
    return {match.lower() for text in texts for match in _EMAIL.findall(text)}


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _amount(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
