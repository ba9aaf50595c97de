"""``agent_as_judge``: an LLM judge checks the agent's output against free-form criteria.

Agno's ``AgentAsJudgeEval`` over the eval-runs API. ``binary`` (the default) asks the judge
for pass or fail; ``numeric`` asks for a 1-10 score and passes at ``threshold`` (default 7).
The summary is Agno's ``AgentAsJudgeResult`` (``run_id``, ``results``, ``avg_score``,
``min_score``, ``max_score``, ``std_dev_score`` (null in binary mode), ``pass_rate`` in
percent) plus Assay's Wilson ``pass_rate_ci95``, ``counts`` and ``usage``. ``run_id`` is
None here: the evaluation id is not known to a pure summary, and the API fills it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field
from typing_extensions import override

from assay.core.outcome import ItemRecord, Outcome, Score
from assay.core.spec import EvaluationSpec, ItemPlan
from assay.core.verdict import CheckVerdict, Thresholds
from assay.kinds.base import ItemContext
from assay.kinds.eval_run import EvalRunKind, EvalRunParams
from assay.kinds.repeats import pass_k_block
from assay.kinds.toolkit import (
    LOWEST_SCORE,
    count_items,
    failure_reason,
    is_agent_failure,
    is_scored,
    item_metrics,
    judge_trace,
    ordered,
    pass_rate_percent,
    require_judge,
    response_trace,
    score_stats,
    usage_summary,
    wilson_percent,
)
from assay.kinds.verdicts import pass_rate_verdict
from assay.scoring.judge import Judge


class AgentAsJudgeParams(EvalRunParams):
    criteria: str = Field(min_length=1, description="What a good output does, in plain words.")
    scoring_strategy: Literal["binary", "numeric"] = Field(
        default="binary",
        description=(
            "`binary`: the judge says pass or fail. `numeric`: a 1-10 score, passing at "
            "`threshold`."
        ),
    )
    threshold: int = Field(
        default=7, ge=1, le=10, description="The lowest passing score (numeric strategy only)."
    )
    additional_guidelines: str | None = Field(
        default=None, description="Extra instructions for the judge."
    )
    additional_context: str | None = Field(
        default=None, description="Background the judge may use (documents, facts)."
    )


class AgentAsJudgeKind(EvalRunKind[AgentAsJudgeParams]):
    name = "agent_as_judge"
    label = "agent_as_judge"
    Params = AgentAsJudgeParams
    needs_judge = True

    @override
    async def run_item(self, item: ItemPlan, ctx: ItemContext) -> Outcome:
        """Run the target once and have the judge check its output against the criteria."""
        params = self.item_params(ctx)
        response = await ctx.target.invoke(params.input, session_id=ctx.item_id)
        verdict = await Judge(require_judge(ctx, self.label)).criteria(
            params.input,
            response.output,
            params.criteria,
            strategy=params.scoring_strategy,
            threshold=params.threshold,
            guidelines=params.additional_guidelines,
            context=params.additional_context,
        )
        passed = bool(verdict.passed)
        if params.scoring_strategy == "numeric":
            score = Score(
                name="criteria",
                value=verdict.score,
                scale="1-10",
                passed=passed,
                reason=verdict.reason,
            )
        else:
            score = Score(
                name="criteria",
                value=1.0 if passed else 0.0,
                scale="binary",
                passed=passed,
                reason=verdict.reason,
            )
        return Outcome(
            passed=passed,
            scores=[score],
            metrics=item_metrics(ctx, response, verdict),
            trace={**response_trace(params.input, response), "judge": judge_trace(ctx, verdict)},
            data={
                "input": params.input,
                "output": response.output,
                "criteria": params.criteria,
                "score": verdict.score,
                "reason": verdict.reason,
                "passed": passed,
            },
        )

    @override
    def verdict(self, summary: dict[str, Any], thresholds: Thresholds) -> CheckVerdict:
        return pass_rate_verdict(summary, thresholds)

    @override
    def summarise(self, spec: EvaluationSpec, items: Sequence[ItemRecord]) -> dict[str, Any]:
        """Agno's AgentAsJudgeResult over the scored items, plus a Wilson pass-rate interval."""
        params = self.validate_params(spec.params)
        numeric = params.scoring_strategy == "numeric"
        results: list[dict[str, Any]] = []
        for item in ordered(items):
            if not is_scored(item):
                continue
            if is_agent_failure(item) or item.outcome is None:
                results.append(
                    {
                        "input": params.input,
                        "output": "",
                        "criteria": params.criteria,
                        "score": LOWEST_SCORE if numeric else None,
                        "reason": failure_reason(item),
                        "passed": False,
                    }
                )
            else:
                results.append(dict(item.outcome.data))
        passed = sum(1 for result in results if result["passed"])
        scores = [float(r["score"]) for r in results if numeric and r["score"] is not None]
        return {
            "run_id": None,
            "results": results,
            **score_stats(scores),
            "pass_rate": pass_rate_percent(passed, len(results)),
            "pass_rate_ci95": wilson_percent(passed, len(results)),
            "pass_k": pass_k_block(items),
            "counts": count_items(items),
            "usage": usage_summary(items),
        }
