"""``GET /v1/evaluations/{baseline}/compare/{candidate}``: the paired comparison of two runs.

Both evaluations must be readable by the caller (its organization, and its workspace for a
scoped key); either one not being so is a 404, whichever it is, so the route reveals nothing
of another tenant's evaluations. Two kinds that differ are a 422 naming ``candidate``.
"""

from __future__ import annotations

from fastapi import APIRouter

from assay.api.deps import ContainerDep, PrincipalDep
from assay.core.comparison import Comparison
from assay.services.compare import compare_evaluations

router = APIRouter(prefix="/v1/evaluations", tags=["evaluations"])


@router.get("/{baseline_id}/compare/{candidate_id}", operation_id="evaluations-compare")
async def compare(
    baseline_id: str, candidate_id: str, container: ContainerDep, principal: PrincipalDep
) -> Comparison:
    """The candidate against the baseline, item by item: differences, 95% intervals, verdicts.

    Items are paired by what they test (a probe's id, a case's input, a task's name);
    pass/fail is compared with McNemar's exact test and scores with a paired bootstrap.
    """
    return await compare_evaluations(container, principal, baseline_id, candidate_id)
