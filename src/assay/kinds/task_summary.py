"""The ``task_benchmark`` summary: pass rates with intervals, phase durations, sandbox health.

Counting rules: ``passed`` items pass; ``failed``, ``errored`` and ``timed_out`` are the
agent's failures; ``infra_error`` and ``cancelled`` say nothing about the agent and are left
out of every rate (counted apart). Pass rates are on 0-1 with their Wilson 95% interval,
overall and per capability and per difficulty. Durations (seconds) are p50/p95 over the items
that recorded them; ``cleanup_failures`` counts sandboxes that could not be cleaned up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from assay.core.outcome import ItemRecord
from assay.core.states import ItemState
from assay.kinds.toolkit import count_items, ordered, usage_summary
from assay.scoring import stats

PHASES = ("sandbox_start", "provisioning", "agent", "verifying", "cleanup")
_SCORED = {ItemState.PASSED, ItemState.FAILED, ItemState.ERRORED, ItemState.TIMED_OUT}
DIGITS = 4


def _rate(items: Sequence[ItemRecord]) -> dict[str, Any]:
    scored = [i for i in items if i.state in _SCORED]
    passed = sum(1 for i in scored if i.state == ItemState.PASSED)
    interval = stats.wilson_ci95(passed, len(scored))
    return {
        "tasks": len(items),
        "scored": len(scored),
        "passed": passed,
        "pass_rate": round(passed / len(scored), DIGITS) if scored else None,
        "pass_rate_ci95": None
        if interval is None
        else [round(interval.lower, DIGITS), round(interval.upper, DIGITS)],
        "infra_error": sum(1 for i in items if i.state == ItemState.INFRA_ERROR),
    }


def _by(items: Iterable[ItemRecord], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[ItemRecord]] = defaultdict(list)
    for item in items:
        groups[str(item.input.get("task", {}).get(key, "unknown"))].append(item)
    return {name: _rate(group) for name, group in sorted(groups.items())}


def _spread(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "n": 0}
    return {
        "p50": round(stats.percentile(values, 50), DIGITS),
        "p95": round(stats.percentile(values, 95), DIGITS),
        "n": len(values),
    }


def summarise_tasks(items: Sequence[ItemRecord]) -> dict[str, Any]:
    """The evaluation's analytics from its terminal items (see the module doc)."""
    records = ordered(items)
    timings = [i.outcome.data.get("timings", {}) for i in records if i.outcome is not None]
    cleanups = [i.outcome.data.get("cleanup", {}) for i in records if i.outcome is not None]
    return {
        "counts": count_items(records),
        "overall": _rate(records),
        "by_capability": _by(records, "capability"),
        "by_difficulty": _by(records, "difficulty"),
        "durations_s": {
            phase: _spread([t[f"{phase}_s"] for t in timings if f"{phase}_s" in t])
            for phase in PHASES
        },
        "infra_errors": sum(1 for i in records if i.state == ItemState.INFRA_ERROR),
        "cleanup_failures": sum(1 for c in cleanups if c.get("failed")),
        "usage": usage_summary(records),
        "tasks": [
            {
                "task": i.input.get("task", {}).get("name"),
                "state": i.state,
                "reason": (i.outcome.scores[0].reason if i.outcome and i.outcome.scores else None)
                or (i.error.message if i.error else None),
            }
            for i in records
        ],
    }
