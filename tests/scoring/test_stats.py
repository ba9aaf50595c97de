import math

import pytest

from assay.scoring import stats


def test_mean_median_and_sample_stdev_match_hand_computed_values():
    values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
    assert stats.mean(values) == 5.0
    assert stats.median(values) == 4.5
    # sum of squared deviations is 32; the sample variance divides by n - 1 = 7
    assert stats.stdev(values) == pytest.approx(math.sqrt(32 / 7))


def test_stdev_of_fewer_than_two_values_is_zero():
    assert stats.stdev([]) == 0.0
    assert stats.stdev([3.0]) == 0.0


def test_mean_and_median_of_nothing_raise():
    with pytest.raises(ValueError):
        stats.mean([])
    with pytest.raises(ValueError):
        stats.median([])


def test_percentile_interpolates_linearly_between_closest_ranks():
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    # position (5 - 1) * 0.95 = 3.8: 4 + 0.8 * (5 - 4)
    assert stats.percentile(values, 95) == pytest.approx(4.8)
    assert stats.percentile(values, 50) == 3.0
    assert stats.percentile(values, 0) == 1.0
    assert stats.percentile(values, 100) == 5.0
    assert stats.percentile([10.0, 0.0], 25) == pytest.approx(2.5)


def test_percentile_of_one_value_is_that_value():
    assert stats.percentile([0.42], 95) == 0.42


def test_percentile_rejects_empty_values_and_out_of_range_q():
    with pytest.raises(ValueError):
        stats.percentile([], 95)
    with pytest.raises(ValueError):
        stats.percentile([1.0], 101)


def test_mean_ci95_uses_student_t_for_small_samples():
    values = [8.0, 9.0, 10.0]
    # mean 9, s = 1, t(2) = 4.303, half width 4.303 / sqrt(3)
    interval = stats.mean_ci95(values)
    assert interval is not None
    half = 4.303 / math.sqrt(3)
    assert interval.lower == pytest.approx(9 - half)
    assert interval.upper == pytest.approx(9 + half)


def test_mean_ci95_uses_normal_quantile_beyond_thirty_degrees_of_freedom():
    values = [float(i % 2) for i in range(40)]  # mean 0.5
    interval = stats.mean_ci95(values)
    assert interval is not None
    half = 1.96 * stats.stdev(values) / math.sqrt(40)
    assert interval == pytest.approx((0.5 - half, 0.5 + half))


def test_mean_ci95_is_none_below_two_values():
    assert stats.mean_ci95([]) is None
    assert stats.mean_ci95([7.0]) is None


def test_t_critical_values_come_from_the_table():
    assert stats.t_critical_95(1) == 12.706
    assert stats.t_critical_95(30) == 2.042
    assert stats.t_critical_95(31) == 1.96
    with pytest.raises(ValueError):
        stats.t_critical_95(0)


def test_wilson_interval_matches_hand_computed_values():
    # 8 of 10: centre (0.8 + 1.96^2/20) / (1 + 1.96^2/10) and half width by the Wilson formula
    z = 1.96
    n, p = 10, 0.8
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    interval = stats.wilson_ci95(8, 10)
    assert interval is not None
    assert interval.lower == pytest.approx(centre - half)
    assert interval.upper == pytest.approx(centre + half)
    assert interval.lower == pytest.approx(0.4902, abs=1e-4)
    assert interval.upper == pytest.approx(0.9433, abs=1e-4)


def test_wilson_interval_is_not_degenerate_when_everything_passed():
    interval = stats.wilson_ci95(5, 5)
    assert interval is not None
    assert interval.upper == pytest.approx(1.0)
    assert interval.lower == pytest.approx(0.5655, abs=1e-4)
    zero = stats.wilson_ci95(0, 5)
    assert zero is not None
    assert zero.lower == pytest.approx(0.0)
    assert zero.upper == pytest.approx(0.4345, abs=1e-4)


def test_wilson_interval_is_none_without_trials_and_rejects_impossible_counts():
    assert stats.wilson_ci95(0, 0) is None
    with pytest.raises(ValueError):
        stats.wilson_ci95(3, 2)
    with pytest.raises(ValueError):
        stats.wilson_ci95(-1, 2)
