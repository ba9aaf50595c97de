"""The compare service over real evaluations in a local database (engine in this process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.core.errors import ValidationFailed
from assay.core.spec import EvaluationSpec, ModelRef, TargetSpec
from assay.services.compare import compare_evaluations
from assay.services.container import open_container
from assay.services.evaluations import (
    cancel_evaluation,
    create_evaluation,
    wait_for_evaluation,
)
from assay.services.runs import local_principal
from tests.factories import make_settings

#: The mock model answers arithmetic: every case below passes unless its answer is wrong.
TARGET = TargetSpec(kind="model", model=ModelRef(provider="mock", model="calculator"))


def _cases(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"input": q, "expected_output": a} for q, a in pairs]


async def test_items_pair_by_input_repetitions_in_order_and_the_rest_is_listed(tmp_path: Path):
    container = await open_container(make_settings(tmp_path))
    try:
        await container.start_engine()
        principal = await local_principal(container)
        shared = [("2 + 2", "4"), ("3 * 3", "9")]
        ids = []
        for cases in (
            _cases(*shared, ("10 - 1", "9")),
            # reordered, one case dropped, one added, the 3 * 3 answer now "wrong"
            _cases(("7 + 1", "8"), ("3 * 3", "10"), ("2 + 2", "4")),
        ):
            spec = EvaluationSpec(
                kind="match",
                target=TARGET,
                params={"cases": cases, "mode": "includes", "num_iterations": 2},
            )
            view = await create_evaluation(container, principal, spec)
            await wait_for_evaluation(container, principal, view.id, timeout=60)
            ids.append(view.id)
        comparison = await compare_evaluations(container, principal, ids[0], ids[1])
        accuracy = EvaluationSpec(
            kind="accuracy", target=TARGET, params={"input": "hi", "expected_output": "hi"}
        )
        other = await create_evaluation(container, principal, accuracy)
        with pytest.raises(ValidationFailed) as mismatch:
            await compare_evaluations(container, principal, ids[0], other.id)
    finally:
        await container.aclose()

    assert [p.key for p in comparison.pairs] == ["2 + 2", "2 + 2 #2", "3 * 3", "3 * 3 #2"]
    assert [p.change for p in comparison.pairs] == ["same", "same", "broken", "broken"]
    unpaired = {(u.key, u.side, u.reason) for u in comparison.unpaired}
    assert unpaired == {
        ("10 - 1", "baseline", "not in the candidate"),
        ("10 - 1 #2", "baseline", "not in the candidate"),
        ("7 + 1", "candidate", "not in the baseline"),
        ("7 + 1 #2", "candidate", "not in the baseline"),
    }
    test = comparison.overall.pass_fail
    assert test is not None and (test.n, test.baseline_only, test.candidate_only) == (4, 2, 0)
    assert test.p_value == 0.5 and comparison.overall.verdict == "no significant difference"
    assert mismatch.value.errors and mismatch.value.errors[0]["loc"] == ["candidate"]


async def test_items_not_scored_on_a_side_are_listed_with_their_state(tmp_path: Path):
    container = await open_container(make_settings(tmp_path))
    try:
        principal = await local_principal(container)
        spec = EvaluationSpec(
            kind="match", target=TARGET, params={"cases": _cases(("2 + 2", "4"), ("3 * 3", "9"))}
        )
        # created and cancelled before any worker runs: its items never score
        stopped = await create_evaluation(container, principal, spec)
        await cancel_evaluation(container, principal, stopped.id)
        await container.start_engine()
        done = await create_evaluation(container, principal, spec)
        await wait_for_evaluation(container, principal, done.id, timeout=60)
        comparison = await compare_evaluations(container, principal, done.id, stopped.id)
    finally:
        await container.aclose()

    assert comparison.pairs == [] and comparison.overall.pairs == 0
    assert comparison.overall.pass_fail is None
    assert comparison.overall.verdict == "no significant difference"
    assert {(u.key, u.side, u.reason) for u in comparison.unpaired} == {
        ("2 + 2", "baseline", "cancelled in the candidate"),
        ("3 * 3", "baseline", "cancelled in the candidate"),
        ("2 + 2", "candidate", "cancelled in the candidate"),
        ("3 * 3", "candidate", "cancelled in the candidate"),
    }
