"""Small Python agents that the ``python`` target's tests name as ``tests.targets.agents:...``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from assay.core.outcome import NormalizedResponse, ToolCall, Usage

NOT_CALLABLE = "a module constant, not a function"


def echo(input: str) -> str:
    """Takes no session_id: calling it with one would raise TypeError."""
    return f"echo: {input}"


def with_session(input: str, session_id: str) -> str:
    return f"{input} in {session_id}"


def with_kwargs(input: str, **kwargs: Any) -> str:
    return f"{input} with {sorted(kwargs)}"


async def async_echo(input: str, *, session_id: str) -> str:
    await asyncio.sleep(0.01)
    return f"async: {input} in {session_id}"


def with_system_prompt(input: str, system_prompt: str = "default instructions") -> str:
    return f"{input} under {system_prompt!r}"


def structured(input: str) -> dict[str, Any]:
    return {
        "output": f"the weather in {input} is sunny",
        "tool_calls": [{"name": "get_weather", "arguments": {"city": input}}],
        "messages": [{"role": "user", "content": input}, {"role": "tool", "content": "sunny"}],
        "usage": {"input_tokens": 12, "output_tokens": 7},
    }


def normalized(input: str) -> NormalizedResponse:
    return NormalizedResponse(
        output=input.upper(),
        tool_calls=[ToolCall(name="shout", arguments={"text": input})],
        usage=Usage(input_tokens=3, output_tokens=4),
        model="shouter-1",
    )


def slow(input: str) -> str:
    time.sleep(0.05)
    return input


def failing(input: str) -> str:
    raise ValueError(f"cannot handle {input!r}")


async def async_failing(input: str) -> str:
    raise RuntimeError("the async agent broke")


def malformed(input: str) -> dict[str, Any]:
    return {"answer": input}


def wrong_type(input: str) -> int:
    return len(input)


class Agent:
    """A method as an agent: ``tests.targets.agents:Agent.reply``."""

    @staticmethod
    def reply(input: str) -> str:
        return f"method: {input}"


def with_history(input: str, history: list[dict[str, Any]]) -> str:
    """Answers from the earlier turns the target passes: ``history=`` in a conversation."""
    earlier = [m["content"] for m in history if m["role"] == "user"]
    return f"{input} after {earlier}"


#: ``remembering``'s own memory, keyed by session id as the ``python`` contract asks.
MEMORY: dict[str, list[str]] = {}


def remembering(input: str, session_id: str) -> str:
    """Takes no history: keeps its own state per session."""
    seen = MEMORY.setdefault(session_id, [])
    seen.append(input)
    return f"{session_id} heard {seen}"


def failing_once(input: str, history: list[dict[str, Any]]) -> str:
    """Fails on the word 'boom', so a failed turn can be shown to stay out of the history."""
    if input == "boom":
        raise RuntimeError("exploded")
    return f"{input} after {len(history)} messages"
