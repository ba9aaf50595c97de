"""Wire models of seed 004: camelCase, partial bodies for PUT, timestamps like the seed's.

Request bodies leave every field optional so the seed's own messages (``Name is required``,
``At least one Scenario ID is required``) come from the services' checks, in the seed's
order, instead of a generic schema error. Unknown fields are ignored: a client may PUT back
an object it read (with ``id``, ``createdAt``, ...).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from assay.core.text import (
    LANGUAGE_MAX,
    NAME_MAX,
    SECRET_MAX,
    SHORT_TEXT_MAX,
    UUID_MAX,
    Bounded,
    Id,
    JsonObject,
    Kind,
    LongName,
    LongText,
    Name,
    ShortText,
    Url,
)


def _timestamp(value: datetime) -> str:
    """``2026-01-28T10:00:00.000Z``, as the seed writes times."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


Timestamp = Annotated[datetime, PlainSerializer(_timestamp, return_type=str)]
Level = Literal["low", "medium", "high"]


class Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        protected_namespaces=(),
    )


# -- requests -------------------------------------------------------------------------------


class ConnectorBody(Wire):
    name: Name | None = None
    type: Kind | None = Field(default=None, description="`langgraph`, `openai-chat` or `http`.")
    base_url: Url | None = Field(
        default=None,
        description=(
            "The agent's URL: a LangGraph server, an OpenAI-compatible `/v1` base, or an HTTP "
            "endpoint."
        ),
    )
    config: JsonObject | None = Field(
        default=None,
        description=(
            "The type's settings: `assistantId` (langgraph), `model` (openai-chat), "
            "`requestTemplate`, `outputPath`, ... (http), and `timeout`."
        ),
    )
    headers: dict[ShortText, LongText] | None = Field(
        default=None, description="Non-secret headers sent with every request."
    )
    credentials: JsonObject | None = Field(
        default=None,
        description=(
            '`{"apiKey": ...}` (and for http, secret `headers`); stored encrypted, never returned.'
        ),
    )


class TraitsBody(Wire):
    model_config = ConfigDict(extra="forbid")

    patience: Level | None = None
    verbosity: Level | None = None
    language: Annotated[str, Bounded(LANGUAGE_MAX, min_length=1)] | None = None
    tech_savviness: Level | None = None


class PersonaBody(Wire):
    name: Name | None = None
    description: LongText | None = None
    traits: TraitsBody | None = None


class ScenarioBody(Wire):
    name: Name | None = None
    instructions: LongText | None = Field(
        default=None, description="What the simulated user wants and knows."
    )
    max_messages: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="User and agent messages together (1-100, default 10).",
    )
    success_criteria: LongText | None = Field(
        default=None, description="What the agent must do; one criterion per line."
    )
    failure_criteria: LongText | None = Field(
        default=None, description="What the agent must not do; one criterion per line."
    )
    persona_ids: list[Id] | None = Field(default=None, max_length=1000)


class EvalBody(Wire):
    name: LongName | None = None
    connector_id: Annotated[str, Bounded(UUID_MAX)] | None = None
    scenario_ids: list[Id] | None = Field(default=None, max_length=1000)


class RunsBody(Wire):
    webhook_url: Url | None = Field(
        default=None,
        description=(
            "Receives a signed POST when the runs' evaluation completes, fails or is cancelled."
        ),
    )


class ModelSettingsBody(Wire):
    model_config = ConfigDict(extra="forbid")

    provider: Annotated[str, Bounded(SHORT_TEXT_MAX, min_length=1)]
    model: Annotated[str, Bounded(SHORT_TEXT_MAX, min_length=1)]
    base_url: Url | None = None


class AttackerSettingsBody(ModelSettingsBody):
    api_key: Annotated[str, Bounded(SECRET_MAX)] | None = Field(
        default=None,
        description=(
            "Write-only, the attacker's own key; left out keeps the stored one (unless the "
            "provider or base URL changes), `null` removes it."
        ),
    )


class LLMSettingsBody(Wire):
    simulator: ModelSettingsBody | None = None
    judge: ModelSettingsBody | None = None
    api_key: Annotated[str, Bounded(SECRET_MAX)] | None = Field(
        default=None, description="Write-only; `null` removes the stored key."
    )
    attacker: AttackerSettingsBody | None = Field(
        default=None,
        description="The default attacker of this project's trust evaluations; `null` removes it.",
    )


class ProjectBody(Wire):
    name: Annotated[str, Bounded(NAME_MAX, min_length=1)] | None = None
    llm_settings: LLMSettingsBody | None = None


# -- responses ------------------------------------------------------------------------------


class ConnectorResponse(Wire):
    id: str
    name: str
    type: str
    base_url: str
    config: dict[str, Any]
    headers: dict[str, str]
    has_credentials: bool
    created_at: Timestamp
    updated_at: Timestamp


class ConnectorSummary(Wire):
    id: str
    name: str
    type: str
    base_url: str


class TraitsResponse(Wire):
    patience: Level | None = None
    verbosity: Level | None = None
    language: str | None = None
    tech_savviness: Level | None = None


class PersonaResponse(Wire):
    id: str
    name: str
    description: str
    traits: TraitsResponse | None = None
    created_at: Timestamp
    updated_at: Timestamp


class ScenarioSummary(Wire):
    """A scenario as an expanded eval shows it (criteria left out when unset)."""

    id: str
    name: str
    instructions: str
    max_messages: int
    success_criteria: str | None = None
    failure_criteria: str | None = None


class ScenarioResponse(ScenarioSummary):
    persona_ids: list[str]
    created_at: Timestamp
    updated_at: Timestamp


class EvalResponse(Wire):
    id: str
    name: str
    connector_id: str
    scenario_ids: list[str]
    scenarios: list[ScenarioSummary] | None = None
    connector: ConnectorSummary | None = None
    created_at: Timestamp
    updated_at: Timestamp


class RunResponse(Wire):
    id: str
    eval_id: str | None
    scenario_id: str | None
    persona_id: str | None
    status: str = Field(description="`pending`, `running`, `completed`, `error` or `cancelled`.")
    created_at: Timestamp


class RunListEntry(RunResponse):
    evaluation_id: str
    verdict: str | None = Field(
        description="`passed`, `failed`, `inconclusive` or `simulator_error` once completed."
    )
    turn_count: int


class RunDetailResponse(RunListEntry):
    termination: str | None = Field(
        description="`user_done`, `gave_up`, `max_messages` or `agent_error` once completed."
    )
    transcript: list[dict[str, Any]]
    criteria: list[dict[str, Any]]
    reasoning: str | None
    audit: dict[str, Any] | None
    agent_latency_ms: list[float]
    usage: dict[str, Any] | None
    error: dict[str, Any] | None
    started_at: Timestamp | None
    finished_at: Timestamp | None


class MatrixResponse(Wire):
    eval_id: str
    evaluation_id: str
    status: str
    matrix: Any
    summary: dict[str, Any] | None


class ModelSettingsResponse(Wire):
    provider: str
    model: str
    base_url: str | None = None


class AttackerSettingsResponse(ModelSettingsResponse):
    has_api_key: bool


class LLMSettingsResponse(Wire):
    simulator: ModelSettingsResponse
    judge: ModelSettingsResponse
    has_api_key: bool
    attacker: AttackerSettingsResponse | None = None


class ProjectResponse(Wire):
    id: str
    slug: str
    name: str
    workspace_id: str
    llm_settings: LLMSettingsResponse
    created_at: Timestamp
    updated_at: Timestamp
