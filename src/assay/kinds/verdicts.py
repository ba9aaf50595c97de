"""Pieces the kinds' verdicts share: intervals, problem counts, the pass-rate verdict."""

from __future__ import annotations

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


def pass_rate_verdict(
    summary: dict[str, Any], thresholds: Thresholds, prefix: str = ""
) -> CheckVerdict:
    """The pass rate against ``min_pass_rate`` (default 100%), with its interval and n."""
    floor = (
        thresholds.min_pass_rate if thresholds.min_pass_rate is not None else DEFAULT_MIN_PASS_RATE
    )
    rate = summary.get("pass_rate")
    needs = f"pass rate >= {floor:g}%"
    if rate is None or not scored(summary):
        return CheckVerdict(
            passed=False, result=f"{prefix}nothing scored{problems(summary)}", needs=needs
        )
    ci = interval(summary.get("pass_rate_ci95"), "%")
    result = f"{prefix}{rate:.0f}% passed{ci} n={scored(summary)}"
    return CheckVerdict(passed=rate >= floor, result=result + problems(summary), needs=needs)
