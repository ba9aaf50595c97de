"""Provider-neutral chat types: what the judge, kinds and targets send to and get from a model."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from assay.core.outcome import ToolCall, Usage


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None


class ChatRequest(BaseModel):
    messages: list[ChatMessage]
    temperature: float | None = None
    max_tokens: int | None = None
    #: When set, the provider asks for a JSON object response (judges use it).
    json_mode: bool = False
    tools: list[dict[str, Any]] = Field(default_factory=list)


class ChatResponse(BaseModel):
    text: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    latency_ms: float = 0.0
    model: str | None = None
