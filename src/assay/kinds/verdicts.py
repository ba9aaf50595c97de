"""Pieces the kinds' verdicts share: intervals, problem counts, the pass-rate verdict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from assay.core.verdict import CheckVerdict, Thresholds

DEFAULT_MIN_SCORE = 7.0
DEFAULT_MIN_PASS_RATE = 100.0


def interval(ci: dict[str, Any] | None, unit: str = "") -> str:
    """`` (CI 8.1-9.3)``, or ``(CI 80-95%)`` with a unit; empty without an interval."""
    if not ci or ci.get("lower") is None:
        return ""
    return (
        f" (CI {ci['lower']:.0f}-{ci['upper']:.0f}{unit})"
        if unit
        else f" (CI {ci['lower']:.1f}-{ci['upper']:.1f})"
    )


def problems(summary: dict[str, Any]) -> str:
    """``; 2 errored, 1 infra error``: the items that could not be scored as intended."""
    counts = summary.get("counts", {})
    parts = [
        f"{counts[k]} {k.replace('_', ' ')}"
        for k in ("errored", "timed_out", "infra_error")
        if counts.get(k)
    ]
    return f"; {', '.join(parts)}" if parts else ""


def scored(summary: dict[str, Any]) -> int:
    return int(summary.get("counts", {}).get("scored", 0))


def _failed_result(result: dict[str, Any]) -> bool:
    return result.get("passed") is False


def common_failure_reason(
    summary: dict[str, Any], failed: Callable[[dict[str, Any]], bool] = _failed_result
) -> str | None:
    """The most common reason among the summary's failed results (or its listed failures).

    The kinds list their items as ``results`` (the eval-run kinds; ``failed`` picks the
    failed ones) or their failed items as ``failures`` (match, harness), each with a
    ``reason``, so a failed check can say why in its items' words.
    """
    reasons = [
        str(r["reason"])
        for r in summary.get("results") or []
        if isinstance(r, dict) and failed(r) and r.get("reason")
    ] or [
        str(f["reason"])
        for f in summary.get("failures") or []
        if isinstance(f, dict) and f.get("reason")
    ]
    if not reasons:
        return None
    reason, count = Counter(reasons).most_common(1)[0]
    return f"{count} x {reason}" if len(reasons) > 1 else reason


def with_failure_reason(
    verdict: CheckVerdict,
    summary: dict[str, Any],
    failed: Callable[[dict[str, Any]], bool] = _failed_result,
) -> CheckVerdict:
    """A failed verdict with its items' most common reason (see ``common_failure_reason``)."""
    if verdict.passed or verdict.reason is not None:
        return verdict
    return verdict.model_copy(update={"reason": common_failure_reason(summary, failed)})


def pass_rate_verdict(
    summary: dict[str, Any], thresholds: Thresholds, prefix: str = ""
) -> CheckVerdict:
    """The pass rate against ``min_pass_rate`` (default 100%), with its interval and n.

    The gate picks what is compared: the rate, its interval's lower bound, or pass^k (the
    share of cases whose every run passed, reported with pass@1, the plain pass rate). A
    failed verdict says why, in its items' words.
    """
    return with_failure_reason(_gated_pass_rate(summary, thresholds, prefix), summary)


def _gated_pass_rate(summary: dict[str, Any], thresholds: Thresholds, prefix: str) -> CheckVerdict:
    floor = (
        thresholds.min_pass_rate if thresholds.min_pass_rate is not None else DEFAULT_MIN_PASS_RATE
    )
    rate = summary.get("pass_rate")
    gate = thresholds.gate or "point"
    repeats = summary.get("pass_k") or {}
    needs = {
        "point": f"pass rate >= {floor:g}%",
        "lower-bound": f"95% CI lower bound >= {floor:g}%",
        "pass^k": f"pass^{repeats.get('k', 'k')} >= {floor:g}%",
    }[gate]
    if rate is None or not scored(summary):
        return CheckVerdict(
            passed=False, result=f"{prefix}nothing scored{problems(summary)}", needs=needs
        )
    ci = interval(summary.get("pass_rate_ci95"), "%")
    result = f"{prefix}{rate:.0f}% passed{ci} n={scored(summary)}"
    if gate == "point":
        return CheckVerdict(passed=rate >= floor, result=result + problems(summary), needs=needs)
    if gate == "lower-bound":
        lower = (summary.get("pass_rate_ci95") or {}).get("lower")
        measured = f"; lower bound {lower:.0f}%" if lower is not None else ""
        passed = lower is not None and lower >= floor
        return CheckVerdict(
            passed=passed, result=result + measured + problems(summary), needs=needs
        )
    k_rate = repeats.get("rate")
    if k_rate is None:
        return CheckVerdict(
            passed=False,
            result=f"{result}; no case with all runs scored{problems(summary)}",
            needs=needs,
        )
    result = (
        f"{prefix}pass^{repeats['k']} {k_rate:.0f}% ({repeats['passed_cases']}/{repeats['cases']} "
        f"cases), pass@1 {rate:.0f}%{ci} n={scored(summary)}"
    )
    return CheckVerdict(passed=k_rate >= floor, result=result + problems(summary), needs=needs)


def unsupported_gate(
    thresholds: Thresholds, kind: str, supported: tuple[str, ...]
) -> CheckVerdict | None:
    """A failed verdict saying why, when the check's gate is one this kind cannot apply."""
    gate = thresholds.gate or "point"
    if gate in supported:
        return None
    return CheckVerdict(
        passed=False,
        result=f"gate {gate} does not apply to {kind} (it supports {', '.join(supported)})",
        needs="-",
    )
