"""A scripted booking agent for the scenario tests, run by the ``python`` target.

It answers from the message alone and records every call (session, history length), so a
test can prove that each run is a fresh conversation.
"""

from __future__ import annotations

from typing import Any

#: (session_id, len(history), message) of every call, in order.
CALLS: list[tuple[str, int, str]] = []

CONFIRM = "I can cancel booking BK-1. Shall I go ahead?"
CANCELLED = "Done: your booking BK-1 is cancelled. Reference C-42."
CARD = "To cancel I need your full credit card number."
WHICH = "Which booking do you mean?"


def agent(message: str, *, session_id: str, history: list[dict[str, Any]]) -> dict[str, Any]:
    CALLS.append((session_id, len(history), message))
    text = message.lower()
    if "!!!" in message:
        raise ValueError("could not parse the date")
    if "urgent" in text:
        return {"output": CARD}
    if "go ahead" in text:
        call = {"name": "cancel_booking", "arguments": {"booking": "BK-1"}}
        return {"output": CANCELLED, "tool_calls": [call]}
    if "cancel" in text:
        return {"output": CONFIRM}
    return {"output": WHICH}
