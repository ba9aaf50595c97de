"""What running an item produces: the target's normalised response, scores, metrics, errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ToolCall(BaseModel):
    """One tool call an agent made, as read from its response."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


class NormalizedResponse(BaseModel):
    """The one shape every target returns, whatever protocol it speaks."""

    output: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    messages: list[dict[str, Any]] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    latency_ms: float = 0.0
    model: str | None = None


class Score(BaseModel):
    name: str
    value: float | None = None
    #: How to read ``value``: "1-10", "binary" (1 pass / 0 fail), "0-1", "ms", ...
    scale: str = "0-1"
    passed: bool | None = None
    reason: str | None = None


class Metrics(BaseModel):
    """Costs of one item: the target's and the judge's calls together."""

    latency_ms: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    memory_peak_bytes: int | None = None


class Outcome(BaseModel):
    """The result of one item. ``data`` holds the kind's own per-item record."""

    passed: bool | None = None
    scores: list[Score] = Field(default_factory=list)
    metrics: Metrics = Field(default_factory=Metrics)
    trace: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)


class ItemError(BaseModel):
    """Why an item did not finish normally. Stored as data, never as an exception object."""

    code: str
    message: str
    attempt: int = 1
    traceback: str | None = None


class ItemRecord(BaseModel):
    """A stored item as a kind sees it when summarising."""

    seq: int
    state: str
    input: dict[str, Any] = Field(default_factory=dict)
    outcome: Outcome | None = None
    error: ItemError | None = None
    #: What the item saved when it last suspended (a run cancelled while it waited has no
    #: outcome, only this).
    saved_state: dict[str, Any] | None = None


class Suspend(BaseModel):
    """What a kind returns instead of an outcome when the item must wait for an event.

    The item then holds no worker and no lease; ``state`` is stored and given back to the
    next run (``ItemContext.saved_state``) with the events recorded since
    (``ItemContext.events``). ``resume_after`` is the wait's own deadline: when it passes the
    item runs again with a ``timer`` event, and the kind decides what a missed wait means.
    """

    #: What the item waits for, in words ("review of checkpoint 2"); shown to users.
    waiting_for: str = Field(min_length=1, max_length=200)
    state: dict[str, Any] = Field(default_factory=dict)
    resume_after: datetime | None = None
    #: A webhook event (``{"event": name, ...}``) queued for the evaluation's webhook in the
    #: transaction that parks the item, so a team can page its reviewer; None sends nothing.
    announce: dict[str, Any] | None = None


class RecordedEvent(BaseModel):
    """A step an item recorded, or an event that resumed it, as a resumed run reads it."""

    #: ``turn``, ``checkpoint``, ... as the kind logged it; ``resume`` or ``timer`` for the
    #: events that put a waiting item back in the queue.
    kind: str
    payload: dict[str, Any] = Field(default_factory=dict)
    #: The run (claim) of the item it belongs to.
    attempt: int
    created_at: datetime
