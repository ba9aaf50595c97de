"""The page's statistics come from stored outcomes, the same way for every kind."""

from __future__ import annotations

import pytest

from assay.core.evaluation import ItemDetail
from assay.core.outcome import Outcome, Score
from assay.core.states import ItemState
from assay.web import charts, results


def _item(seq: int, passed: bool, category: str, value: float) -> ItemDetail:
    return ItemDetail(
        id=f"i{seq}",
        seq=seq,
        state=ItemState.PASSED if passed else ItemState.FAILED,
        attempts=1,
        outcome=Outcome(
            passed=passed,
            scores=[Score(name="judge", value=value, scale="1-10", passed=passed, reason="why")],
            data={"category": category, "response": "the answer"},
        ),
    )


ITEMS = [_item(0, True, "a", 8), _item(1, False, "a", 2), _item(2, True, "b", 9)]


def test_pass_rate_and_mean_carry_their_intervals_and_n():
    rate, judge = results.score_estimates(ITEMS)
    assert (rate.label, rate.n, rate.value) == ("pass rate", 3, pytest.approx(2 / 3))
    assert (rate.lower, rate.upper) == (
        pytest.approx(0.2077, abs=1e-3),
        pytest.approx(0.9385, abs=1e-3),
    )
    assert (judge.label, judge.n, judge.value, judge.top) == (
        "judge",
        3,
        pytest.approx(19 / 3),
        10.0,
    )
    assert judge.lower is not None and judge.lower < judge.value < (judge.upper or 0)


def test_items_group_by_the_first_key_that_splits_them():
    grouped = results.group_pass_rates(ITEMS)
    assert grouped is not None
    key, estimates = grouped
    assert key == "category"
    assert [(e.label, e.n, e.value) for e in estimates] == [("a", 2, 0.5), ("b", 1, 1.0)]


def test_failures_show_the_reason_and_the_response():
    (failure,) = results.failures(ITEMS)
    assert (failure.seq, failure.state) == (1, "failed")
    assert ("judge", "why") in failure.evidence and ("response", "the answer") in failure.evidence


def test_histogram_counts_every_value_once():
    bins = results.histogram([1.0, 2.0, 2.5, 10.0], bins=3)
    assert [b.count for b in bins] == [3, 0, 1]
    assert results.histogram([4.0, 4.0]) == [results.Bin(4.0, 4.0, 2)]


def test_bars_escape_labels_and_name_each_value():
    estimate = results.pass_rate("<script>", 1, 2)
    svg = charts.interval_bars("t", [estimate])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "50.0% [9.5%, 90.5%] n=2" in svg
