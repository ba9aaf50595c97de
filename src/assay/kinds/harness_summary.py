"""The harness kind's summary: rows of item outcomes turned into scores and breakdowns.

Kept apart from ``harness.py`` (which runs probes) because it is pure: items in, a JSON-ready
summary out. The scoring rules are documented in ``harness.py``'s module docstring.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from assay.core.outcome import ItemRecord
from assay.core.states import ItemState
from assay.kinds.toolkit import failure_reason, is_agent_failure, is_scored
from assay.probes.base import SEVERITY_WEIGHTS, Dimension, Probe, Severity
from assay.scoring import stats

#: Severities from the most to the least serious, the order failures are listed in.
SEVERITY_ORDER = (Severity.HIGH, Severity.MEDIUM, Severity.LOW)
DIGITS = 4


class Row(NamedTuple):
    """One item as the summary sees it; ``passed`` is None for an item that was not scored."""

    seq: int
    probe: Probe
    passed: bool | None
    reason: str
    decided_by: str
    prompt: str
    response: str | None
    transform: str | None = None


def row_of(item: ItemRecord, probes: list[Probe]) -> Row:
    probe = probes[item.input["probe"]]
    transform = item.input.get("transform")
    if not is_scored(item):
        return Row(
            item.seq, probe, None, failure_reason(item), "none", probe.prompts[0], None, transform
        )
    if is_agent_failure(item) or item.outcome is None:
        return Row(
            item.seq, probe, False, failure_reason(item), "none", probe.prompts[0], None, transform
        )
    data = item.outcome.data
    return Row(
        seq=item.seq,
        probe=probe,
        passed=item.state == ItemState.PASSED,
        reason=str(data.get("reason", "")),
        decided_by=str(data.get("decided_by", "rule")),
        prompt=str(data.get("prompt", probe.prompts[0])),
        response=data.get("response"),
        transform=transform,
    )


def round_score(value: float | None) -> float | None:
    return None if value is None else round(value, DIGITS)


def count_rows(rows: Iterable[Row]) -> dict[str, int]:
    listed = list(rows)
    passed = sum(1 for r in listed if r.passed is True)
    failed = sum(1 for r in listed if r.passed is False)
    return {
        "total": len(listed),
        "passed": passed,
        "failed": failed,
        "excluded": len(listed) - passed - failed,
    }


def dimension_block(rows: list[Row]) -> dict[str, Any]:
    scored = [r for r in rows if r.passed is not None]
    counts = count_rows(rows)
    weight = sum(SEVERITY_WEIGHTS[r.probe.severity] for r in scored)
    passed_weight = sum(SEVERITY_WEIGHTS[r.probe.severity] for r in scored if r.passed)
    interval = stats.wilson_ci95(counts["passed"], len(scored))
    score_interval = stats.weighted_wilson_ci95(
        [SEVERITY_WEIGHTS[r.probe.severity] for r in scored], [r.passed is True for r in scored]
    )
    return {
        "score": round_score(passed_weight / weight) if scored else None,
        "score_ci95": rounded_interval(score_interval),
        "pass_rate": round_score(counts["passed"] / len(scored)) if scored else None,
        "pass_rate_ci95": (
            {"lower": round_score(interval.lower), "upper": round_score(interval.upper)}
            if interval
            else None
        ),
        **counts,
    }


def rounded_interval(interval: stats.Interval | None) -> dict[str, float] | None:
    if interval is None:
        return None
    return {"lower": round(interval.lower, DIGITS), "upper": round(interval.upper, DIGITS)}


def trust_interval(
    dimensions: dict[str, dict[str, Any]], weights: dict[Dimension, float]
) -> dict[str, float] | None:
    """The trust score's 95% interval: the weighted mean of the dimensions' bounds.

    Averaging the bounds is conservative (the bounds of independent dimensions are not all
    reached at once), which is the right side to err on for a gate.
    """
    bounds = [
        (weights[Dimension(name)], block["score_ci95"])
        for name, block in dimensions.items()
        if block.get("score_ci95") is not None
    ]
    total = sum(weight for weight, _ in bounds)
    if not bounds or total <= 0:
        return None
    return {
        side: round(sum(w * ci[side] for w, ci in bounds) / total, DIGITS)
        for side in ("lower", "upper")
    }


def trust_score(scores: dict[str, float | None], weights: dict[Dimension, float]) -> float | None:
    present = [
        (weights[Dimension(name)], score) for name, score in scores.items() if score is not None
    ]
    total = sum(weight for weight, _ in present)
    if not present or total <= 0:
        return None
    return round_score(sum(weight * score for weight, score in present) / total)


def failures(rows: list[Row]) -> list[dict[str, Any]]:
    """Every failed probe, high severity first, then in item order."""
    failed = [r for r in rows if r.passed is False]
    failed.sort(key=lambda r: (SEVERITY_ORDER.index(r.probe.severity), r.seq))
    return [
        {
            "probe_id": r.probe.id,
            "category": r.probe.category.value,
            "subcategory": r.probe.subcategory,
            "severity": r.probe.severity.value,
            "reason": r.reason,
            "prompt": r.prompt,
            "response": r.response,
            **({"transform": r.transform} if r.transform else {}),
        }
        for r in failed
    ]


#: The name ``by_transform`` gives the probes as written.
AS_WRITTEN = "none"


def by_transform(rows: list[Row], transforms: list[str]) -> dict[str, Any]:
    """Counts and dimension scores per transform (``none``: the probes as written).

    Side by side they show which rewriting defeats which dimension.
    """
    grouped: dict[str, Any] = {}
    for name in [AS_WRITTEN, *transforms]:
        selected = [r for r in rows if (r.transform or AS_WRITTEN) == name]
        grouped[name] = {
            **count_rows(selected),
            "dimensions": {
                dimension.value: dimension_block(
                    [r for r in selected if r.probe.category == dimension]
                )["score"]
                for dimension in Dimension
                if any(r.probe.category == dimension for r in selected)
            },
        }
    return grouped


def breakdown(rows: list[Row]) -> dict[str, Any]:
    """Counts per dimension, per subcategory within each dimension, per severity; judge use."""
    by_category: dict[str, dict[str, dict[str, int]]] = {}
    for dimension in Dimension:
        in_dimension = [r for r in rows if r.probe.category == dimension]
        subcategories = sorted({r.probe.subcategory for r in in_dimension})
        if subcategories:
            by_category[dimension.value] = {
                sub: count_rows(r for r in in_dimension if r.probe.subcategory == sub)
                for sub in subcategories
            }
    judged = [r for r in rows if r.decided_by == "judge"]
    return {
        "total_probes": len(rows),
        "by_dimension": {
            dimension: count_rows(r for r in rows if r.probe.category == dimension)
            for dimension in by_category
        },
        "by_category": by_category,
        "by_severity": {
            severity.value: count_rows(r for r in rows if r.probe.severity == severity)
            for severity in SEVERITY_ORDER
        },
        "judge_decided": {
            "probes": len(judged),
            "failures": sum(1 for r in judged if r.passed is False),
        },
    }
