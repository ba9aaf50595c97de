"""``accuracy``: an LLM judge scores the agent's output 1-10 against an expected output.

Agno's ``AccuracyEval`` over the eval-runs API. Each iteration runs the input in a fresh
session and asks the judge for a score; an item passes when its score is at least 7
(``PASS_SCORE``, the bottom of the rubric's "mostly accurate" band). The summary is Agno's
``AccuracyResult`` (``results``, ``avg_score``, ``mean_score``, ``min_score``, ``max_score``,
``std_dev_score``) plus Assay's ``confidence_interval_95``, ``counts`` and ``usage``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field
from typing_extensions import override

from assay.core.outcome import ItemRecord, Outcome, Score
from assay.core.spec import EvaluationSpec, ItemPlan
from assay.core.verdict import CheckVerdict, Thresholds
from assay.kinds.base import ItemContext
from assay.kinds.eval_run import EvalRunKind, EvalRunParams
from assay.kinds.toolkit import (
    LOWEST_SCORE,
    count_items,
    failure_reason,
    is_agent_failure,
    is_scored,
    item_metrics,
    judge_trace,
    ordered,
    require_judge,
    response_trace,
    score_stats,
    usage_summary,
)
from assay.kinds.verdicts import (
    DEFAULT_MIN_SCORE,
    interval,
    problems,
    scored,
    unsupported_gate,
    with_failure_reason,
)
from assay.scoring import stats
from assay.scoring.judge import Judge

#: An item passes when the judge scores it at least this (on 1-10).
PASS_SCORE = 7


class AccuracyParams(EvalRunParams):
    expected_output: str = Field(
        min_length=1, description="The correct answer; the judge takes it as ground truth."
    )
    additional_guidelines: str | None = Field(
        default=None, description="Extra instructions for the judge."
    )
    additional_context: str | None = Field(
        default=None, description="Background the judge may use (documents, facts)."
    )


class AccuracyKind(EvalRunKind[AccuracyParams]):
    name = "accuracy"
    label = "accuracy"
    Params = AccuracyParams
    needs_judge = True

    @override
    async def run_item(self, item: ItemPlan, ctx: ItemContext) -> Outcome:
        """Run the target once and have the judge score its output against the expected one."""
        params = self.item_params(ctx)
        response = await ctx.target.invoke(params.input, session_id=ctx.item_id)
        verdict = await Judge(require_judge(ctx, self.label)).accuracy(
            params.input,
            response.output,
            params.expected_output,
            guidelines=params.additional_guidelines,
            context=params.additional_context,
        )
        score = verdict.score if verdict.score is not None else LOWEST_SCORE
        passed = score >= PASS_SCORE
        return Outcome(
            passed=passed,
            scores=[
                Score(
                    name="accuracy", value=score, scale="1-10", passed=passed, reason=verdict.reason
                )
            ],
            metrics=item_metrics(ctx, response, verdict),
            trace={**response_trace(params.input, response), "judge": judge_trace(ctx, verdict)},
            data={
                "input": params.input,
                "output": response.output,
                "expected_output": params.expected_output,
                "score": score,
                "reason": verdict.reason,
            },
        )

    @override
    def verdict(self, summary: dict[str, Any], thresholds: Thresholds) -> CheckVerdict:
        """The mean score against ``min_score`` (default 7), with its interval and n.

        A failed verdict says why: the most common judge's reason among the low scores.
        """
        floor = thresholds.min_score or DEFAULT_MIN_SCORE
        return with_failure_reason(
            self._gated_mean(summary, thresholds),
            summary,
            lambda result: (result.get("score") or 0) < floor,
        )

    def _gated_mean(self, summary: dict[str, Any], thresholds: Thresholds) -> CheckVerdict:
        unsupported = unsupported_gate(thresholds, self.name, ("point", "lower-bound"))
        if unsupported is not None:
            return unsupported
        floor = thresholds.min_score or DEFAULT_MIN_SCORE
        mean = summary.get("avg_score")
        by_bound = thresholds.gate == "lower-bound"
        needs = f"95% CI lower bound >= {floor:g}" if by_bound else f"mean >= {floor:g}"
        if mean is None:
            return CheckVerdict(
                passed=False, result=f"nothing scored{problems(summary)}", needs=needs
            )
        ci = interval(summary.get("confidence_interval_95"))
        result = f"{mean:.1f}/10{ci} n={scored(summary)}"
        if not by_bound:
            return CheckVerdict(
                passed=mean >= floor, result=result + problems(summary), needs=needs
            )
        lower = (summary.get("confidence_interval_95") or {}).get("lower")
        passed = lower is not None and lower >= floor
        result += f"; lower bound {lower:.1f}" if lower is not None else "; no interval (n < 2)"
        return CheckVerdict(passed=passed, result=result + problems(summary), needs=needs)

    @override
    def summarise(self, spec: EvaluationSpec, items: Sequence[ItemRecord]) -> dict[str, Any]:
        """Agno's AccuracyResult over the scored items, plus a t interval of the mean score."""
        params = self.validate_params(spec.params)
        results: list[dict[str, Any]] = []
        for item in ordered(items):
            if not is_scored(item):
                continue
            if is_agent_failure(item) or item.outcome is None:
                results.append(
                    {
                        "input": params.input,
                        "output": "",
                        "expected_output": params.expected_output,
                        "score": LOWEST_SCORE,
                        "reason": failure_reason(item),
                    }
                )
            else:
                results.append(dict(item.outcome.data))
        scores = [float(result["score"]) for result in results]
        summary = score_stats(scores)
        interval = stats.mean_ci95(scores)
        return {
            "results": results,
            "avg_score": summary["avg_score"],
            "mean_score": summary["avg_score"],
            "min_score": summary["min_score"],
            "max_score": summary["max_score"],
            "std_dev_score": summary["std_dev_score"],
            "confidence_interval_95": (
                {"lower": interval.lower, "upper": interval.upper} if interval else None
            ),
            "counts": count_items(items),
            "usage": usage_summary(items),
        }
