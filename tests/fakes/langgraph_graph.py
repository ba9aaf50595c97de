"""The booking assistant as a real LangGraph graph, served by ``langgraph dev`` in tests.

Loaded only by the dev server (see ``serve_langgraph_dev``), from its own environment
(``.venv-langgraph``), never imported by the tests, so the test suite runs without
``langgraph`` installed. Two markers in the user's message script the server's side:
``[slow]`` makes the run take :data:`SLOW_SECONDS` (longer than a test client waits), and
``[crash]`` makes the graph raise :data:`CRASH`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langgraph.graph import END, START, MessagesState, StateGraph

from tests.fakes.booking_agent import booking_reply

SLOW_SECONDS = 3.0
CRASH = "the booking database is down"


async def reply(state: MessagesState) -> dict[str, list[BaseMessage]]:
    shown = [
        {"type": m.type, "content": m.content if isinstance(m.content, str) else ""}
        for m in state["messages"]
    ]
    last = shown[-1]["content"] if shown else ""
    if "[crash]" in last:
        raise RuntimeError(CRASH)
    if "[slow]" in last:
        await asyncio.sleep(SLOW_SECONDS)
    return {"messages": [_message(m) for m in booking_reply(shown)]}


def _message(message: dict[str, Any]) -> BaseMessage:
    if message["type"] == "tool":
        return ToolMessage(content=message["content"], tool_call_id=message["tool_call_id"])
    return AIMessage(
        content=message["content"],
        tool_calls=message["tool_calls"],
        usage_metadata=message["usage_metadata"],
        response_metadata=message["response_metadata"],
    )


builder = StateGraph(MessagesState)
builder.add_node("reply", reply)
builder.add_edge(START, "reply")
builder.add_edge("reply", END)
graph = builder.compile()
