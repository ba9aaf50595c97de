"""Summary statistics for scores, run times and pass rates; pure functions, no dependencies.

Every estimator here is chosen for small samples, because an evaluation often has a handful of
iterations: sample standard deviation, Student-t intervals for means and Wilson intervals for
proportions. Functions that need data raise ``ValueError`` on an empty sequence; interval
functions return ``None`` when the sample is too small to say anything.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import NamedTuple


class Interval(NamedTuple):
    """A two-sided confidence interval."""

    lower: float
    upper: float


#: Two-sided 95% critical values of Student's t (the 0.975 quantile), by degrees of freedom.
_T_975: dict[int, float] = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    11: 2.201,
    12: 2.179,
    13: 2.160,
    14: 2.145,
    15: 2.131,
    16: 2.120,
    17: 2.110,
    18: 2.101,
    19: 2.093,
    20: 2.086,
    21: 2.080,
    22: 2.074,
    23: 2.069,
    24: 2.064,
    25: 2.060,
    26: 2.056,
    27: 2.052,
    28: 2.048,
    29: 2.045,
    30: 2.042,
}
#: The normal 0.975 quantile, used for t beyond 30 degrees of freedom (within 2% of t there).
_Z_975 = 1.96


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean. Raises ValueError when ``values`` is empty."""
    if not values:
        raise ValueError("mean of no values")
    return statistics.fmean(values)


def stdev(values: Sequence[float]) -> float:
    """Sample standard deviation (n - 1 in the denominator); 0.0 when n < 2.

    The iterations of an evaluation are a sample of the agent's behaviour, not the whole
    population, so the unbiased-variance estimator is the right one (it is also what Agno
    reports as ``std_dev_*``). One value has no spread to estimate, and 0.0 keeps the
    summary a number.
    """
    if len(values) < 2:
        return 0.0
    return statistics.stdev(values)


def median(values: Sequence[float]) -> float:
    """The middle value (mean of the two middle ones for even n); ValueError when empty."""
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation between closest ranks.

    This is the "linear" (type 7) definition used by NumPy and spreadsheets: the position is
    ``(n - 1) * q / 100`` in the sorted values, interpolated between its neighbours. It never
    goes outside the observed range, so a p95 of few runs is not extrapolated; with one value
    it is that value. Raises ValueError when ``values`` is empty or ``q`` is outside 0..100.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be between 0 and 100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = math.ceil(position)
    fraction = position - low
    return float(ordered[low] + (ordered[high] - ordered[low]) * fraction)


def t_critical_95(df: int) -> float:
    """Two-sided 95% critical value of Student's t with ``df`` degrees of freedom (df >= 1)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    return _T_975.get(df, _Z_975)


def mean_ci95(values: Sequence[float]) -> Interval | None:
    """95% confidence interval of the mean, ``mean ± t(n-1) * s / sqrt(n)``; None when n < 2.

    Student's t rather than the normal 1.96 because the variance is estimated from the same
    few values: with 5 iterations the normal interval would be about 30% too narrow.
    """
    n = len(values)
    if n < 2:
        return None
    centre = mean(values)
    half_width = t_critical_95(n - 1) * stdev(values) / math.sqrt(n)
    return Interval(centre - half_width, centre + half_width)


def wilson_ci95(successes: int, n: int) -> Interval | None:
    """95% Wilson score interval of a proportion ``successes / n`` (0..1); None when n == 0.

    Wilson rather than the textbook ``p ± 1.96 * sqrt(p(1-p)/n)`` (Wald) because Wald collapses
    to a zero-width interval at 0/n and n/n and covers badly for small n, which is exactly the
    case of an evaluation with a few iterations that all passed. Raises ValueError unless
    ``0 <= successes <= n``.
    """
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return None
    return _wilson(successes / n, n)


def weighted_wilson_ci95(weights: Sequence[float], passed: Sequence[bool]) -> Interval | None:
    """95% interval of a weighted pass rate (``sum of passed weights / sum of weights``).

    The Wilson interval of that rate with Kish's effective sample size,
    ``n_eff = (sum w)^2 / sum w^2``: equal weights give the plain Wilson interval, and unequal
    ones count for fewer independent trials, so the interval widens. None without a trial.
    """
    total = sum(weights)
    if not weights or total <= 0:
        return None
    rate = sum(w for w, ok in zip(weights, passed, strict=True) if ok) / total
    return _wilson(rate, total * total / sum(w * w for w in weights))


def _wilson(p: float, n: float) -> Interval:
    z = _Z_975
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half_width = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(max(0.0, centre - half_width), min(1.0, centre + half_width))
