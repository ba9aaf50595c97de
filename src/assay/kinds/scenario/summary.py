"""The ``scenario`` summary: verdict counts, the agent's pass rate, the coverage matrix.

Counting rules:

- ``infra_error`` and ``cancelled`` runs say nothing about the agent: they are ``excluded``
  (and appear in ``counts``, the usual block by item state).
- Runs that errored or timed out as a whole (no outcome) are the agent's failures: verdict
  ``failed``, termination ``item_error``.
- The agent's pass rate is ``passed / (passed + failed)`` on 0-1, with its Wilson 95%
  interval; ``inconclusive`` and ``simulator_error`` runs are left out of it. Rates are
  rounded to 4 decimals and are None when nothing was judged.

Tallies (the matrix's cells, rows and columns) all have the keys ``runs, passed, failed,
inconclusive, simulator_error, excluded, pass_rate, pass_rate_ci95``; cells add
``verdicts``: ``[{"run": i, "verdict": ...}]`` (``verdict`` None for an excluded run).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from assay.core.outcome import ItemRecord
from assay.kinds.scenario.params import ScenarioParams
from assay.kinds.toolkit import count_items, is_agent_failure, is_scored, ordered, usage_summary
from assay.scoring import stats

#: Verdicts of a run; only ``passed`` and ``failed`` count towards the agent's pass rate.
VERDICTS = ("passed", "failed", "inconclusive", "simulator_error")
#: Why conversations ended; ``item_error`` is a run that errored or timed out as a whole.
TERMINATIONS = ("user_done", "gave_up", "max_messages", "agent_error", "item_error")
DIGITS = 4


class _Run(NamedTuple):
    """One item as the summary sees it; ``verdict`` is None for an excluded run."""

    run: int
    scenario_id: str
    persona_id: str
    verdict: str | None
    termination: str | None
    turns: int | None
    data: dict[str, Any]


def summarise_runs(params: ScenarioParams, items: Sequence[ItemRecord]) -> dict[str, Any]:
    """The evaluation's summary from its (terminal) items; see the module doc for the rules."""
    runs = [_run(item, params) for item in ordered(items)]
    counted = [r for r in runs if r.verdict is not None]
    turns = [r.turns for r in counted if r.turns is not None]
    overall = _tally(runs)
    return {
        "runs": overall["runs"],
        "verdicts": {name: overall[name] for name in VERDICTS},
        "excluded": overall["excluded"],
        "pass_rate": overall["pass_rate"],
        "pass_rate_ci95": overall["pass_rate_ci95"],
        "simulator_error_rate": (
            _round(sum(r.verdict == "simulator_error" for r in counted) / len(counted))
            if counted
            else None
        ),
        "mean_turns": _round(stats.mean([float(t) for t in turns])) if turns else None,
        "terminations": {
            name: sum(1 for r in counted if r.termination == name) for name in TERMINATIONS
        },
        "matrix": _matrix(params, runs),
        "simulator_errors": [
            {
                "run": r.run,
                "scenario_id": r.scenario_id,
                "persona_id": r.persona_id,
                "reasoning": r.data.get("audit", {}).get("reasoning"),
                "issues": r.data.get("audit", {}).get("issues", []),
            }
            for r in counted
            if r.verdict == "simulator_error"
        ],
        "usage": {**usage_summary(items), "by_role": _usage_by_role(counted)},
        "counts": count_items(items),
    }


def _run(item: ItemRecord, params: ScenarioParams) -> _Run:
    index = int(item.input["run"])
    pair = params.runs[index]
    if not is_scored(item):
        return _Run(index, pair.scenario_id, pair.persona_id, None, None, None, {})
    if is_agent_failure(item) or item.outcome is None:
        return _Run(index, pair.scenario_id, pair.persona_id, "failed", "item_error", None, {})
    data = item.outcome.data
    return _Run(
        run=index,
        scenario_id=pair.scenario_id,
        persona_id=pair.persona_id,
        verdict=str(data.get("verdict")),
        termination=data.get("termination"),
        turns=data.get("turn_count"),
        data=data,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, DIGITS)


def _tally(runs: Sequence[_Run]) -> dict[str, Any]:
    """Verdict counts and the agent's pass rate, passed / (passed + failed), on 0-1."""
    verdicts = {name: sum(1 for r in runs if r.verdict == name) for name in VERDICTS}
    judged = verdicts["passed"] + verdicts["failed"]
    interval = stats.wilson_ci95(verdicts["passed"], judged)
    return {
        "runs": len(runs),
        **verdicts,
        "excluded": sum(1 for r in runs if r.verdict is None),
        "pass_rate": _round(verdicts["passed"] / judged) if judged else None,
        "pass_rate_ci95": (
            {"lower": _round(interval.lower), "upper": _round(interval.upper)} if interval else None
        ),
    }


def _matrix(params: ScenarioParams, runs: Sequence[_Run]) -> dict[str, Any]:
    """Rows are scenarios, columns personas; each cell, row and column with its pass rate."""
    cells = {
        s.id: {
            p.id: {
                **_tally(
                    inside := [r for r in runs if (r.scenario_id, r.persona_id) == (s.id, p.id)]
                ),
                "verdicts": [{"run": r.run, "verdict": r.verdict} for r in inside],
            }
            for p in params.personas
        }
        for s in params.scenarios
    }
    pairs = [c for row in cells.values() for c in row.values()]
    return {
        "scenarios": [{"id": s.id, "name": s.name} for s in params.scenarios],
        "personas": [{"id": p.id, "name": p.name} for p in params.personas],
        "cells": cells,
        "rows": {
            s.id: _tally([r for r in runs if r.scenario_id == s.id]) for s in params.scenarios
        },
        "columns": {
            p.id: _tally([r for r in runs if r.persona_id == p.id]) for p in params.personas
        },
        "coverage": {"pairs": len(pairs), "covered": sum(1 for c in pairs if c["runs"])},
    }


def _usage_by_role(runs: Sequence[_Run]) -> dict[str, dict[str, float]]:
    """Tokens and cost of the agent, the simulator, the judge and the audit, over all runs."""
    totals: dict[str, dict[str, float]] = {}
    for run in runs:
        for role, usage in run.data.get("usage", {}).items():
            if role == "total":
                continue
            into = totals.setdefault(role, {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0})
            for key in into:
                into[key] += usage.get(key, 0)
    return totals
