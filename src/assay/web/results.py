"""What an evaluation's page shows, computed from its items' stored outcomes for every kind.

The page does not read kind-specific summaries: every kind stores scores, metrics and a data
record per item (``core/outcome.py``), so the pass rates, score means, their intervals and
the charts come from those the same way for a harness, an eval run or a scenario run, and a
new kind shows up with no change here. Intervals are 95%: Wilson for pass rates, Student-t
for means (``scoring/stats.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from assay.core.evaluation import ItemDetail
from assay.core.outcome import Score
from assay.core.states import ItemState
from assay.scoring import stats

#: Item data (or input) keys that group items for a pass-rate chart, in order of preference.
GROUP_KEYS = ("dimension", "category", "capability", "scenario", "persona", "probe_id")
#: States whose items did not pass; they fill the failures table.
FAILED_STATES = (
    ItemState.FAILED,
    ItemState.ERRORED,
    ItemState.TIMED_OUT,
    ItemState.INFRA_ERROR,
)
_EVIDENCE_KEYS = ("reason", "prompt", "response", "output", "input")


@dataclass(frozen=True)
class Estimate:
    """A score or a pass rate with its 95% interval (None when n is too small) and n."""

    label: str
    value: float
    lower: float | None
    upper: float | None
    n: int
    #: The largest value the scale allows (1.0 for rates), for drawing.
    top: float
    is_rate: bool


@dataclass(frozen=True)
class Bin:
    lower: float
    upper: float
    count: int


@dataclass(frozen=True)
class Failure:
    item_id: str
    seq: int
    state: str
    evidence: list[tuple[str, str]]


@dataclass(frozen=True)
class Costs:
    input_tokens: int
    output_tokens: int
    cost_usd: float
    mean_latency_ms: float | None


def pass_rate(label: str, passed: int, n: int) -> Estimate:
    interval = stats.wilson_ci95(passed, n)
    return Estimate(
        label=label,
        value=passed / n if n else 0.0,
        lower=interval.lower if interval else None,
        upper=interval.upper if interval else None,
        n=n,
        top=1.0,
        is_rate=True,
    )


def mean_score(label: str, values: Sequence[float], scale: str) -> Estimate:
    interval = stats.mean_ci95(values)
    return Estimate(
        label=label,
        value=stats.mean(values),
        lower=interval.lower if interval else None,
        upper=interval.upper if interval else None,
        n=len(values),
        top=_scale_top(scale, values),
        is_rate=False,
    )


def _scale_top(scale: str, values: Sequence[float]) -> float:
    """The upper end of a scale such as ``1-10`` or ``0-1``; else the largest value seen."""
    _, _, upper = scale.partition("-")
    try:
        return float(upper)
    except ValueError:
        return max([*values, 1e-9])


def _decided(items: Sequence[ItemDetail]) -> list[bool]:
    return [i.outcome.passed for i in items if i.outcome and i.outcome.passed is not None]


def score_estimates(items: Sequence[ItemDetail]) -> list[Estimate]:
    """The overall pass rate, then each score name's pass rate (binary) or mean."""
    decided = _decided(items)
    estimates = [pass_rate("pass rate", sum(decided), len(decided))] if decided else []
    by_name: dict[str, list[Score]] = {}
    for item in items:
        for score in item.outcome.scores if item.outcome else []:
            by_name.setdefault(score.name, []).append(score)
    for name, scores in by_name.items():
        if all(s.scale == "binary" and s.passed is not None for s in scores):
            estimates.append(pass_rate(name, sum(bool(s.passed) for s in scores), len(scores)))
            continue
        values = [s.value for s in scores if s.value is not None]
        if values:
            estimates.append(mean_score(name, values, scores[0].scale))
    return estimates


def _group_value(item: ItemDetail, key: str) -> str | None:
    data = item.outcome.data if item.outcome else {}
    value = data.get(key, item.input.get(key))
    return None if value is None or isinstance(value, dict | list) else str(value)


def group_pass_rates(items: Sequence[ItemDetail]) -> tuple[str, list[Estimate]] | None:
    """Pass rates per value of the first grouping key that splits the items in two or more."""
    scored = [i for i in items if i.outcome and i.outcome.passed is not None]
    for key in GROUP_KEYS:
        groups: dict[str, list[bool]] = {}
        for item in scored:
            value = _group_value(item, key)
            if value is not None:
                groups.setdefault(value, []).append(bool(item.outcome and item.outcome.passed))
        if len(groups) >= 2:
            return key, [pass_rate(v, sum(p), len(p)) for v, p in sorted(groups.items())]
    return None


def histogram(values: Sequence[float], bins: int = 10) -> list[Bin]:
    """Equal-width bins over the observed range (one bin when every value is the same)."""
    if not values:
        return []
    low, high = min(values), max(values)
    if math.isclose(low, high):
        return [Bin(low, high, len(values))]
    width = (high - low) / bins
    counts = [0] * bins
    for value in values:
        counts[min(int((value - low) / width), bins - 1)] += 1
    return [Bin(low + i * width, low + (i + 1) * width, c) for i, c in enumerate(counts)]


def score_values(items: Sequence[ItemDetail]) -> tuple[str, list[float]] | None:
    """The values of the first non-binary score, for a histogram."""
    for item in items:
        for score in item.outcome.scores if item.outcome else []:
            if score.scale != "binary" and score.value is not None:
                name = score.name
                return name, [
                    s.value
                    for i in items
                    for s in (i.outcome.scores if i.outcome else [])
                    if s.name == name and s.value is not None
                ]
    return None


def latencies(items: Sequence[ItemDetail]) -> list[float]:
    return [i.outcome.metrics.latency_ms for i in items if i.outcome]


def costs(items: Sequence[ItemDetail]) -> Costs:
    metrics = [i.outcome.metrics for i in items if i.outcome]
    latency = [m.latency_ms for m in metrics]
    return Costs(
        input_tokens=sum(m.input_tokens for m in metrics),
        output_tokens=sum(m.output_tokens for m in metrics),
        cost_usd=sum(m.cost_usd for m in metrics),
        mean_latency_ms=stats.mean(latency) if latency else None,
    )


def _short(value: object, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failures(items: Sequence[ItemDetail]) -> list[Failure]:
    """Items that did not pass, each with the evidence of why.

    The evidence is the error, the reasons of the scores that failed, and the prompt and
    response of the kind's own record.
    """
    rows = []
    for item in items:
        if item.state not in FAILED_STATES:
            continue
        evidence: list[tuple[str, str]] = []
        if item.error:
            evidence.append(("error", _short(item.error.get("message", item.error))))
        outcome = item.outcome
        for score in outcome.scores if outcome else []:
            if score.passed is False and score.reason:
                evidence.append((score.name, _short(score.reason)))
        data = outcome.data if outcome else {}
        for key in _EVIDENCE_KEYS:
            if key in data and data[key] not in (None, "") and key != "reason":
                evidence.append((key, _short(data[key])))
        rows.append(Failure(item.id, item.seq, item.state.value, evidence))
    return rows
