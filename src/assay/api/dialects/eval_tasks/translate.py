"""Pure converters between seed 000's wire shapes and the core (no I/O, no services)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from assay.api.dialects.eval_tasks.errors import REQUIRED, MissingRequiredFields
from assay.api.dialects.eval_tasks.schemas import (
    CheckpointDetail,
    Checkpoints,
    CreateTaskAgentRequest,
    CreateTaskAgentResponse,
    EvalMetadata,
    ExecutionOut,
    Metrics,
    Progress,
    VerificationResponse,
)
from assay.core.checkpoints import (
    Checkpoint,
    CheckpointStatus,
    Execution,
    StageRequest,
    TaskRequest,
)

_DONE = (CheckpointStatus.APPROVED, CheckpointStatus.RECORDED)


def task_from_request(body: CreateTaskAgentRequest) -> TaskRequest:
    """The core request; a body missing a required field is the seed's 400."""
    missing = [name for name in REQUIRED if not (getattr(body, name) or "").strip()]
    if missing:
        raise MissingRequiredFields(missing)
    assert body.taskName and body.taskDescription and body.testMode and body.assignedReviewer
    return TaskRequest(
        task_name=body.taskName.strip(),
        task_description=body.taskDescription.strip(),
        checkpoints=[
            StageRequest(
                stage=c.stage,
                description=c.description,
                verification_question=c.verificationQuestion,
            )
            for c in body.checkpoints or []
        ],
        auto_detect=bool(body.autoDetectCheckpoints),
        test_mode=body.testMode,
        reviewer=body.assignedReviewer,
        webhook_url=body.webhookUrl,
        external_id=body.externalId,
        verification_timeout_s=body.verificationTimeoutSeconds,
        agent_id=body.agentId,
    )


def create_response(execution: Execution) -> CreateTaskAgentResponse:
    count = execution.expected_checkpoints or 0
    waits = (
        "waits for" if execution.test_mode == "with-verification" else "records, without waiting,"
    )
    return CreateTaskAgentResponse(
        success=True,
        executionId=execution.id,
        chatId=execution.id,
        chatUrl=execution.url,
        taskName=execution.task_name,
        testMode=execution.test_mode,
        checkpointCount=count,
        checkpointDetectionMethod=execution.detection,
        message=f"Task agent started; it {waits} {execution.reviewer} at each checkpoint",
    )


def wire_status(
    execution: Execution,
) -> Literal["running", "completed", "failed", "waiting_verification"]:
    """The seed's status (running, completed, failed, waiting_verification) of the run."""
    status = execution.evaluation_status
    if status == "waiting_verification":
        return "waiting_verification"
    if status in ("pending", "running"):
        return "running"
    if status == "completed" and execution.item_state == "passed":
        return "completed"
    return "failed"


def _detail(checkpoint: Checkpoint) -> CheckpointDetail:
    verdict = checkpoint.verdict
    response = None
    if verdict is not None:
        response = VerificationResponse(
            action=verdict.action,
            hint=verdict.hint,
            verifiedAt=verdict.verified_at,
            verifiedBy=verdict.reviewer,
        )
    return CheckpointDetail(
        checkpointNumber=checkpoint.number,
        stepId=checkpoint.step_id,
        description=checkpoint.description,
        status=checkpoint.status.value,
        wasVerified=verdict is not None,
        evalMetadata=EvalMetadata(
            tapNumber=checkpoint.tap_number,
            verificationDuration=checkpoint.verification_seconds,
            verificationResponse=response,
            question=checkpoint.question,
            reason=checkpoint.reason,
            method=checkpoint.method,
            evidence=None
            if checkpoint.evidence is None
            else checkpoint.evidence.model_dump(mode="json", include={"output", "tool_calls"}),
        ),
    )


def execution_out(execution: Execution, now: datetime | None = None) -> ExecutionOut:
    state = execution.state
    asked = list(state.checkpoints) if state is not None else []
    details = [_detail(c) for c in asked]
    reached = {c.step_id for c in asked}
    for stage in execution.stages:
        if stage.stage not in reached:
            details.append(
                CheckpointDetail(
                    checkpointNumber=len(details) + 1,
                    stepId=stage.stage,
                    description=stage.description,
                    status=CheckpointStatus.PENDING.value,
                    wasVerified=False,
                    evalMetadata=EvalMetadata(
                        tapNumber=None,
                        verificationDuration=None,
                        verificationResponse=None,
                        question=stage.verification_question,
                        reason=f"the stage {stage.stage} is done",
                        method="manual",
                        evidence=None,
                    ),
                )
            )
    total_steps = len(state.steps) if state is not None else len(execution.stages)
    completed_steps = min(state.current, total_steps) if state is not None else 0
    status = wire_status(execution)
    started = execution.started_at
    end = execution.completed_at or now or datetime.now(UTC)
    duration = round((end - started).total_seconds(), 3) if started is not None else 0.0
    return ExecutionOut(
        id=execution.id,
        status=status,
        testMode=execution.test_mode,
        progress=Progress(
            totalSteps=total_steps,
            completedSteps=completed_steps,
            currentStepIndex=completed_steps,
            percentComplete=round(100 * completed_steps / total_steps, 1) if total_steps else 0.0,
        ),
        checkpoints=Checkpoints(
            total=len(details),
            completed=sum(1 for c in asked if c.status in _DONE),
            details=details,
        ),
        metrics=Metrics(
            tapsUsed=state.taps if state is not None else 0,
            expectedTaps=execution.expected_checkpoints,
            durationSeconds=max(duration, 0.0),
            model=execution.model,
        ),
        startedAt=execution.started_at,
        completedAt=execution.completed_at,
        isComplete=status == "completed",
        isFailed=status == "failed",
        isRunning=status in ("running", "waiting_verification"),
        error=execution.error if status == "failed" else None,
        chatUrl=execution.url,
        chatId=execution.id,
    )
