"""The booking assistant as a real LangGraph graph, served by ``langgraph dev`` in tests.

Loaded only by the dev server (see ``serve_langgraph_dev``), never imported by the tests, so
the test suite runs without ``langgraph`` installed.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langgraph.graph import END, START, MessagesState, StateGraph

from tests.fakes.langgraph_server import booking_reply


def reply(state: MessagesState) -> dict[str, list[BaseMessage]]:
    shown = [
        {"type": m.type, "content": m.content if isinstance(m.content, str) else ""}
        for m in state["messages"]
    ]
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
