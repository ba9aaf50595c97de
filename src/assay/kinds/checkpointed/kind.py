"""The ``checkpointed`` kind: a task agent that stops at checkpoints for an assigned reviewer.

One item per task. The item plans its steps, carries them out one at a time and, at each
checkpoint, returns a :class:`Suspend` holding the whole run (``core/checkpoints.RunState``):
the question, the step's evidence, what was approved before. The engine parks it without a
worker; the reviewer's verdict (a ``review`` event, sent by ``services/checkpoints.py``)
resumes it, so an approved step is never redone, even after a restart. A rejected step is
redone with the hint and asked again. The wait has a deadline (``verification_timeout_s``):
when it passes, the checkpoint is ``expired`` (not rejected) and the run fails saying so.

Checkpoints come from the task's stages (``manual``: after each stage), from the tools
(``ai-detected``: before every high-impact action, with the reason from its arguments, or
when a model planner asks for one), or nowhere. ``without-verification`` records them and
runs straight through, the speed baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assay.core.checkpoints import (
    REVIEW_EVENT,
    Checkpoint,
    CheckpointStatus,
    RunState,
    Step,
    StepResult,
    Verdict,
    accept_step,
    apply_verdict,
    expire,
)
from assay.core.errors import ConfigurationError
from assay.core.outcome import ItemRecord, Metrics, Outcome, RecordedEvent, Score, Suspend
from assay.core.spec import EvaluationSpec, ItemPlan, ModelRef
from assay.kinds.base import ItemContext, Kind
from assay.kinds.checkpointed.planner import (
    MockPlanner,
    ModelPlanner,
    Planner,
    predicted_checkpoints,
)
from assay.kinds.checkpointed.tools import team_domains

#: The event the run's webhook gets when it starts waiting for its reviewer.
VERIFICATION_REQUESTED = "verification_requested"
#: The event the run's webhook gets when it ends (instead of ``evaluation.completed``).
CHECKPOINTS_COMPLETED = "checkpoints_completed"
_TIMER = "timer"


class StageParams(BaseModel):
    stage: str = Field(min_length=1, max_length=200, description="Identifier of the checkpoint.")
    description: str = Field(
        min_length=1, max_length=2000, description="What happens at this step."
    )
    verification_question: str = Field(
        min_length=1,
        max_length=2000,
        description="What the reviewer is asked once the stage is done.",
    )


class CheckpointedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_name: str = Field(min_length=1, max_length=500)
    task_description: str = Field(min_length=1, max_length=10_000)
    checkpoints: list[StageParams] = Field(
        default_factory=list,
        max_length=50,
        description="Manual checkpoints, one per stage, in order.",
    )
    auto_detect: bool = Field(
        default=False, description="Pause before high-impact actions instead of after stages."
    )
    test_mode: Literal["with-verification", "without-verification"]
    reviewer: str = Field(
        min_length=3,
        max_length=320,
        description="The assigned reviewer's email (a user of the organization).",
    )
    planner_model: str | None = Field(
        default=None,
        description="`provider/model` of the planner; unset or `mock/...`: the offline planner.",
    )
    verification_timeout_s: float | None = Field(
        default=None,
        gt=0,
        description="How long one checkpoint may wait for its answer; unset: forever.",
    )
    execution_url: str | None = Field(
        default=None,
        description="Where a reviewer sees the run (sent in `verification_requested`).",
    )
    external_id: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _one_detection(self) -> CheckpointedParams:
        if self.checkpoints and self.auto_detect:
            raise ValueError("give checkpoints or auto_detect, not both")
        return self

    @property
    def detection(self) -> Literal["manual", "ai-detected", "none"]:
        if self.checkpoints:
            return "manual"
        return "ai-detected" if self.auto_detect else "none"


def planner_is_offline(params: CheckpointedParams) -> bool:
    model = params.planner_model
    return model is None or ModelRef.parse(model, "planner_model").provider == "mock"


def planner_for(params: CheckpointedParams, ctx: ItemContext) -> Planner:
    """The offline planner, or the configured model through the engine's retrying client."""
    if planner_is_offline(params):
        return MockPlanner()
    assert params.planner_model is not None
    ref = ModelRef.parse(params.planner_model, "planner_model")
    if ctx.llm is None:
        raise ConfigurationError("a model planner needs the engine's models (ctx.llm)")
    return ModelPlanner(ctx.llm(ref))


def _now() -> datetime:
    return datetime.now(UTC)


class CheckpointedKind(Kind[CheckpointedParams]):
    name = "checkpointed"
    Params = CheckpointedParams
    #: Verdicts come only from services/checkpoints.py, which checks the reviewer's identity.
    client_events = frozenset()

    def plan(self, spec: EvaluationSpec) -> list[ItemPlan]:
        """One item; its input says how many checkpoints to expect (None: the model decides)."""
        params = self.validate_params(spec.params)
        expected: int | None
        if params.detection == "manual":
            expected = len(params.checkpoints)
        elif params.detection == "none":
            expected = 0
        elif planner_is_offline(params):
            expected = predicted_checkpoints(params.task_description)
        else:
            expected = None
        return [ItemPlan(input={"expected_checkpoints": expected})]

    async def run_item(self, item: ItemPlan, ctx: ItemContext) -> Outcome | Suspend:  # noqa: ARG002
        params = self.item_params(ctx)
        planner = planner_for(params, ctx)
        if ctx.saved_state is None:
            state = await self._start(params, planner)
            await ctx.save(state.model_dump(mode="json"))
        else:
            state = RunState.model_validate(ctx.saved_state)
            self._apply_events(state, ctx.events)
        team = team_domains(params.task_description, params.reviewer)
        while state.error is None and state.current < len(state.steps):
            if state.waiting is not None:
                return self._suspend(state, params, ctx)
            step = state.steps[state.current]
            hints = state.hints.get(step.id, [])
            result = await planner.run_step(params.task_description, step.description, hints, team)
            await ctx.log("step", {"step": step.id, "output": result.output, "hints": hints})
            checkpoint = self._checkpoint_for(state, step, result)
            if checkpoint is None:
                accept_step(state, result)
            elif params.test_mode == "without-verification":
                checkpoint.status = CheckpointStatus.RECORDED
                state.checkpoints.append(checkpoint)
                accept_step(state, result)
            else:
                checkpoint.status = CheckpointStatus.WAITING
                checkpoint.requested_at = _now()
                state.checkpoints.append(checkpoint)
                await ctx.log("checkpoint", checkpoint.model_dump(mode="json"))
                return self._suspend(state, params, ctx)
            await ctx.save(state.model_dump(mode="json"))
        return self._outcome(state)

    @staticmethod
    async def _start(params: CheckpointedParams, planner: Planner) -> RunState:
        if params.checkpoints:
            steps = [
                Step(
                    id=c.stage,
                    description=c.description,
                    stage=c.stage,
                    verification_question=c.verification_question,
                )
                for c in params.checkpoints
            ]
        else:
            descriptions = await planner.plan(params.task_description)
            steps = [Step(id=f"step-{n}", description=d) for n, d in enumerate(descriptions, 1)]
        return RunState(
            task_name=params.task_name,
            test_mode=params.test_mode,
            detection=params.detection,
            reviewer=params.reviewer,
            model=planner.label,
            steps=steps,
            verification_timeout_s=params.verification_timeout_s,
            started_at=_now(),
        )

    @staticmethod
    def _apply_events(state: RunState, events: Sequence[RecordedEvent]) -> None:
        """Apply the verdicts and timers that arrived since the state was saved."""
        resuming = [e for e in events if e.kind in (REVIEW_EVENT, _TIMER)]
        for event in resuming[state.consumed_events :]:
            state.consumed_events += 1
            if event.kind == _TIMER:
                expire(state, event.created_at)
                continue
            payload = event.payload
            verdict = Verdict.model_validate(payload["verdict"])
            apply_verdict(state, int(payload["checkpoint_number"]), verdict)

    @staticmethod
    def _checkpoint_for(state: RunState, step: Step, result: StepResult) -> Checkpoint | None:
        number = len(state.checkpoints) + 1
        if step.stage is not None:
            return Checkpoint(
                number=number,
                step_id=step.id,
                stage=step.stage,
                description=step.description,
                question=step.verification_question or f"Is the stage {step.stage} right?",
                method="manual",
                reason=f"the stage {step.stage} is done",
                status=CheckpointStatus.PENDING,
                evidence=result,
            )
        if state.detection != "ai-detected":
            return None
        reasons = [c.checkpoint_reason for c in result.tool_calls if c.checkpoint_reason]
        if result.requested_review:
            reasons.append(result.requested_review)
        if not reasons:
            return None
        reason = "; ".join(reasons)
        return Checkpoint(
            number=number,
            step_id=step.id,
            description=step.description,
            question=f"May the agent go ahead? This step {reason}.",
            method="ai-detected",
            reason=reason,
            status=CheckpointStatus.PENDING,
            evidence=result,
        )

    @staticmethod
    def _suspend(state: RunState, params: CheckpointedParams, ctx: ItemContext) -> Suspend:
        checkpoint = state.waiting
        assert checkpoint is not None and checkpoint.requested_at is not None
        deadline = None
        if state.verification_timeout_s is not None:
            deadline = checkpoint.requested_at + timedelta(seconds=state.verification_timeout_s)
        announce = {
            "event": VERIFICATION_REQUESTED,
            "executionId": ctx.evaluation_id,
            "externalId": params.external_id,
            "checkpoint": {
                "checkpointNumber": checkpoint.number,
                "stepId": checkpoint.step_id,
                "stage": checkpoint.stage,
                "description": checkpoint.description,
                "reason": checkpoint.reason,
            },
            "question": checkpoint.question,
            "reviewer": state.reviewer,
            "chatUrl": params.execution_url,
        }
        return Suspend(
            waiting_for=f"review of checkpoint {checkpoint.number} by {state.reviewer}"[:200],
            state=state.model_dump(mode="json"),
            resume_after=deadline,
            announce=announce,
        )

    @staticmethod
    def _outcome(state: RunState) -> Outcome:
        state.finished_at = _now()
        asked = [c for c in state.checkpoints if c.verdict is not None]
        rejected = sum(1 for c in asked if c.status is CheckpointStatus.REJECTED)
        return Outcome(
            passed=state.error is None,
            scores=[
                Score(name="taps", value=float(state.taps), scale="count"),
                Score(
                    name="rejection_rate",
                    value=rejected / len(asked) if asked else None,
                    scale="0-1",
                ),
            ],
            metrics=Metrics(
                input_tokens=sum(r.input_tokens for r in state.results),
                output_tokens=sum(r.output_tokens for r in state.results),
            ),
            trace={"outbox": [c.model_dump(mode="json") for c in state.outbox]},
            data=state.model_dump(mode="json"),
        )

    def summarise(self, spec: EvaluationSpec, items: Sequence[ItemRecord]) -> dict[str, Any]:
        params = self.validate_params(spec.params)
        record = items[0] if items else None
        state = None
        if record is not None:
            stored = (record.outcome.data if record.outcome is not None else None) or (
                record.saved_state
            )
            state = RunState.model_validate(stored) if stored else None
        completed = record is not None and record.state == "passed"
        cancelled = record is not None and record.state == "cancelled"
        duration = None
        if state is not None and state.started_at:
            # A run cancelled while it waited never finished: it ran until now.
            ended = state.finished_at or (_now() if cancelled else None)
            if ended is not None:
                duration = round((ended - state.started_at).total_seconds(), 3)
        taps = state.taps if state is not None else 0
        return {
            "final_status": "completed" if completed else "failed",
            "taps": taps,
            "duration_seconds": duration,
            "webhook_event": {
                "event": CHECKPOINTS_COMPLETED,
                "id_field": "executionId",
                "payload": {
                    "event": CHECKPOINTS_COMPLETED,
                    "externalId": params.external_id,
                    "testMode": params.test_mode,
                    "finalStatus": "completed" if completed else "failed",
                    "metrics": {"tapsUsed": taps, "durationSeconds": duration},
                }
                | ({"cancelled": True} if cancelled else {}),
            },
        }
