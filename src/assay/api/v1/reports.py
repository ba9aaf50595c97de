"""Reports across evaluations: judge agreement with reviewers, and what review costs.

Both read the caller's newest checkpointed runs (its organization, its workspace for a scoped
key), ``limit`` of them. The judge is the server's (``ASSAY_JUDGE_MODEL``): a caller cannot
point the server at another model here; ``assay report agreement --judge`` can, locally.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from assay.api.deps import ContainerDep, PrincipalDep
from assay.services import agreement as agreement_service
from assay.services.agreement import CheckpointMetrics, JudgeAgreementReport

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Limit = Annotated[
    int,
    Query(
        ge=1,
        le=agreement_service.MAX_RUNS,
        description=f"The newest checkpointed runs to read (1-{agreement_service.MAX_RUNS}).",
    ),
]


@router.get("/judge-agreement", operation_id="reports-judge-agreement")
async def judge_agreement(
    container: ContainerDep, principal: PrincipalDep, limit: Limit = agreement_service.DEFAULT_RUNS
) -> JudgeAgreementReport:
    """The judge's verdicts on the checkpoints reviewers decided, against theirs.

    Raw agreement and Cohen's kappa with its 95% interval and n, overall and per
    verification question; `judge_could_verify` when the interval lies at or above 0.7.
    """
    return await agreement_service.judge_agreement(container, principal, limit=limit)


@router.get("/checkpoint-metrics", operation_id="reports-checkpoint-metrics")
async def checkpoint_metrics(
    container: ContainerDep, principal: PrincipalDep, limit: Limit = agreement_service.DEFAULT_RUNS
) -> CheckpointMetrics:
    """What review cost and caught across runs.

    Taps per task, time to verify (p50, p95), rejection rate per stage, and the share of
    auto-detected checkpoints reviewers rejected.
    """
    return await agreement_service.checkpoint_metrics(container, principal, limit=limit)
