"""Wire models exactly as seed 000 names them (camelCase), plus the verify request.

Required fields are optional here so that a body missing them gets the seed's own 400
(``Missing required fields``) rather than a generic validation error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CheckpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=2000)
    verificationQuestion: str = Field(min_length=1, max_length=2000)


class CreateTaskAgentRequest(BaseModel):
    taskName: str | None = Field(default=None, max_length=500)
    taskDescription: str | None = Field(default=None, max_length=10_000)
    checkpoints: list[CheckpointIn] | None = Field(default=None, max_length=50)
    autoDetectCheckpoints: bool | None = None
    testMode: Literal["with-verification", "without-verification"] | None = None
    assignedReviewer: str | None = Field(default=None, max_length=320)
    webhookUrl: str | None = Field(default=None, max_length=2000)
    externalId: str | None = Field(default=None, max_length=500)
    verificationTimeoutSeconds: float | None = Field(default=None, gt=0)
    """Assay extension: this task's verification deadline (else ASSAY_VERIFICATION_TIMEOUT)."""
    agentId: str | None = Field(default=None, min_length=1, max_length=200)
    """Assay extension: the planner, a registered `openai-chat` agent's id or a model as
    `provider/model` (else ASSAY_AGENT_MODEL, else the offline planner)."""


class CreateTaskAgentResponse(BaseModel):
    success: bool
    executionId: str
    chatId: str
    chatUrl: str
    taskName: str
    testMode: str
    checkpointCount: int
    checkpointDetectionMethod: Literal["manual", "ai-detected", "none"]
    message: str


class VerifyRequest(BaseModel):
    checkpointNumber: int = Field(ge=1)
    action: Literal["approved", "rejected"]
    hint: str | None = Field(default=None, max_length=4000)


class Progress(BaseModel):
    totalSteps: int
    completedSteps: int
    currentStepIndex: int
    percentComplete: float


class VerificationResponse(BaseModel):
    action: Literal["approved", "rejected"]
    hint: str | None
    verifiedAt: datetime
    verifiedBy: str
    """Assay extension: who verified, from their API key."""


class EvalMetadata(BaseModel):
    tapNumber: int | None
    verificationDuration: float | None
    """Seconds from the question to the answer (or to the deadline, when expired)."""
    verificationResponse: VerificationResponse | None
    question: str
    """Assay extension from here: the question, why the checkpoint is there, how it was found."""
    reason: str
    method: str
    evidence: dict[str, Any] | None
    """The step's output and the tool calls it made (business actions staged, not performed)."""


class CheckpointDetail(BaseModel):
    checkpointNumber: int
    stepId: str
    description: str
    status: str
    wasVerified: bool
    evalMetadata: EvalMetadata


class Checkpoints(BaseModel):
    total: int
    completed: int
    details: list[CheckpointDetail]


class Metrics(BaseModel):
    tapsUsed: int
    expectedTaps: int | None
    durationSeconds: float
    model: str


class ExecutionOut(BaseModel):
    id: str
    status: Literal["running", "completed", "failed", "waiting_verification"]
    testMode: str
    progress: Progress
    checkpoints: Checkpoints
    metrics: Metrics
    startedAt: datetime | None
    completedAt: datetime | None
    isComplete: bool
    isFailed: bool
    isRunning: bool
    error: str | None
    chatUrl: str
    chatId: str


class StatusResponse(BaseModel):
    success: bool
    execution: ExecutionOut
