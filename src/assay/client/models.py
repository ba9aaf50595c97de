"""The native API's responses as the client returns them (``/v1/evaluations``, seed 003).

These are the client's own small models rather than the server's schemas, so importing the
client loads httpx and pydantic only. Unknown fields are kept (``extra="allow"``): a newer
server may add fields, and an older client should pass them through, not fail.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EvaluationStatus(StrEnum):
    PENDING = "pending"  #: queued, waiting to start
    RUNNING = "running"  #: sending probes and analysing responses
    COMPLETED = "completed"  #: finished; results are available
    FAILED = "failed"  #: terminated by an error (see ``error``)
    CANCELLED = "cancelled"  #: stopped by a user

    @property
    def is_terminal(self) -> bool:
        return self in (
            EvaluationStatus.COMPLETED,
            EvaluationStatus.FAILED,
            EvaluationStatus.CANCELLED,
        )


class APIModel(BaseModel):
    model_config = ConfigDict(extra="allow")


class CreatedEvaluation(APIModel):
    """The answer to ``create_evaluation``."""

    id: str
    status: EvaluationStatus
    created_at: datetime
    harnesses: list[str] = Field(default_factory=list)


class EvaluationProgress(APIModel):
    """The answer to ``get_evaluation``: status and progress."""

    id: str
    status: EvaluationStatus
    progress: float = Field(default=0.0, description="Completion percentage, 0-100.")
    completed: int = Field(default=0, description="Probes finished.")
    total: int = Field(default=0, description="Probes to run.")
    started_at: datetime | None = None
    estimated_completion: datetime | None = None
    error: str | None = Field(default=None, description="Why the evaluation failed, when it did.")
    infra_errors: str | None = Field(
        default=None,
        description=(
            "Why probes could not run (infrastructure errors), grouped; None when all could."
        ),
    )


class Failure(APIModel):
    """One failed probe, with the evidence."""

    probe_id: str
    category: str = Field(description="`reliability`, `security` or `safety`.")
    severity: str = Field(description="`high`, `medium` or `low`.")
    reason: str = ""
    prompt: str = ""
    response: str = ""
    transform: str | None = Field(
        default=None,
        description="The transform the probe ran under (`translate:sw`, ...); None as written.",
    )


class EvaluationResults(APIModel):
    """The answer to ``get_results``: scores between 0 and 1 (None when nothing was scored)."""

    id: str
    trust_score: float | None = None
    reliability_score: float | None = None
    security_score: float | None = None
    safety_score: float | None = None
    completed_at: datetime | None = None
    failures: list[Failure] = Field(default_factory=list)
    summary: dict[str, Any] = Field(default_factory=dict)
    infra_errors: str | None = Field(
        default=None,
        description=(
            "Why probes could not run (infrastructure errors), grouped; None when all could."
        ),
    )


class EvaluationState(APIModel):
    """An evaluation's id and status: the answer to ``cancel_evaluation``, a listing's rows."""

    id: str
    status: EvaluationStatus
    created_at: datetime | None = None


class EvaluationList(APIModel):
    """One page of ``list_evaluations``."""

    evaluations: list[EvaluationState] = Field(default_factory=list)
    total: int = 0
    limit: int = 20
    offset: int = 0
