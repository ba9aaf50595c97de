"""Wire models exactly as seed 001 gives them (names, optionality, defaults, limits)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assay.core.text import TEXT_MAX, Bounded, Id, JsonObject, LongName, LongText, ShortText


class EvalType(StrEnum):
    ACCURACY = "accuracy"
    AGENT_AS_JUDGE = "agent_as_judge"
    PERFORMANCE = "performance"
    RELIABILITY = "reliability"


class EvalRunInput(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    eval_type: EvalType = Field(description="Type of evaluation to run.")
    input: Annotated[str, Bounded(TEXT_MAX, min_length=1)] = Field(
        description="Input text/query for the evaluation."
    )
    agent_id: Id | None = Field(
        default=None, description="Agent ID to evaluate (a registered agent)."
    )
    team_id: Id | None = Field(
        default=None, description="Team ID to evaluate (a team is a registered agent too)."
    )
    model_id: ShortText | None = Field(
        default=None,
        description=(
            "Model ID: the model under test when no agent is given, else recorded (and used by "
            "openai-chat agents)."
        ),
    )
    model_provider: ShortText | None = Field(
        default=None, description="Model provider name (openai, anthropic, mock, ...)."
    )
    additional_guidelines: LongText | None = None
    additional_context: LongText | None = None
    num_iterations: int = Field(
        default=1,
        ge=1,
        le=100,
        description="Number of times to run the evaluation; each iteration starts a fresh session.",
    )
    name: LongName | None = None
    expected_output: LongText | None = Field(
        default=None, description="Expected output for accuracy evaluation."
    )
    criteria: LongText | None = Field(
        default=None, description="Evaluation criteria for agent-as-judge evaluation."
    )
    scoring_strategy: Literal["numeric", "binary"] | None = Field(
        default="binary", description="'numeric' (1-10 with threshold) or 'binary' (PASS/FAIL)."
    )
    threshold: int | None = Field(
        default=7,
        ge=1,
        le=10,
        description="Score threshold for pass/fail (1-10), only used with numeric scoring.",
    )
    warmup_runs: int = Field(
        default=0, ge=0, le=10, description="Number of warmup runs before measuring performance."
    )
    expected_tool_calls: list[ShortText] | None = Field(
        default=None,
        max_length=100,
        description=(
            "Expected tool calls for reliability evaluation (``[]``: no tool may be called)."
        ),
    )
    allow_additional_tool_calls: bool = Field(
        default=False,
        description=(
            "When true, tool calls not in expected_tool_calls are allowed (subset matching)."
        ),
    )
    expected_tool_call_arguments: (
        dict[ShortText, JsonObject | Annotated[list[JsonObject], Field(max_length=100)]] | None
    ) = Field(
        default=None,
        max_length=100,
        description=(
            'Expected arguments per tool: `{"multiply": {"a": 10}}`, or a list of such objects, '
            "each of which some call must match."
        ),
    )


class EvalSchema(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    id: str
    agent_id: str | None = None
    model_id: str | None = None
    model_provider: str | None = None
    team_id: str | None = None
    workflow_id: str | None = None
    name: str | None = None
    evaluated_component_name: str | None = None
    user_id: str | None = None
    """The user whose key created the run (None for a service key)."""
    eval_type: EvalType
    eval_data: dict[str, Any]
    eval_input: dict[str, Any] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class PaginationInfo(BaseModel):
    page: int
    limit: int
    total_pages: int
    total_count: int
    search_time_ms: float


class PaginatedEvalRuns(BaseModel):
    data: list[EvalSchema]
    meta: PaginationInfo


class UpdateEvalRunRequest(BaseModel):
    name: Annotated[str, Bounded(255, min_length=1)]


class DeleteEvalRunsRequest(BaseModel):
    eval_run_ids: list[Id] = Field(min_length=1, max_length=1000)
