"""The booking assistant both LangGraph servers of the tests run: rules, no model, no imports.

The fake server (``langgraph_server.py``) and the real ``langgraph dev`` graph
(``langgraph_graph.py``) answer with it, so a test reads the same conversation from either.
It imports only the standard library, as the dev server runs it from its own environment.
"""

from __future__ import annotations

import re
from typing import Any

ASSISTANT_ID = "booking"
#: The key the real dev server of the tests requires (``x-api-key``), as a deployment would.
API_KEY = "lg-secret-key-123"
BOOKING_ID = re.compile(r"\bB\d+\b")
USAGE = {"input_tokens": 11, "output_tokens": 7, "total_tokens": 18}


def booking_reply(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The assistant's new messages for a thread ending with a human message.

    A rule-based booking assistant that needs the earlier turns: asked to cancel without a
    booking number, it asks for one, and cancels (a ``cancel_booking`` tool call, its
    result, then a confirmation) when a later message gives it. Messages are LangChain-shaped
    dicts (``type``, ``content``, ``tool_calls``, ``tool_call_id``).
    """
    humans = [str(m.get("content", "")) for m in messages if m.get("type") == "human"]
    text = humans[-1] if humans else ""
    wants_cancel = any("cancel" in h.lower() for h in humans)
    booking = BOOKING_ID.search(text)
    if wants_cancel and booking:
        call_id = f"call_{len(humans)}"
        return [
            _ai(
                "",
                [
                    {
                        "name": "cancel_booking",
                        "args": {"booking_id": booking.group()},
                        "id": call_id,
                    }
                ],
            ),
            {"type": "tool", "content": "cancelled", "tool_call_id": call_id, "name": "cancel"},
            _ai(f"Booking {booking.group()} is cancelled."),
        ]
    if wants_cancel:
        return [_ai("Which booking should I cancel? Please give the booking number.")]
    return [_ai(f"Hello! I can cancel a booking for you. (turn {len(humans)})")]


def _ai(content: str, tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "type": "ai",
        "content": content,
        "tool_calls": tool_calls or [],
        "usage_metadata": USAGE,
        "response_metadata": {"model_name": "booking-rules"},
    }
