import random

import pytest

from assay.core.comparison import Verdict
from assay.scoring import paired


def _pairs(
    both: int, baseline_only: int, candidate_only: int, neither: int
) -> list[tuple[bool, bool]]:
    return (
        [(True, True)] * both
        + [(True, False)] * baseline_only
        + [(False, True)] * candidate_only
        + [(False, False)] * neither
    )


def test_exact_binomial_tail_matches_hand_and_reference_values():
    # 1 of 10: 2 * (C(10,0) + C(10,1)) / 2**10 = 22 / 1024
    assert paired.binomial_two_sided_p(1, 10) == 22 / 1024
    assert paired.binomial_two_sided_p(9, 10) == 22 / 1024
    # values of scipy.stats.binomtest(k, n).pvalue
    assert paired.binomial_two_sided_p(3, 20) == pytest.approx(0.0025768280029296875, rel=1e-12)
    assert paired.binomial_two_sided_p(59, 180) == pytest.approx(4.4344492637551645e-06, rel=1e-9)
    # beyond EXACT_INTEGERS_UP_TO flips, summed in floating point
    assert paired.binomial_two_sided_p(950, 2001) == pytest.approx(0.02535952578466361, rel=1e-8)
    assert paired.binomial_two_sided_p(40000, 80500) == pytest.approx(0.07862036880511, rel=1e-8)
    assert paired.binomial_two_sided_p(5, 10) == 1.0
    assert paired.binomial_two_sided_p(0, 0) == 1.0
    with pytest.raises(ValueError):
        paired.binomial_two_sided_p(4, 3)


def test_mcnemar_on_the_textbook_table_says_the_candidate_is_worse():
    # Wikipedia's McNemar example: 101 / 121 / 59 / 33; chi-square (121-59)^2/180 = 21.36
    result = paired.mcnemar(_pairs(101, 121, 59, 33))
    assert result.n == 314
    assert (result.baseline_only, result.candidate_only) == (121, 59)
    assert result.difference == pytest.approx((59 - 121) / 314)
    assert result.p_value == pytest.approx(4.4344492637551645e-06, rel=1e-9)
    assert result.verdict is Verdict.WORSE
    assert result.ci95.lower < result.difference < result.ci95.upper < 0


def test_mcnemar_needs_enough_discordant_pairs_to_call_a_difference():
    # 5 of 5 discordant pairs favour the candidate: p = 2 / 32 = 0.0625, not significant
    small = paired.mcnemar(_pairs(10, 0, 5, 10))
    assert small.p_value == 2 / 32
    assert small.verdict is Verdict.NO_SIGNIFICANT_DIFFERENCE
    # 6 of 6: p = 2 / 64 < 0.05
    assert paired.mcnemar(_pairs(10, 0, 6, 10)).verdict is Verdict.BETTER
    same = paired.mcnemar(_pairs(7, 0, 0, 3))
    assert (same.difference, same.p_value, same.verdict) == (
        0.0,
        1.0,
        Verdict.NO_SIGNIFICANT_DIFFERENCE,
    )
    with pytest.raises(ValueError):
        paired.mcnemar([])


def test_newcombe_interval_is_inside_bounds_and_antisymmetric():
    interval = paired.paired_difference_ci95(36, 12, 2, 0)
    # Altman's formula by hand: 0.2 - 0.1431 and 0.2 + 0.1404
    assert interval.lower == pytest.approx(0.0569, abs=5e-4)
    assert interval.upper == pytest.approx(0.3404, abs=5e-4)
    swapped = paired.paired_difference_ci95(36, 2, 12, 0)
    assert swapped.lower == pytest.approx(-interval.upper)
    assert swapped.upper == pytest.approx(-interval.lower)
    extreme = paired.paired_difference_ci95(0, 10, 0, 0)
    assert -1.0 <= extreme.lower < 1.0 and extreme.upper == 1.0
    # no discordant pair still leaves an interval of non-zero width
    none = paired.paired_difference_ci95(5, 0, 0, 5)
    assert none.lower < 0 < none.upper


def test_cohen_kappa_matches_the_textbook_examples():
    # Wikipedia: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> p_o 0.7, p_e 0.5, kappa 0.4
    first = paired.cohen_kappa(_pairs(20, 5, 10, 15))
    assert (first.n, first.agreement, first.chance_agreement) == (50, 0.7, 0.5)
    assert first.kappa == pytest.approx(0.4)
    # the Wilson interval of 35 agreements of 50 is [0.5625, 0.8090]; mapped through
    # (p_o - 0.5) / (1 - 0.5): [0.125, 0.618]
    assert first.ci95 is not None
    assert first.ci95.lower == pytest.approx(0.1250, abs=1e-3)
    assert first.ci95.upper == pytest.approx(0.6179, abs=1e-3)
    # with many cases it is Cohen's: 0.4 ± 1.96 * sqrt(0.7 * 0.3 / 5000) / 0.5
    large = paired.cohen_kappa(_pairs(2000, 500, 1000, 1500))
    assert large.ci95 is not None
    half = 1.96 * (0.7 * 0.3 / 5000) ** 0.5 / 0.5
    assert large.ci95.lower == pytest.approx(0.4 - half, abs=1e-3)
    assert large.ci95.upper == pytest.approx(0.4 + half, abs=1e-3)
    # Wikipedia's second example: 45 / 15 / 25 / 15 -> p_e 0.54, kappa 0.1304
    second = paired.cohen_kappa(_pairs(45, 15, 25, 15))
    assert second.chance_agreement == pytest.approx(0.54)
    assert second.kappa == pytest.approx(0.1304, abs=1e-4)


def test_kappa_is_undefined_when_both_raters_give_one_label():
    result = paired.cohen_kappa(_pairs(8, 0, 0, 0))
    assert result.agreement == 1.0 and result.kappa is None and result.ci95 is None
    perfect = paired.cohen_kappa(_pairs(3, 0, 0, 1))
    # four agreements of four say little: the interval stays wide
    assert perfect.kappa == 1.0 and perfect.ci95 is not None and perfect.ci95.lower < 0


def test_paired_bootstrap_is_deterministic_and_finds_a_real_shift():
    generator = random.Random(7)
    baseline = [generator.random() for _ in range(60)]
    shifted = [(b, b + 0.2 + generator.uniform(-0.05, 0.05)) for b in baseline]
    first = paired.paired_bootstrap(shifted)
    assert first == paired.paired_bootstrap(shifted)
    assert first.verdict is Verdict.BETTER
    assert first.ci95.lower < first.difference < first.ci95.upper
    assert 0.15 < first.ci95.lower and first.ci95.upper < 0.25
    worse = paired.paired_bootstrap([(b, a) for a, b in shifted])
    assert worse.verdict is Verdict.WORSE
    # differences of +0.3 and -0.3 in equal numbers: mean 0
    noise = paired.paired_bootstrap([(b, b + 0.3 * (-1) ** i) for i, b in enumerate(baseline)])
    assert noise.verdict is Verdict.NO_SIGNIFICANT_DIFFERENCE
    constant = paired.paired_bootstrap([(1.0, 3.0)] * 4)
    assert (constant.difference, tuple(constant.ci95)) == (2.0, (2.0, 2.0))
    with pytest.raises(ValueError):
        paired.paired_bootstrap([])


def test_clopper_pearson_matches_the_reference_values():
    # scipy.stats.binomtest(k, n).proportion_ci(method="exact")
    for (k, n), (lower, upper) in {
        (3, 10): (0.06673951117773447, 0.652452850060008),
        (0, 5): (0.0, 0.5218237501049814),
        (5, 5): (0.47817624989501856, 1.0),
        (59, 180): (0.25978766960821986, 0.4015496608077292),
    }.items():
        interval = paired.clopper_pearson_ci95(k, n)
        assert interval.lower == pytest.approx(lower, abs=1e-9)
        assert interval.upper == pytest.approx(upper, abs=1e-9)


def test_the_verdict_and_the_interval_of_mcnemar_never_disagree():
    for both in (0, 3):
        for baseline_only in range(9):
            for candidate_only in range(9):
                result = paired.mcnemar(_pairs(both, baseline_only, candidate_only, 2))
                excludes_zero = not result.ci95.lower <= 0 <= result.ci95.upper
                significant = result.verdict is not Verdict.NO_SIGNIFICANT_DIFFERENCE
                assert significant == excludes_zero, result
                assert result.ci95.lower <= result.difference <= result.ci95.upper
    # two regressions out of two: far from enough evidence, and the interval says so
    tiny = paired.mcnemar(_pairs(0, 2, 0, 0))
    assert tiny.verdict is Verdict.NO_SIGNIFICANT_DIFFERENCE and tiny.ci95.upper > 0
