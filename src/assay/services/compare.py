"""Compare two evaluations of one kind item by item: the one service behind every compare.

``assay compare``, ``GET /v1/evaluations/{a}/compare/{b}``, the web UI's compare page and a
trust evaluation's baseline all call :func:`compare_evaluations`, so they cannot disagree.

Pairing: each item is recognised by the identity its kind gives it (``Kind.item_keys``: a
probe's id, a case's input, a task's name, a scenario and persona); repetitions of one key
are paired in ``seq`` order. An item is paired only when both sides were scored (passed,
failed, errored or timed out: the agent's failures count as failed); the others are listed
as unpaired with the reason, never silently dropped.

What is compared, per group and overall:

- pass/fail with McNemar's exact test, when the paired items have a pass/fail outcome;
- the kind's first non-binary score (a 1-10 judge score, a run time) with a seeded paired
  bootstrap, when both items of a pair have it. Scores whose scale is a cost (seconds,
  milliseconds, MiB, counts) are better lower; their verdict reads the other way.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

from assay.core.comparison import (
    Comparison,
    EvaluationRef,
    GroupComparison,
    ItemPair,
    PassFailComparison,
    ScoreComparison,
    UnpairedItem,
    Verdict,
)
from assay.core.errors import EvaluationNotFound, ValidationFailed
from assay.core.evaluation import EvaluationView, ItemDetail
from assay.core.principal import Principal
from assay.core.states import SCORED_ITEM_STATES, ItemState
from assay.kinds._registry import get_kind
from assay.scoring import paired, stats
from assay.services.container import Container
from assay.services.evaluations import get_evaluation
from assay.services.items import item_results

#: The most items read from each evaluation (the largest catalogue has far fewer probes).
MAX_ITEMS = 100_000
#: Score scales where less is better.
COST_SCALES = frozenset({"s", "ms", "MiB", "bytes", "count", "usd"})


class _Measured(NamedTuple):
    """One item as the comparison sees it."""

    item: ItemDetail
    group: str | None
    passed: bool | None
    score: tuple[str, str, float] | None


class _Pair(NamedTuple):
    key: str
    baseline: _Measured
    candidate: _Measured


async def compare_evaluations(
    container: Container, principal: Principal, baseline_id: str, candidate_id: str
) -> Comparison:
    """The paired comparison of ``candidate_id`` against ``baseline_id``.

    Raises:
        EvaluationNotFound: either evaluation is not one the caller may read.
        ValidationFailed: they are of different kinds (loc ``candidate``).
    """
    baseline = await get_evaluation(container, principal, baseline_id)
    candidate = await get_evaluation(container, principal, candidate_id)
    if baseline.kind != candidate.kind:
        raise ValidationFailed.for_field(
            ("candidate",),
            f"is a {candidate.kind} evaluation and {baseline_id!r} a {baseline.kind} one; "
            "compare evaluations of the same kind",
        )
    items = [
        await item_results(container, principal, view.id, limit=MAX_ITEMS)
        for view in (baseline, candidate)
    ]
    # Off the server's loop: a comparison of many items is seconds of arithmetic.
    return await asyncio.to_thread(_compare, baseline, candidate, *items)


def _compare(
    baseline: EvaluationView,
    candidate: EvaluationView,
    baseline_items: Sequence[ItemDetail],
    candidate_items: Sequence[ItemDetail],
) -> Comparison:
    pairs, unpaired = _pair(
        _measure(baseline, baseline_items), _measure(candidate, candidate_items)
    )
    groups = sorted({pair.baseline.group for pair in pairs if pair.baseline.group is not None})
    return Comparison(
        kind=baseline.kind,
        baseline=_ref(baseline),
        candidate=_ref(candidate),
        overall=compare_group(None, pairs),
        groups=[
            compare_group(group, [p for p in pairs if p.baseline.group == group])
            for group in groups
        ],
        pairs=[_item_pair(pair) for pair in pairs],
        unpaired=unpaired,
    )


def _ref(view: EvaluationView) -> EvaluationRef:
    return EvaluationRef(
        id=view.id,
        name=view.name,
        kind=view.kind,
        status=view.status.value,
        target=view.spec.target.name or view.agent_id,
        created_at=view.created_at,
    )


def _measure(view: EvaluationView, items: Sequence[ItemDetail]) -> dict[str, _Measured]:
    """Each compared item by key (numbered ``#2``, ``#3`` for repetitions)."""
    keys = get_kind(view.kind).item_keys(view.spec, [item.input for item in items])
    seen: dict[str, int] = defaultdict(int)
    measured: dict[str, _Measured] = {}
    for item, item_key in zip(items, keys, strict=True):
        if item_key is None:
            continue
        seen[item_key.key] += 1
        key = item_key.key if seen[item_key.key] == 1 else f"{item_key.key} #{seen[item_key.key]}"
        measured[key] = _Measured(item, item_key.group, _passed(item), _score(item))
    return measured


def _scored(value: _Measured | None) -> bool:
    return value is not None and value.item.state in SCORED_ITEM_STATES


def _passed(item: ItemDetail) -> bool | None:
    if item.state in (ItemState.ERRORED, ItemState.TIMED_OUT):
        return False
    return item.outcome.passed if item.outcome is not None else None


def _score(item: ItemDetail) -> tuple[str, str, float] | None:
    """The first non-binary score with a value: (name, scale, value)."""
    for score in item.outcome.scores if item.outcome is not None else []:
        if score.scale != "binary" and score.value is not None:
            return score.name, score.scale, score.value
    return None


def _pair(
    baseline: dict[str, _Measured], candidate: dict[str, _Measured]
) -> tuple[list[_Pair], list[UnpairedItem]]:
    """Pairs of items scored on both sides; every other item is listed with the reason."""
    pairs: list[_Pair] = []
    unpaired: list[UnpairedItem] = []
    for key in [*baseline, *(k for k in candidate if k not in baseline)]:
        first, second = baseline.get(key), candidate.get(key)
        if first is not None and second is not None and _scored(first) and _scored(second):
            pairs.append(_Pair(key, first, second))
            continue
        if first is not None:
            unpaired.append(_unpaired(key, "baseline", first, second))
        if second is not None:
            unpaired.append(_unpaired(key, "candidate", second, first))
    return pairs, unpaired


def _unpaired(
    key: str,
    side: Literal["baseline", "candidate"],
    value: _Measured,
    other_value: _Measured | None,
) -> UnpairedItem:
    other = "candidate" if side == "baseline" else "baseline"
    if not _scored(value):
        reason = f"{value.item.state.value} in the {side}"
    elif other_value is None:
        reason = f"not in the {other}"
    else:
        reason = f"{other_value.item.state.value} in the {other}"
    return UnpairedItem(key=key, group=value.group, side=side, item=value.item.id, reason=reason)


def compare_group(group: str | None, pairs: Sequence[_Pair]) -> GroupComparison:
    """The tests over ``pairs``, with the verdict rule of :class:`GroupComparison`."""
    pass_fail = _pass_fail(pairs)
    score = _score_comparison(pairs)
    verdict: Verdict
    if pass_fail is not None and pass_fail.verdict is not Verdict.NO_SIGNIFICANT_DIFFERENCE:
        verdict = pass_fail.verdict
    elif score is not None:
        verdict = score.verdict
    else:
        verdict = Verdict.NO_SIGNIFICANT_DIFFERENCE
    return GroupComparison(
        group=group, pairs=len(pairs), pass_fail=pass_fail, score=score, verdict=verdict
    )


def _pass_fail(pairs: Sequence[_Pair]) -> PassFailComparison | None:
    outcomes = [
        (p.baseline.passed, p.candidate.passed)
        for p in pairs
        if p.baseline.passed is not None and p.candidate.passed is not None
    ]
    if not outcomes:
        return None
    test = paired.mcnemar([(bool(a), bool(b)) for a, b in outcomes])
    n = len(outcomes)
    return PassFailComparison(
        n=n,
        baseline_pass_rate=sum(1 for a, _ in outcomes if a) / n,
        candidate_pass_rate=sum(1 for _, b in outcomes if b) / n,
        difference=test.difference,
        ci95=(test.ci95.lower, test.ci95.upper),
        baseline_only=test.baseline_only,
        candidate_only=test.candidate_only,
        p_value=test.p_value,
        verdict=test.verdict,
    )


def _score_comparison(pairs: Sequence[_Pair]) -> ScoreComparison | None:
    scored = [
        (p.baseline.score, p.candidate.score)
        for p in pairs
        if p.baseline.score is not None and p.candidate.score is not None
    ]
    if not scored:
        return None
    name, scale, _ = scored[0][0]
    values = [(a[2], b[2]) for a, b in scored if a[0] == name and b[0] == name]
    if not values:
        return None
    test = paired.paired_bootstrap(values)
    higher_is_better = scale not in COST_SCALES
    verdict = test.verdict
    if not higher_is_better and verdict is not Verdict.NO_SIGNIFICANT_DIFFERENCE:
        verdict = Verdict.WORSE if verdict is Verdict.BETTER else Verdict.BETTER
    return ScoreComparison(
        name=name,
        scale=scale,
        higher_is_better=higher_is_better,
        n=len(values),
        baseline_mean=stats.mean([a for a, _ in values]),
        candidate_mean=stats.mean([b for _, b in values]),
        difference=test.difference,
        ci95=(test.ci95.lower, test.ci95.upper),
        verdict=verdict,
    )


def _item_pair(pair: _Pair) -> ItemPair:
    a, b = pair.baseline.passed, pair.candidate.passed
    change = "fixed" if b and a is False else "broken" if a and b is False else "same"
    return ItemPair(
        key=pair.key,
        group=pair.baseline.group,
        baseline_item=pair.baseline.item.id,
        candidate_item=pair.candidate.item.id,
        baseline_passed=a,
        candidate_passed=b,
        baseline_score=pair.baseline.score[2] if pair.baseline.score else None,
        candidate_score=pair.candidate.score[2] if pair.candidate.score else None,
        change=change,
    )


#: Where a trust evaluation keeps the id of the evaluation it is compared with.
BASELINE_LABEL = "baseline_evaluation_id"


async def check_baseline(
    container: Container, principal: Principal, baseline_id: str, kind: str, field: str
) -> None:
    """Raise ValidationFailed naming ``field`` unless ``baseline_id`` is the caller's ``kind``."""
    try:
        baseline = await get_evaluation(container, principal, baseline_id)
    except EvaluationNotFound:
        raise ValidationFailed.for_field((field,), f"no evaluation {baseline_id!r}") from None
    if baseline.kind != kind:
        raise ValidationFailed.for_field(
            (field,), f"{baseline_id!r} is a {baseline.kind} evaluation, not a {kind} one"
        )


async def baseline_results(
    container: Container, principal: Principal, evaluation: EvaluationView
) -> dict[str, Any] | None:
    """How ``evaluation`` compares with its baseline, per group; None when it names none.

    Computed when asked, so it reflects the baseline as it is now; a baseline deleted since
    gives an ``error`` instead of numbers.
    """
    baseline_id = evaluation.labels.get(BASELINE_LABEL)
    if not baseline_id:
        return None
    try:
        comparison = await compare_evaluations(container, principal, baseline_id, evaluation.id)
    except EvaluationNotFound:
        return {"evaluation_id": baseline_id, "error": "the baseline evaluation no longer exists"}
    return baseline_summary(comparison)


def baseline_summary(comparison: Comparison) -> dict[str, Any]:
    """The comparison as a trust result's ``baseline`` block: overall and per dimension."""
    return {
        "evaluation_id": comparison.baseline.id,
        "overall": _baseline_block(comparison.overall),
        "dimensions": {g.group: _baseline_block(g) for g in comparison.groups if g.group},
        "unpaired": len(comparison.unpaired),
    }


def _baseline_block(group: GroupComparison) -> dict[str, Any]:
    """A group's pass-rate difference with its interval, p-value and verdict."""
    test = group.pass_fail
    if test is None:
        return {"n": group.pairs, "verdict": group.verdict.value}
    return {
        "n": test.n,
        "baseline_pass_rate": test.baseline_pass_rate,
        "pass_rate": test.candidate_pass_rate,
        "difference": test.difference,
        "ci95": list(test.ci95),
        "p_value": test.p_value,
        "verdict": group.verdict.value,
    }
