"""Wire models of seed 002, field names as the seed spells them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assay.core.text import ID_MAX, NAME_MAX, Bounded, Id, JsonObject, Kind, Name

#: The twelve item states the seed counts, in its order.
ITEM_COUNT_KEYS = (
    "agent_finished",
    "agent_running",
    "cancelled",
    "claiming",
    "errored",
    "failed",
    "infra_error",
    "passed",
    "provisioning",
    "queued",
    "timed_out",
    "verifying",
)


class DatasetRef(BaseModel):
    """A registered (or shipped) dataset by id and version, or the tasks inline."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Bounded(ID_MAX, min_length=1)] | None = Field(
        default=None, description="A dataset's id; the shipped benchmark is `security`."
    )
    version: Annotated[str, Bounded(50)] | None = None
    tasks: list[JsonObject] | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description=(
            "Tasks inline, each as the task format's JSON (name, instruction, files, verifier, "
            "...)."
        ),
    )


class CreateEvaluationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    agent_type: Literal["react", "command", "oracle"] = "react"
    capability: Annotated[str, Bounded(64)] | None = Field(
        default=None, description="Run only the dataset's tasks with this capability tag."
    )
    cleanup_policy: Literal["always", "on_success", "never"] = "always"
    concurrency: int = Field(default=4, ge=1, le=256)
    dataset: DatasetRef
    kind: Kind = "security_task_benchmark"
    model: Annotated[str, Bounded(ID_MAX)] | None = Field(
        default=None, description="The react agent's model as provider/model."
    )
    name: Annotated[str, Bounded(NAME_MAX)] | None = None
    project_id: Id | None = None
    runtime_id: Id | None = None
    sandbox_provider: Kind | None = Field(
        default=None,
        description="`bwrap` (default, or the runtime's provider), or an installed plugin's name.",
    )
    secret_ids: list[Id] = Field(default_factory=list, max_length=100)
    task_config: JsonObject = Field(default_factory=dict)
    task_names: list[Name] | None = Field(default=None, min_length=1, max_length=2000)
    task_timeout_sec: float | None = Field(default=None, gt=0, le=86400)


class Analytics(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["pending", "computing", "ready"]


class CreatedBy(BaseModel):
    """Small denormalized identity of who created the evaluation."""

    id: str | None = None
    name: str | None = None
    email: str | None = None


class EvaluationResponse(BaseModel):
    id: str
    name: str | None
    kind: str
    status: str
    agent_type: str
    capability: str | None
    cleanup_policy: str
    concurrency: int
    dataset: dict[str, Any]
    model: str | None
    project_id: str
    runtime_id: str | None
    sandbox_provider: str
    secret_ids: list[str]
    task_config: dict[str, Any]
    task_names: list[str] | None
    task_timeout_sec: float | None
    analytics: Analytics
    item_counts: dict[str, int]
    created_by: CreatedBy
    error: str | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None


class EvaluationList(BaseModel):
    items: list[EvaluationResponse]
    total: int
    limit: int
    offset: int


class ItemResponse(BaseModel):
    id: str
    task_name: str | None
    capability: str | None
    difficulty: str | None
    state: str
    verdict: Literal["passed", "failed"] | None
    reason: str | None
    attempts: int
    timings: dict[str, float]
    trace: list[dict[str, Any]]
    verifier: dict[str, Any] | None
    error: dict[str, Any] | None
    started_at: datetime | None
    finished_at: datetime | None


class ItemList(BaseModel):
    items: list[ItemResponse]
    total: int
    limit: int
    offset: int


class CreateDatasetRequest(BaseModel):
    """A dataset version uploaded as JSON: tasks in the task format's JSON."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Bounded(NAME_MAX, min_length=1)]
    version: Annotated[str, Bounded(50, min_length=1)] = "1"
    tasks: list[JsonObject] = Field(min_length=1, max_length=2000)


class DatasetResponse(BaseModel):
    id: str
    name: str
    version: str
    task_count: int
    task_names: list[str]
    created_at: datetime


class CreateRuntimeRequest(BaseModel):
    """A named sandbox configuration."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Bounded(NAME_MAX, min_length=1)]
    provider: Kind = "bwrap"
    memory_mb: int = Field(default=512, ge=16, le=65536)
    pids: int = Field(
        default=128, ge=4, le=65536, description="Processes and threads alive at once."
    )
    cpus: float = Field(default=1.0, gt=0, le=64)
    file_mb: int = Field(
        default=64,
        ge=1,
        le=65536,
        description="Largest file a command may write (the disk limit per file).",
    )
    network: bool = False


class RuntimeResponse(BaseModel):
    id: str
    name: str
    provider: str
    memory_mb: int
    pids: int
    cpus: float
    file_mb: int
    network: bool
    created_at: datetime


class CreateSecretRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Bounded(100, min_length=1)]
    value: Annotated[str, Bounded(65536, min_length=1)]


class SecretResponse(BaseModel):
    """A secret as the API shows it: never its value."""

    id: str
    name: str
    created_at: datetime
