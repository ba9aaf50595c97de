"""Checkpointed task runs: the run's state as the kind saves it and as services read it.

One model is shared by the ``checkpointed`` kind (which writes it into the item's saved state
and, at the end, into its outcome) and by the service that shows and verifies a run, so the
two can never disagree about what a checkpoint is. :func:`apply_verdict` is the one place a
reviewer's answer changes the state: the kind applies it when the answer resumes the run, and
the service applies it to show the answer at once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

#: The event kind a reviewer's verdict resumes a waiting run with.
REVIEW_EVENT = "review"


class CheckpointStatus(StrEnum):
    PENDING = "pending"  #: a manual checkpoint the run has not reached yet
    WAITING = "waiting"  #: asked; the run waits for the reviewer
    APPROVED = "approved"
    REJECTED = "rejected"  #: the step is redone with the hint, then asked again
    EXPIRED = "expired"  #: nobody answered before the deadline; never a rejection
    RECORDED = "recorded"  #: without-verification: noted, not waited on


class ToolCallRecord(BaseModel):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    impact: str
    #: ``done`` (a safe tool ran), ``staged`` (a business action waiting for its step to be
    #: accepted), ``recorded`` (the action went to the outbox, never performed).
    status: Literal["done", "staged", "recorded", "refused"]
    result: Any = None
    #: Why this call needs a person's look before it happens (auto-detected checkpoints).
    checkpoint_reason: str | None = None


class StepResult(BaseModel):
    """What carrying out one step produced: its output and the tool calls it made."""

    output: str
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    #: A reason the planner itself gave to have the step verified (free-form steps).
    requested_review: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0


class Step(BaseModel):
    id: str
    description: str
    #: The manual checkpoint's stage this step is, if any.
    stage: str | None = None
    verification_question: str | None = None


class Verdict(BaseModel):
    action: Literal["approved", "rejected"]
    hint: str | None = None
    reviewer: str
    verified_at: datetime


class Checkpoint(BaseModel):
    number: int
    step_id: str
    stage: str | None = None
    description: str
    question: str
    #: ``manual``, ``ai-detected`` (before a high-impact action, or asked by the planner).
    method: Literal["manual", "ai-detected"]
    #: Why the checkpoint is there (the stage, or the action and its arguments).
    reason: str
    status: CheckpointStatus
    requested_at: datetime | None = None
    evidence: StepResult | None = None
    verdict: Verdict | None = None
    #: The tap (answer) number this checkpoint's verdict was, counted over the run.
    tap_number: int | None = None
    #: Seconds from the question to the answer.
    verification_seconds: float | None = None


class RunState(BaseModel):
    """Everything a checkpointed run needs to continue where it stopped, and to be shown."""

    task_name: str
    test_mode: Literal["with-verification", "without-verification"]
    detection: Literal["manual", "ai-detected", "none"]
    reviewer: str
    model: str
    steps: list[Step]
    #: Index of the step being carried out; ``len(steps)`` when every step is done.
    current: int = 0
    results: list[StepResult] = Field(default_factory=list)
    checkpoints: list[Checkpoint] = Field(default_factory=list)
    #: Reviewer hints per step id, in the order given; a redone step sees all of them.
    hints: dict[str, list[str]] = Field(default_factory=dict)
    #: Business actions the agent took: recorded here, never performed.
    outbox: list[ToolCallRecord] = Field(default_factory=list)
    taps: int = 0
    #: Resuming events (verdicts, timers) already applied; later runs skip them.
    consumed_events: int = 0
    error: str | None = None
    verification_timeout_s: float | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def waiting(self) -> Checkpoint | None:
        return next((c for c in self.checkpoints if c.status is CheckpointStatus.WAITING), None)

    @property
    def done(self) -> bool:
        return self.current >= len(self.steps) and self.error is None


def apply_verdict(state: RunState, number: int, verdict: Verdict) -> bool:
    """Record ``verdict`` on the waiting checkpoint ``number``; False when it is not waiting.

    An approval accepts the step (its staged actions go to the outbox) and moves on; a
    rejection keeps the step as the current one, with the hint, to be redone and asked again.
    """
    checkpoint = state.waiting
    if checkpoint is None or checkpoint.number != number:
        return False
    state.taps += 1
    checkpoint.verdict = verdict
    checkpoint.tap_number = state.taps
    checkpoint.status = CheckpointStatus(verdict.action)
    if checkpoint.requested_at is not None:
        elapsed = (verdict.verified_at - checkpoint.requested_at).total_seconds()
        checkpoint.verification_seconds = round(max(elapsed, 0.0), 3)
    if verdict.action == "approved":
        assert checkpoint.evidence is not None
        accept_step(state, checkpoint.evidence)
    else:
        state.hints.setdefault(checkpoint.step_id, []).append(verdict.hint or "")
    return True


def accept_step(state: RunState, result: StepResult) -> None:
    """The current step is done: its staged actions are recorded in the outbox, never run."""
    for call in result.tool_calls:
        if call.status == "staged":
            call.status = "recorded"
            state.outbox.append(call)
    state.results.append(result)
    state.current += 1


def expire(state: RunState, at: datetime) -> None:
    """The waiting checkpoint's deadline passed: it is ``expired`` and the run fails."""
    checkpoint = state.waiting
    if checkpoint is None:
        return
    checkpoint.status = CheckpointStatus.EXPIRED
    if checkpoint.requested_at is not None:
        waited = (at - checkpoint.requested_at).total_seconds()
        checkpoint.verification_seconds = round(max(waited, 0.0), 3)
    state.error = (
        f"checkpoint {checkpoint.number} ({checkpoint.stage or checkpoint.step_id}) was not "
        f"verified within {state.verification_timeout_s:g} seconds; the run stopped there"
    )


class StageRequest(BaseModel):
    stage: str
    description: str
    verification_question: str


class TaskRequest(BaseModel):
    """A checkpointed task as every surface asks for it (dialects translate into this)."""

    task_name: str
    task_description: str
    checkpoints: list[StageRequest] = Field(default_factory=list)
    auto_detect: bool = False
    test_mode: Literal["with-verification", "without-verification"]
    #: The assigned reviewer: a user's email, or the part of it before the @.
    reviewer: str
    webhook_url: str | None = None
    external_id: str | None = None
    verification_timeout_s: float | None = None
    #: The planner: a registered ``openai-chat`` agent's id, or ``provider/model``.
    agent_id: str | None = None


class Execution(BaseModel):
    """A checkpointed run as its status shows it: the evaluation, its item and saved state."""

    id: str
    task_name: str
    test_mode: Literal["with-verification", "without-verification"]
    detection: Literal["manual", "ai-detected", "none"]
    reviewer: str
    external_id: str | None
    #: ``pending``, ``running``, ``waiting_verification``, ``completed``, ``failed``,
    #: ``cancelled``: the evaluation's status.
    evaluation_status: str
    #: The item's state (``queued``, ``waiting``, ``passed``, ``failed``, ...).
    item_state: str | None
    #: The run's saved state, or its final one; None before its first step.
    state: RunState | None
    #: Stages of a manual run, shown as pending before the run reaches them.
    stages: list[StageRequest] = Field(default_factory=list)
    #: Checkpoints expected at the start (None when a model decides as it goes).
    expected_checkpoints: int | None
    model: str
    error: str | None
    started_at: datetime | None
    completed_at: datetime | None
    url: str
