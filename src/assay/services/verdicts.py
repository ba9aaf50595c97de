"""Pass or fail for one finished evaluation against a check's thresholds.

The status decides first (an evaluation that failed or was cancelled did not pass); then the
evaluation's kind judges its own summary (``Kind.verdict``). A failed check's reason leads
with its infrastructure errors, grouped, since they explain a score made of fewer items.
"""

from __future__ import annotations

from assay.core.evaluation import EvaluationView
from assay.core.states import EvaluationStatus
from assay.core.verdict import CheckVerdict, Thresholds
from assay.kinds._registry import get_kind


def verdict_for(view: EvaluationView, thresholds: Thresholds) -> CheckVerdict:
    if view.status is EvaluationStatus.FAILED:
        return CheckVerdict(passed=False, result=f"could not run: {view.error}", needs="-")
    if view.status is EvaluationStatus.CANCELLED:
        return CheckVerdict(passed=False, result="cancelled", needs="-")
    verdict = get_kind(view.kind).verdict(view.summary or {}, thresholds)
    if verdict.passed or not view.infra_errors:
        return verdict
    reasons = [r for r in (view.infra_error_text, verdict.reason) if r]
    return verdict.model_copy(update={"reason": "; ".join(reasons)})
