"""Gates that respect noise: what each kind compares its threshold with."""

from __future__ import annotations

from assay.core.outcome import ItemRecord
from assay.core.verdict import Thresholds
from assay.kinds._registry import get_kind
from assay.kinds.repeats import pass_k_block
from assay.kinds.toolkit import wilson_percent
from assay.scoring import stats


def runs(*cases: str) -> list[ItemRecord]:
    """Items from strings of outcomes per case: ``"ppf"`` is passed, passed, failed."""
    return [
        ItemRecord(seq=n * 10 + i, state=state, input={"case": n, "iteration": i + 1})
        for n, outcomes in enumerate(cases)
        for i, state in enumerate(
            {"p": "passed", "f": "failed", "x": "infra_error"}[c] for c in outcomes
        )
    ]


def test_pass_k_counts_cases_whose_every_run_passed_and_leaves_out_unscored_ones():
    block = pass_k_block(runs("ppp", "ppf", "ppx", "fff"))
    assert block == {
        "k": 3,
        "cases": 3,
        "passed_cases": 1,
        "excluded_cases": 1,
        "rate": 1 / 3 * 100,
        "ci95": wilson_percent(1, 3),
    }
    assert pass_k_block([])["rate"] is None


def summary(passed: int, scored: int, k_block: dict[str, object]) -> dict[str, object]:
    return {
        "pass_rate": passed / scored * 100,
        "pass_rate_ci95": wilson_percent(passed, scored),
        "pass_k": k_block,
        "counts": {"scored": scored},
    }


def test_match_verdict_under_each_gate():
    match = get_kind("match")
    data = summary(5, 6, pass_k_block(runs("ppp", "ppf")))
    point = match.verdict(data, Thresholds(min_pass_rate=80))
    assert point.passed and point.needs == "pass rate >= 80%"
    by_k = match.verdict(data, Thresholds(min_pass_rate=80, gate="pass^k"))
    assert not by_k.passed and by_k.needs == "pass^3 >= 80%"
    assert by_k.result.startswith("pass^3 50% (1/2 cases), pass@1 83%")
    bound = match.verdict(data, Thresholds(min_pass_rate=80, gate="lower-bound"))
    assert not bound.passed and bound.result.endswith("; lower bound 44%")
    assert match.verdict(data, Thresholds(min_pass_rate=40, gate="lower-bound")).passed


def test_accuracy_lower_bound_uses_the_mean_interval():
    accuracy = get_kind("accuracy")
    data = {
        "avg_score": 8.0,
        "confidence_interval_95": {"lower": 6.5, "upper": 9.5},
        "counts": {"scored": 3},
    }
    assert accuracy.verdict(data, Thresholds(min_score=7)).passed
    bound = accuracy.verdict(data, Thresholds(min_score=7, gate="lower-bound"))
    assert not bound.passed and bound.needs == "95% CI lower bound >= 7"
    assert "lower bound 6.5" in bound.result
    unsupported = accuracy.verdict(data, Thresholds(gate="pass^k"))
    assert not unsupported.passed and "does not apply to accuracy" in unsupported.result


def test_weighted_wilson_is_wilson_for_equal_weights_and_wider_for_unequal_ones():
    passed = [True, True, True, False]
    assert stats.weighted_wilson_ci95([2, 2, 2, 2], passed) == stats.wilson_ci95(3, 4)
    halves = [True, True, False, False]
    equal = stats.weighted_wilson_ci95([1, 1, 1, 1], halves)
    unequal = stats.weighted_wilson_ci95([3, 1, 3, 1], halves)  # rate 0.5, n_eff 3.2
    assert equal is not None and unequal is not None
    assert unequal.upper - unequal.lower > equal.upper - equal.lower
    perfect = stats.weighted_wilson_ci95([3, 2, 1], [True] * 3)
    assert perfect is not None and perfect.lower < 1  # no zero-width interval at n/n
    assert stats.weighted_wilson_ci95([], []) is None


def test_harness_lower_bound_gate_holds_the_bars_to_the_interval():
    harness = get_kind("harness")
    data = {
        "trust_score": 0.9,
        "trust_score_ci95": {"lower": 0.7, "upper": 0.97},
        "security_score": 0.9,
        "dimensions": {"security": {"score": 0.9, "score_ci95": {"lower": 0.7, "upper": 0.97}}},
        "counts": {"scored": 20},
    }
    assert harness.verdict(data, Thresholds(min_trust_score=0.8)).passed
    bound = harness.verdict(data, Thresholds(min_trust_score=0.8, gate="lower-bound"))
    assert not bound.passed and bound.needs == "lower bound of trust >= 0.8"
    assert bound.result == "trust 0.90 (security 0.90); lower bounds: trust 0.70 (security 0.70)"
    assert harness.verdict(data, Thresholds(min_dimension_score=0.6, gate="lower-bound")).passed


def test_kinds_without_an_interval_refuse_the_lower_bound_gate_with_a_reason():
    performance = get_kind("performance").verdict(
        {"avg_run_time": 0.1, "run_times": [0.1]}, Thresholds(gate="lower-bound")
    )
    assert not performance.passed
    assert (
        performance.result == "gate lower-bound does not apply to performance (it supports point)"
    )
