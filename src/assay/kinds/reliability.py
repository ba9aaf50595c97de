"""``reliability``: did the agent call the tools it was expected to call?

Agno's ``ReliabilityEval`` over the eval-runs API, with two Assay additions: tools that were
expected but never called (``missing_tool_calls``) fail an iteration, and repeated iterations
report a pass rate and pass^k (every iteration passed; tau-bench's measure of consistency).

Each iteration compares the agent's tool calls with ``expected_tool_calls`` by name, and
with ``expected_tool_call_arguments`` by argument; ``allow_additional_tool_calls`` lists
unexpected calls as ``additional_tool_calls`` instead of failing them (see
:func:`assay.scoring.tool_calls.compare_tool_calls`). The summary's ``eval_status`` is
``PASSED`` only when at least one iteration was scored and every scored iteration passed; its
tool-call lists are the de-duplicated union over scored iterations, in first-seen order. An
iteration whose agent errored or timed out made no usable calls and fails, with the item's
error in its ``error`` field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import Field
from typing_extensions import override

from assay.core.outcome import ItemRecord, Outcome, Score, ToolCall
from assay.core.spec import EvaluationSpec, ItemPlan
from assay.core.verdict import CheckVerdict, Thresholds
from assay.kinds.base import ItemContext
from assay.kinds.eval_run import EvalRunKind, EvalRunParams
from assay.kinds.repeats import pass_k_block
from assay.kinds.toolkit import (
    count_items,
    failure_reason,
    is_agent_failure,
    is_scored,
    item_metrics,
    ordered,
    pass_rate_percent,
    response_trace,
    usage_summary,
    wilson_percent,
)
from assay.kinds.verdicts import pass_rate_verdict
from assay.scoring.tool_calls import ToolCallCheck, compare_tool_calls


class ReliabilityParams(EvalRunParams):
    expected_tool_calls: list[str] = Field(
        description=(
            "Names of the tools the agent must call; ``[]``: the agent must call none (or, with "
            "``allow_additional_tool_calls``, any)."
        )
    )
    allow_additional_tool_calls: bool = Field(
        default=False,
        description=(
            "When true, calls to tools not in ``expected_tool_calls`` are allowed (subset "
            "matching)."
        ),
    )
    expected_tool_call_arguments: dict[str, dict[str, Any] | list[dict[str, Any]]] | None = Field(
        default=None,
        description=(
            'Arguments a tool must be called with: ``{"multiply": {"a": 10}}``, or a list of such '
            "mappings, each matched by some call."
        ),
    )

    def check(self, calls: list[ToolCall]) -> ToolCallCheck:
        return compare_tool_calls(
            calls,
            self.expected_tool_calls,
            allow_additional=self.allow_additional_tool_calls,
            expected_arguments=self.expected_tool_call_arguments,
        )


class ReliabilityKind(EvalRunKind[ReliabilityParams]):
    name = "reliability"
    label = "reliability"
    Params = ReliabilityParams

    @override
    async def run_item(self, item: ItemPlan, ctx: ItemContext) -> Outcome:
        """Run the target once and compare its tool calls with the expected ones."""
        params = self.item_params(ctx)
        response = await ctx.target.invoke(params.input, session_id=ctx.item_id)
        check = params.check(response.tool_calls)
        reason = _reason(check, called_any=bool(response.tool_calls))
        return Outcome(
            passed=check.passed,
            scores=[
                Score(
                    name="tool_calls",
                    value=1.0 if check.passed else 0.0,
                    scale="binary",
                    passed=check.passed,
                    reason=reason,
                )
            ],
            metrics=item_metrics(ctx, response),
            trace=response_trace(params.input, response),
            data=_iteration(check, [call.name for call in response.tool_calls], None),
        )

    @override
    def verdict(self, summary: dict[str, Any], thresholds: Thresholds) -> CheckVerdict:
        """The pass rate, prefixed with the tools called and those missing or unexpected."""
        calls = ", ".join(summary.get("passed_tool_calls", [])) or "no expected tool"
        wrong = (
            [f"unexpected {', '.join(summary['failed_tool_calls'])}"]
            if summary.get("failed_tool_calls")
            else []
        )
        if summary.get("missing_tool_calls"):
            wrong.append(f"missing {', '.join(summary['missing_tool_calls'])}")
        if summary.get("failed_argument_checks"):
            wrong.append(f"wrong arguments to {', '.join(summary['failed_argument_checks'])}")
        prefix = f"called {calls}" + (f" ({'; '.join(wrong)})" if wrong else "") + "; "
        return pass_rate_verdict(summary, thresholds, prefix)

    @override
    def summarise(self, spec: EvaluationSpec, items: Sequence[ItemRecord]) -> dict[str, Any]:
        """Agno's ReliabilityResult (eval_status and tool-call lists) over scored iterations."""
        params = self.validate_params(spec.params)
        iterations: list[dict[str, Any]] = []
        for item in ordered(items):
            if not is_scored(item):
                continue
            if is_agent_failure(item) or item.outcome is None:
                failed = _iteration(params.check([]), [], failure_reason(item))
                iterations.append(failed | {"eval_status": "FAILED"})
            else:
                iterations.append(dict(item.outcome.data))
        passed = sum(1 for it in iterations if it["eval_status"] == "PASSED")
        all_passed = bool(iterations) and passed == len(iterations)
        return {
            "eval_status": "PASSED" if all_passed else "FAILED",
            "passed_tool_calls": _union(it["passed_tool_calls"] for it in iterations),
            "failed_tool_calls": _union(it["failed_tool_calls"] for it in iterations),
            "missing_tool_calls": _union(it["missing_tool_calls"] for it in iterations),
            **{
                name: _union(it.get(name, []) for it in iterations)
                for name in ("additional_tool_calls", *ARGUMENT_CHECKS)
            },
            "iterations": iterations,
            "pass_rate": pass_rate_percent(passed, len(iterations)),
            "pass_rate_ci95": wilson_percent(passed, len(iterations)),
            "pass_hat_k": all_passed,
            "pass_k": pass_k_block(items),
            "counts": count_items(items),
            "usage": usage_summary(items),
        }


#: Agno's argument-check lists, in an iteration's data and the summary.
ARGUMENT_CHECKS = ("passed_argument_checks", "failed_argument_checks")


def _iteration(check: ToolCallCheck, called: list[str], error: str | None) -> dict[str, Any]:
    """One iteration's data: Agno's ReliabilityResult fields, the calls made, the error."""
    return {
        "eval_status": "PASSED" if check.passed else "FAILED",
        "passed_tool_calls": check.passed_tool_calls,
        "failed_tool_calls": check.failed_tool_calls,
        "missing_tool_calls": check.missing_tool_calls,
        "additional_tool_calls": check.additional_tool_calls,
        "passed_argument_checks": check.passed_argument_checks,
        "failed_argument_checks": check.failed_argument_checks,
        "tool_calls": called,
        "error": error,
    }


def _union(lists: Iterable[list[str]]) -> list[str]:
    """The de-duplicated union of ``lists``, in first-seen order."""
    return list(dict.fromkeys(name for names in lists for name in names))


def _reason(check: ToolCallCheck, called_any: bool) -> str:
    if check.passed:
        return "every call was to an expected tool and every expected tool was called"
    if not called_any:
        return "no tool was called"
    parts = []
    if check.failed_tool_calls:
        parts.append(f"unexpected tool calls: {', '.join(check.failed_tool_calls)}")
    if check.missing_tool_calls:
        parts.append(f"expected tools never called: {', '.join(check.missing_tool_calls)}")
    if check.failed_argument_checks:
        parts.append(f"wrong arguments to: {', '.join(check.failed_argument_checks)}")
    return "; ".join(parts)
