"""Paired comparisons of two runs over the same items, and agreement between two raters.

Pure functions, no dependencies beyond the standard library. Two evaluations of the same
items are paired data: each item was tried by both, so the test must use the pairs (an
unpaired test on the two pass rates throws away that the items are the same, and is far
less sensitive when items differ in difficulty).

- Pass/fail: McNemar's test looks only at the discordant pairs (``b``: the baseline passed
  and the candidate failed; ``c``: the other way round). Under "no difference" each
  discordant pair is a fair coin, so the two-sided p-value is the exact binomial tail
  ``2 * P(X <= min(b, c))`` with ``X ~ Binomial(b + c, 1/2)``, capped at 1. The exact test
  is used for every count (it is what the chi-square form approximates, and the counts of an
  evaluation are small). The interval of the difference in pass rates is the wider of two:
  Newcombe's method 10 (hybrid Wilson score for paired proportions), which stays inside
  [-1, 1] and keeps a width when no pair is discordant, and the exact conditional interval
  (Clopper-Pearson over the discordant pairs, scaled by their share), which contains zero
  whenever the exact test finds no difference. A difference is significant only when the
  test says so and the interval excludes zero, so the verdict and the interval never
  contradict each other.
- Scores: a paired bootstrap of the mean difference (resampling items, keeping each item's
  pair together), with a seeded generator so the same data give the same interval every
  time; the interval is the 2.5th and 97.5th percentiles of the resampled means.
- Agreement: Cohen's kappa of two raters' binary labels, with a 95% interval from the
  Wilson interval of the observed agreement (see :func:`cohen_kappa`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import NamedTuple

from assay.core.comparison import Verdict
from assay.scoring.stats import Interval, mean, percentile, wilson_ci95

#: Significance level of every verdict (two-sided); matches the 95% intervals.
ALPHA = 0.05
#: Bootstrap resamples: enough that the percentile interval moves by < 0.005 between seeds.
BOOTSTRAP_RESAMPLES = 2000
DEFAULT_SEED = 20260101
#: Up to this many discordant pairs the p-value is summed in exact integers; beyond, in
#: floating point (big-integer binomials of 10^5 flips would take seconds).
EXACT_INTEGERS_UP_TO = 2000


class McNemar(NamedTuple):
    """McNemar's exact test of paired pass/fail outcomes (candidate minus baseline)."""

    n: int
    #: Pairs where the baseline passed and the candidate failed.
    baseline_only: int
    #: Pairs where the candidate passed and the baseline failed.
    candidate_only: int
    #: Candidate pass rate minus baseline pass rate.
    difference: float
    ci95: Interval
    p_value: float
    verdict: Verdict


class PairedBootstrap(NamedTuple):
    """A paired bootstrap of the mean difference of scores (candidate minus baseline)."""

    n: int
    difference: float
    ci95: Interval
    verdict: Verdict


class Kappa(NamedTuple):
    """Cohen's kappa of two raters' binary labels over the same ``n`` cases."""

    n: int
    #: Share of cases where the raters agree (p_o).
    agreement: float
    #: Agreement expected by chance from each rater's own rates (p_e).
    chance_agreement: float
    kappa: float | None
    ci95: Interval | None


def binomial_two_sided_p(k: int, n: int) -> float:
    """Exact two-sided p-value of ``k`` successes in ``n`` fair coin flips (1.0 when n == 0).

    Doubles the smaller tail, as the exact McNemar test does (the distribution is symmetric
    at p = 1/2, so this equals summing every outcome at most as likely as ``k``).
    """
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 1.0
    low = min(k, n - k)
    if n > EXACT_INTEGERS_UP_TO:
        return min(1.0, 2 * (1 - _upper_tail(low + 1, n, 0.5)))
    tail: float = sum(math.comb(n, i) for i in range(low + 1)) / 2**n
    return min(1.0, 2 * tail)


def _verdict(significant: bool, difference: float) -> Verdict:
    if not significant or difference == 0:
        return Verdict.NO_SIGNIFICANT_DIFFERENCE
    return Verdict.BETTER if difference > 0 else Verdict.WORSE


def mcnemar(pairs: Sequence[tuple[bool, bool]]) -> McNemar:
    """McNemar's exact test over ``(baseline_passed, candidate_passed)`` pairs.

    Raises ValueError when there are no pairs.
    """
    n = len(pairs)
    if n == 0:
        raise ValueError("McNemar's test of no pairs")
    both = sum(1 for a, b in pairs if a and b)
    baseline_only = sum(1 for a, b in pairs if a and not b)
    candidate_only = sum(1 for a, b in pairs if b and not a)
    neither = n - both - baseline_only - candidate_only
    discordant = baseline_only + candidate_only
    p_value = binomial_two_sided_p(candidate_only, discordant)
    difference = (candidate_only - baseline_only) / n
    newcombe = paired_difference_ci95(both, candidate_only, baseline_only, neither)
    exact = clopper_pearson_ci95(candidate_only, discordant)
    share = discordant / n
    interval = Interval(
        min(newcombe.lower, share * (2 * exact.lower - 1)),
        max(newcombe.upper, share * (2 * exact.upper - 1)),
    )
    significant = p_value < ALPHA and not interval.lower <= 0 <= interval.upper
    return McNemar(
        n=n,
        baseline_only=baseline_only,
        candidate_only=candidate_only,
        difference=difference,
        ci95=interval,
        p_value=p_value,
        verdict=_verdict(significant, difference),
    )


def _upper_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), in floating point and in time ~ its spread.

    The terms fall away on both sides of the mode, so the sum runs outward from ``k`` over
    the side away from the mean and stops once a term no longer changes it (the other side
    is one minus that); large n costs a few standard deviations of terms, not n.
    """
    if k <= 0:
        return 1.0
    if k > n or p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    if k > n * p:
        return min(1.0, _tail_from(k, n, p, upward=True))
    return max(0.0, 1.0 - _tail_from(k - 1, n, p, upward=False))


def _tail_from(start: int, n: int, p: float, *, upward: bool) -> float:
    """The binomial terms from ``start`` away from the mean (up to n, or down to 0), summed."""
    log_term = (
        math.lgamma(n + 1)
        - math.lgamma(start + 1)
        - math.lgamma(n - start + 1)
        + start * math.log(p)
        + (n - start) * math.log1p(-p)
    )
    term = math.exp(log_term)
    total, i, odds = term, start, p / (1 - p)
    while (i < n if upward else i > 0) and term > total * 1e-17:
        if upward:
            term *= (n - i) / (i + 1) * odds
            i += 1
        else:
            term *= i / (n - i + 1) / odds
            i -= 1
        total += term
    return total


def _solve(target: Callable[[float], float], level: float) -> float:
    """The p in (0, 1) where the increasing ``target(p)`` reaches ``level``, by bisection."""
    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        if target(middle) < level:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def clopper_pearson_ci95(k: int, n: int) -> Interval:
    """The exact (Clopper-Pearson) 95% interval of a proportion ``k / n``; [0, 1] when n == 0.

    Its central tails match the doubled-tail exact test: 1/2 lies outside it exactly when
    that test's p-value is below 0.05.
    """
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    lower = 0.0 if k == 0 else _solve(lambda p: _upper_tail(k, n, p), ALPHA / 2)
    upper = 1.0 if k == n else _solve(lambda p: _upper_tail(k + 1, n, p), 1 - ALPHA / 2)
    return Interval(lower, upper)


def paired_difference_ci95(both: int, first_only: int, second_only: int, neither: int) -> Interval:
    """Newcombe's (1998) method-10 95% interval of ``p_first - p_second`` for paired data.

    ``first_only`` counts pairs where only the first succeeded, and so on. Each rate gets
    its Wilson interval, and the two are combined with the correlation ``phi`` of the pairs
    (as in Altman et al., *Statistics with Confidence*, 2000, p. 52). Raises ValueError when there are no pairs.
    """
    n = both + first_only + second_only + neither
    if n == 0:
        raise ValueError("an interval of no pairs")
    p1 = (both + first_only) / n
    p2 = (both + second_only) / n
    first = wilson_ci95(both + first_only, n)
    second = wilson_ci95(both + second_only, n)
    assert first is not None and second is not None
    margins = (both + first_only) * (second_only + neither) * (both + second_only)
    margins *= first_only + neither
    cross = both * neither - first_only * second_only
    # Newcombe's continuity correction of a positive association (a negative one is kept).
    corrected = max(0.0, cross - n / 2) if cross > 0 else cross
    phi = corrected / math.sqrt(margins) if margins else 0.0
    d1, u1 = p1 - first.lower, first.upper - p1
    d2, u2 = p2 - second.lower, second.upper - p2
    below = math.sqrt(max(0.0, d1 * d1 - 2 * phi * d1 * u2 + u2 * u2))
    above = math.sqrt(max(0.0, u1 * u1 - 2 * phi * u1 * d2 + d2 * d2))
    difference = p1 - p2
    return Interval(max(-1.0, difference - below), min(1.0, difference + above))


def paired_bootstrap(
    pairs: Sequence[tuple[float, float]],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> PairedBootstrap:
    """Bootstrap the mean of ``candidate - baseline`` over ``(baseline, candidate)`` pairs.

    Deterministic for a given seed. The verdict is significant when the 95% interval
    excludes zero. Raises ValueError when there are no pairs.
    """
    differences = [candidate - baseline for baseline, candidate in pairs]
    n = len(differences)
    if n == 0:
        raise ValueError("a bootstrap of no pairs")
    centre = mean(differences)
    generator = random.Random(seed)
    means = [mean(generator.choices(differences, k=n)) for _ in range(resamples)]
    interval = Interval(percentile(means, 2.5), percentile(means, 97.5))
    significant = interval.lower > 0 or interval.upper < 0
    return PairedBootstrap(
        n=n, difference=centre, ci95=interval, verdict=_verdict(significant, centre)
    )


def cohen_kappa(pairs: Sequence[tuple[bool, bool]]) -> Kappa:
    """Cohen's kappa of two raters' binary labels, with a 95% interval.

    The interval treats chance agreement ``p_e`` as fixed, as Cohen's (1960) standard error
    ``sqrt(p_o (1 - p_o) / n) / (1 - p_e)`` does, but takes the Wilson interval of ``p_o``
    instead of that Wald one and maps it through ``(p_o - p_e) / (1 - p_e)``. For large n
    the two agree; for few cases, and above all when the raters agreed every time, Cohen's
    interval shrinks to a point (kappa 1 "certain" after four cases) while this one stays
    honest. ``kappa`` is None when chance agreement is 1 (both raters gave one label to
    every case: the agreement is perfect but says nothing), and so is the interval.
    Raises ValueError when there are no pairs.
    """
    n = len(pairs)
    if n == 0:
        raise ValueError("kappa of no pairs")
    agreed = sum(1 for a, b in pairs if a == b)
    observed = agreed / n
    first_yes = sum(1 for a, _ in pairs if a) / n
    second_yes = sum(1 for _, b in pairs if b) / n
    chance = first_yes * second_yes + (1 - first_yes) * (1 - second_yes)
    if chance >= 1:
        return Kappa(n=n, agreement=observed, chance_agreement=chance, kappa=None, ci95=None)
    kappa = (observed - chance) / (1 - chance)
    rate = wilson_ci95(agreed, n)
    assert rate is not None
    interval = Interval(
        max(-1.0, (rate.lower - chance) / (1 - chance)),
        min(1.0, (rate.upper - chance) / (1 - chance)),
    )
    return Kappa(n=n, agreement=observed, chance_agreement=chance, kappa=kappa, ci95=interval)
