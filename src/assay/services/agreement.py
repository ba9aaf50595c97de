"""How far an LLM judge agrees with the reviewers of checkpointed runs, and what review costs.

Every checkpoint a person decided (approved or rejected) is a labelled example: the question
asked, the step's evidence, and the reviewer's answer. :func:`judge_agreement` asks the judge
the same verification question over the same evidence and compares its answers with the
reviewers' (raw agreement and Cohen's kappa with its 95% interval, overall and per
question), so a team knows when it could let the judge verify instead of a person.

When the judge runs: on demand, when the report is asked for, never while a run waits or
when a reviewer answers. A reviewer's answer then costs no judge call and cannot fail or
slow down because a judge is down; the decisions stay the labels they are, and the same
history can be judged again by a new judge model (``assay report agreement --judge``) to
compare judges. The report reads at most ``limit`` of the newest runs, so its cost is
bounded; with the offline ``mock/judge`` it is deterministic and free.

:func:`checkpoint_metrics` needs no judge: taps per task, time to verify (p50, p95),
rejection rate per stage and the share of auto-detected checkpoints reviewers rejected.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

from pydantic import BaseModel

from assay.core.checkpoints import Checkpoint, CheckpointStatus, RunState
from assay.core.errors import ProviderError
from assay.core.principal import Principal
from assay.core.spec import ModelRef
from assay.scoring import paired, stats
from assay.scoring.judge import Judge
from assay.services.checkpoints import KIND, get_execution
from assay.services.container import Container
from assay.services.evaluations import list_evaluations

#: Runs read by default, and at most.
DEFAULT_RUNS = 100
MAX_RUNS = 500
#: Judge calls in flight at once.
JUDGE_CONCURRENCY = 8
#: Practitioners let a judge verify from this kappa up; the report checks its lower bound.
KAPPA_GATE = 0.7
_DECIDED = (CheckpointStatus.APPROVED, CheckpointStatus.REJECTED)


class Decision(NamedTuple):
    """One checkpoint a person decided, with what the judge needs to decide it too."""

    execution_id: str
    task_name: str
    checkpoint: Checkpoint


class Agreement(BaseModel):
    n: int
    #: Share of checkpoints where the judge and the reviewer gave the same answer.
    raw_agreement: float | None
    kappa: float | None
    kappa_ci95: tuple[float, float] | None
    reviewer_approval_rate: float | None
    judge_approval_rate: float | None
    #: ``both_approved``, ``both_rejected``, ``judge_only_approved``, ``reviewer_only_approved``.
    confusion: dict[str, int]


class QuestionAgreement(Agreement):
    question: str


class JudgeAgreementReport(BaseModel):
    judge: str
    runs: int
    overall: Agreement
    questions: list[QuestionAgreement]
    #: Decided checkpoints the judge gave no usable verdict for (left out of the numbers).
    judge_errors: int
    kappa_gate: float = KAPPA_GATE
    #: True when the kappa's 95% interval lies wholly at or above ``kappa_gate``.
    judge_could_verify: bool


class Distribution(BaseModel):
    n: int
    mean: float | None
    p50: float | None
    p95: float | None


class Rate(BaseModel):
    n: int
    rejected: int
    rate: float | None
    ci95: tuple[float, float] | None


class StageRate(Rate):
    stage: str


class CheckpointMetrics(BaseModel):
    runs: int
    #: Reviewer answers per run; ``by_task`` is the mean per task name.
    taps_per_task: Distribution
    taps_by_task: dict[str, float]
    #: Seconds from a question to its answer, over decided checkpoints.
    time_to_verify_seconds: Distribution
    rejection_rate_by_stage: list[StageRate]
    #: Auto-detected checkpoints (before a high-impact action) that reviewers rejected.
    auto_detected_rejected: Rate
    #: Checkpoints whose deadline passed unanswered (never counted as rejections).
    expired: int


async def _runs(
    container: Container, principal: Principal, limit: int
) -> list[tuple[str, RunState]]:
    """The newest ``limit`` checkpointed runs the caller can see, with their state."""
    page = await list_evaluations(
        container, principal, limit=min(limit, MAX_RUNS), offset=0, kinds=[KIND]
    )
    runs = []
    for view in page.items:
        execution = await get_execution(container, principal, view.id)
        if execution.state is not None:
            runs.append((view.id, execution.state))
    return runs


def decisions(runs: Sequence[tuple[str, RunState]]) -> list[Decision]:
    """Every checkpoint a reviewer approved or rejected, with its evidence."""
    return [
        Decision(execution_id, state.task_name, checkpoint)
        for execution_id, state in runs
        for checkpoint in state.checkpoints
        if checkpoint.status in _DECIDED and checkpoint.evidence is not None
    ]


def evidence_text(checkpoint: Checkpoint) -> str:
    """The step's output and tool calls, as the reviewer saw them."""
    assert checkpoint.evidence is not None
    lines = [checkpoint.evidence.output]
    for call in checkpoint.evidence.tool_calls:
        arguments = json.dumps(call.arguments, sort_keys=True, default=str)
        result = json.dumps(call.result, sort_keys=True, default=str)
        lines.append(
            f"tool {call.name}({arguments}) [{call.impact} impact, {call.status}] -> {result}"
        )
    return "\n".join(lines)


#: How the judge is told to read the question (the criteria are the question itself).
_GUIDELINES = (
    "You verify one step of an agent's task in place of a human reviewer. The criteria are "
    "the reviewer's verification question about the step's result: pass only when the "
    "answer is yes and the step can be approved as it is."
)


async def _judge_one(judge: Judge, decision: Decision) -> bool | None:
    """The judge's answer to the checkpoint's question; None when it gave no usable one."""
    checkpoint = decision.checkpoint
    task = (
        f"Task: {decision.task_name}\nStep: {checkpoint.description}\n"
        f"Why it is checked: {checkpoint.reason}"
    )
    try:
        verdict = await judge.criteria(
            task, evidence_text(checkpoint), checkpoint.question, guidelines=_GUIDELINES
        )
    except ProviderError:
        return None
    return verdict.passed


async def judge_agreement(
    container: Container,
    principal: Principal,
    *,
    limit: int = DEFAULT_RUNS,
    judge_model: str | None = None,
) -> JudgeAgreementReport:
    """The judge's answers on decided checkpoints against the reviewers', with kappa.

    ``judge_model`` (provider/model) defaults to the server's ``ASSAY_JUDGE_MODEL``.

    Raises:
        ValidationFailed: ``judge_model`` is not provider/model.
        ConfigurationError: the judge's provider is unknown or cannot be built.
    """
    from assay.engine.runtime import ProviderPool

    label = judge_model or container.settings.judge_model
    ref = ModelRef.parse(label, field="judge")
    runs = await _runs(container, principal, limit)
    found = decisions(runs)
    pool = ProviderPool(container.settings)
    try:
        judge = Judge(pool.get(ref))
        gate = asyncio.Semaphore(JUDGE_CONCURRENCY)

        async def bounded(decision: Decision) -> bool | None:
            async with gate:
                return await _judge_one(judge, decision)

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(bounded(d)) for d in found]
    finally:
        await pool.aclose()
    judged = [
        (d, task.result())
        for d, task in zip(found, tasks, strict=True)
        if task.result() is not None
    ]
    labelled = [
        (d.checkpoint.question, d.checkpoint.status is CheckpointStatus.APPROVED, bool(j))
        for d, j in judged
    ]
    by_question: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for question, reviewer, judge_said in labelled:
        by_question[question].append((reviewer, judge_said))
    overall = agreement([(r, j) for _, r, j in labelled])
    return JudgeAgreementReport(
        judge=ref.label,
        runs=len(runs),
        overall=overall,
        questions=[
            QuestionAgreement(question=q, **agreement(pairs).model_dump())
            for q, pairs in sorted(by_question.items())
        ],
        judge_errors=len(found) - len(judged),
        judge_could_verify=overall.kappa_ci95 is not None and overall.kappa_ci95[0] >= KAPPA_GATE,
    )


def agreement(pairs: Sequence[tuple[bool, bool]]) -> Agreement:
    """Agreement of ``(reviewer_approved, judge_approved)`` pairs; numbers None when empty."""
    confusion = {
        "both_approved": sum(1 for r, j in pairs if r and j),
        "both_rejected": sum(1 for r, j in pairs if not r and not j),
        "judge_only_approved": sum(1 for r, j in pairs if j and not r),
        "reviewer_only_approved": sum(1 for r, j in pairs if r and not j),
    }
    if not pairs:
        return Agreement(
            n=0,
            raw_agreement=None,
            kappa=None,
            kappa_ci95=None,
            reviewer_approval_rate=None,
            judge_approval_rate=None,
            confusion=confusion,
        )
    kappa = paired.cohen_kappa(pairs)
    n = len(pairs)
    return Agreement(
        n=n,
        raw_agreement=kappa.agreement,
        kappa=kappa.kappa,
        kappa_ci95=None if kappa.ci95 is None else (kappa.ci95.lower, kappa.ci95.upper),
        reviewer_approval_rate=sum(1 for r, _ in pairs if r) / n,
        judge_approval_rate=sum(1 for _, j in pairs if j) / n,
        confusion=confusion,
    )


async def checkpoint_metrics(
    container: Container, principal: Principal, *, limit: int = DEFAULT_RUNS
) -> CheckpointMetrics:
    """What review cost and caught across the newest ``limit`` runs the caller can see."""
    runs = await _runs(container, principal, limit)
    found = decisions(runs)
    taps_by_task: dict[str, list[float]] = defaultdict(list)
    for _, state in runs:
        taps_by_task[state.task_name].append(float(state.taps))
    stages: dict[str, list[bool]] = defaultdict(list)
    for decision in found:
        checkpoint = decision.checkpoint
        stages[checkpoint.stage or checkpoint.step_id].append(
            checkpoint.status is CheckpointStatus.REJECTED
        )
    auto = [
        d.checkpoint.status is CheckpointStatus.REJECTED
        for d in found
        if d.checkpoint.method == "ai-detected"
    ]
    return CheckpointMetrics(
        runs=len(runs),
        taps_per_task=distribution([float(state.taps) for _, state in runs]),
        taps_by_task={name: stats.mean(values) for name, values in sorted(taps_by_task.items())},
        time_to_verify_seconds=distribution(
            [
                d.checkpoint.verification_seconds
                for d in found
                if d.checkpoint.verification_seconds is not None
            ]
        ),
        rejection_rate_by_stage=[
            StageRate(stage=stage, **rate(outcomes).model_dump())
            for stage, outcomes in sorted(stages.items())
        ],
        auto_detected_rejected=rate(auto),
        expired=sum(
            1
            for _, state in runs
            for c in state.checkpoints
            if c.status is CheckpointStatus.EXPIRED
        ),
    )


def distribution(values: Sequence[float]) -> Distribution:
    if not values:
        return Distribution(n=0, mean=None, p50=None, p95=None)
    return Distribution(
        n=len(values),
        mean=stats.mean(values),
        p50=stats.percentile(values, 50),
        p95=stats.percentile(values, 95),
    )


def rate(rejections: Sequence[bool]) -> Rate:
    """The share of ``True`` (rejected) with its Wilson interval."""
    n, rejected = len(rejections), sum(rejections)
    interval = stats.wilson_ci95(rejected, n)
    return Rate(
        n=n,
        rejected=rejected,
        rate=rejected / n if n else None,
        ci95=None if interval is None else (interval.lower, interval.upper),
    )
