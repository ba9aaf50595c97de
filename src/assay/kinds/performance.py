"""``performance``: run time (and, for in-process agents, peak memory) over repeated runs.

Agno's ``PerformanceEval`` over the eval-runs API. The plan is ``warmup_runs`` warmup items
followed by ``num_iterations`` measured ones; ``max_concurrency = 1`` makes the engine run
them one at a time in that order, so runs do not compete with each other. Each item times
the target call with ``perf_counter`` (seconds). When the target runs inside this process,
peak Python memory during the call is read with ``tracemalloc`` (MiB above what was traced
when the call started); a remote target's memory is out of reach, so only run time is
reported and the summary says so.

Two caveats, both stated rather than hidden: tracemalloc slows allocation-heavy Python code,
so in-process run times include its overhead; and it traces the whole process, so anything
else the process does during the call counts too.

The summary is Agno's ``PerformanceResult`` (lists and statistics), its stored form
(``result`` and ``runs``) and Assay's ``warmup_runs``, ``memory_measured``, ``counts`` and
``usage``. Warmup items appear only in ``counts`` and ``warmup_runs``. Failed runs (errored,
timed out) have no run time: they are counted, not measured. A run that completes passes.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import Field
from typing_extensions import override

from assay.core.outcome import ItemRecord, NormalizedResponse, Outcome, Score
from assay.core.spec import EvaluationSpec, ItemPlan
from assay.core.verdict import CheckVerdict, Thresholds
from assay.kinds.base import ItemContext, ItemKey, TargetHandle
from assay.kinds.eval_run import EvalRunKind, EvalRunParams
from assay.kinds.toolkit import (
    count_items,
    is_agent_failure,
    is_scored,
    item_metrics,
    ordered,
    response_trace,
    usage_summary,
)
from assay.kinds.verdicts import problems, unsupported_gate
from assay.scoring import stats

_MIB = 1024 * 1024
REMOTE_NOTE = "remote target: run time only"
_STAT_NAMES = ("avg", "min", "max", "std_dev", "median", "p95")


class PerformanceParams(EvalRunParams):
    warmup_runs: int = Field(
        default=0,
        ge=0,
        le=10,
        description=(
            "Runs made before measuring (to fill caches and open connections); not in the results."
        ),
    )


class PerformanceKind(EvalRunKind[PerformanceParams]):
    name = "performance"
    label = "performance"
    Params = PerformanceParams
    max_concurrency: ClassVar[int | None] = 1

    @override
    def plan(self, spec: EvaluationSpec) -> list[ItemPlan]:
        """``warmup_runs`` warmup items, then ``num_iterations`` measured items."""
        params = self.validate_params(spec.params)
        warmups = [
            ItemPlan(input={"warmup": True, "iteration": i})
            for i in range(1, params.warmup_runs + 1)
        ]
        measured = [
            ItemPlan(input={"warmup": False, "iteration": i})
            for i in range(1, params.num_iterations + 1)
        ]
        return warmups + measured

    @override
    def item_keys(
        self, spec: EvaluationSpec, inputs: Sequence[dict[str, Any]]
    ) -> list[ItemKey | None]:
        """Measured runs by their number; warm-up runs are never compared."""
        del spec
        return [None if v["warmup"] else ItemKey(f"iteration {v['iteration']}") for v in inputs]

    @override
    async def run_item(self, item: ItemPlan, ctx: ItemContext) -> Outcome:
        """Time one target call; measure its peak memory when the target is in-process."""
        params = self.item_params(ctx)
        warmup = bool(item.input.get("warmup", False))
        response, seconds, peak_bytes = await _measure(ctx.target, params.input, ctx.item_id)
        memory = peak_bytes / _MIB if peak_bytes is not None else None
        scores = [Score(name="run_time", value=seconds, scale="s")]
        if memory is not None:
            scores.append(Score(name="memory", value=memory, scale="MiB"))
        return Outcome(
            passed=True,
            scores=scores,
            metrics=item_metrics(
                ctx, response, latency_ms=seconds * 1000, memory_peak_bytes=peak_bytes
            ),
            trace={**response_trace(params.input, response), "warmup": warmup},
            data={
                "warmup": warmup,
                "runtime": seconds,
                "memory": memory,
                "memory_measured": memory is not None,
            },
        )

    @override
    def verdict(self, summary: dict[str, Any], thresholds: Thresholds) -> CheckVerdict:
        """The mean run time against ``max_mean_seconds`` (default: any time passes)."""
        unsupported = unsupported_gate(thresholds, self.name, ("point",))
        if unsupported is not None:
            return unsupported
        limit = thresholds.max_mean_seconds
        mean = summary.get("avg_run_time")
        runs = len(summary.get("run_times", []))
        needs = f"mean <= {limit * 1000:g} ms" if limit else "-"
        if mean is None or not runs:
            return CheckVerdict(
                passed=False, result=f"no measured run{problems(summary)}", needs=needs
            )
        result = f"mean {mean * 1000:.1f} ms, p95 {summary.get('p95_run_time', 0) * 1000:.1f} ms"
        if summary.get("memory_measured"):
            result += f", peak {summary.get('max_memory_usage', 0):.2f} MiB"
        passed = limit is None or mean <= limit
        return CheckVerdict(
            passed=passed, result=f"{result} n={runs}{problems(summary)}", needs=needs
        )

    @override
    def summarise(self, spec: EvaluationSpec, items: Sequence[ItemRecord]) -> dict[str, Any]:
        """Agno's PerformanceResult over the measured runs (seconds, MiB)."""
        records = ordered(items)
        measured = [item for item in records if not item.input.get("warmup")]
        runs = [
            item.outcome.data
            for item in measured
            if is_scored(item) and not is_agent_failure(item) and item.outcome is not None
        ]
        run_times = [float(run["runtime"]) for run in runs]
        memory_measured = bool(runs) and all(run.get("memory") is not None for run in runs)
        memory_usages = [float(run["memory"]) for run in runs] if memory_measured else []
        result = {**_stats("run_time", run_times), **_stats("memory_usage", memory_usages)}
        summary: dict[str, Any] = {
            "run_times": run_times,
            **{k: v for k, v in result.items() if k.endswith("run_time")},
            "memory_usages": memory_usages,
            **{k: v for k, v in result.items() if k.endswith("memory_usage")},
            "result": result,
            "runs": [
                {
                    "runtime": float(run["runtime"]),
                    "memory": run["memory"] if memory_measured else None,
                }
                for run in runs
            ],
            "warmup_runs": len(records) - len(measured),
            "memory_measured": memory_measured,
            "counts": count_items(records),
            "usage": usage_summary(measured),
        }
        if not memory_measured:
            summary["note"] = REMOTE_NOTE if runs else "no measured run finished"
        return summary


async def _measure(
    target: TargetHandle, input: str, session_id: str
) -> tuple[NormalizedResponse, float, int | None]:
    """Call the target once: (response, seconds, peak bytes or None when not measured)."""
    if not target.in_process:
        start = time.perf_counter()
        response = await target.invoke(input, session_id=session_id)
        return response, time.perf_counter() - start, None
    gc.collect()
    started_tracing = not tracemalloc.is_tracing()
    if started_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline, _ = tracemalloc.get_traced_memory()
        start = time.perf_counter()
        response = await target.invoke(input, session_id=session_id)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if started_tracing:
            tracemalloc.stop()
    return response, seconds, max(0, peak - baseline)


def _stats(suffix: str, values: Sequence[float]) -> dict[str, float | None]:
    """avg/min/max/std_dev/median/p95 of ``values`` named ``<stat>_<suffix>``; None when empty."""
    if not values:
        return {f"{name}_{suffix}": None for name in _STAT_NAMES}
    computed = (
        stats.mean(values),
        min(values),
        max(values),
        stats.stdev(values),
        stats.median(values),
        stats.percentile(values, 95),
    )
    return {f"{name}_{suffix}": value for name, value in zip(_STAT_NAMES, computed, strict=True)}
