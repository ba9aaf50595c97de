"""Pass or fail for one finished evaluation against a check's thresholds, with a one-line headline.

The verdict is what CI acts on, so it is strict about what it does not know: an
evaluation with no scored item (all infrastructure errors) fails, because nothing was
verified.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from assay.core.evaluation import EvaluationView
from assay.core.states import EvaluationStatus

if TYPE_CHECKING:
    from assay.services.runs import Check

DEFAULT_MIN_SCORE = 7.0
DEFAULT_MIN_PASS_RATE = 100.0


class Verdict(BaseModel):
    passed: bool
    headline: str


def _interval(ci: dict[str, Any] | None, unit: str = "") -> str:
    if not ci or ci.get("lower") is None:
        return ""
    return f" (95% CI {ci['lower']:.1f}-{ci['upper']:.1f}{unit})"


def _extras(summary: dict[str, Any]) -> str:
    counts = summary.get("counts", {})
    parts = [
        f"{counts[k]} {k.replace('_', ' ')}"
        for k in ("errored", "timed_out", "infra_error")
        if counts.get(k)
    ]
    return f"; {', '.join(parts)}" if parts else ""


def _accuracy(summary: dict[str, Any], check: Check) -> Verdict:
    floor = check.min_score or DEFAULT_MIN_SCORE
    mean = summary.get("avg_score")
    n = summary.get("counts", {}).get("scored", 0)
    text = (
        f"mean score {mean:.1f}/10{_interval(summary.get('confidence_interval_95'))}, n={n}"
        if mean is not None
        else "no scored iteration"
    )
    return Verdict(
        passed=mean is not None and mean >= floor,
        headline=f"{text}; needs >= {floor:g}{_extras(summary)}",
    )


def _pass_rate(summary: dict[str, Any], check: Check, ci_key: str) -> Verdict:
    floor = check.min_pass_rate if check.min_pass_rate is not None else DEFAULT_MIN_PASS_RATE
    rate = summary.get("pass_rate")
    n = summary.get("counts", {}).get("scored", 0)
    text = (
        f"pass rate {rate:.0f}%{_interval(summary.get(ci_key), '%')}, n={n}"
        if rate is not None and n
        else "no scored iteration"
    )
    return Verdict(
        passed=bool(n) and rate is not None and rate >= floor,
        headline=f"{text}; needs >= {floor:g}%{_extras(summary)}",
    )


def _reliability(summary: dict[str, Any], check: Check) -> Verdict:
    verdict = _pass_rate(summary, check, "pass_rate_ci95")
    calls = ", ".join(summary.get("passed_tool_calls", [])) or "none"
    problems = (
        [f"unexpected {', '.join(summary['failed_tool_calls'])}"]
        if summary.get("failed_tool_calls")
        else []
    )
    if summary.get("missing_tool_calls"):
        problems.append(f"missing {', '.join(summary['missing_tool_calls'])}")
    detail = f"{summary.get('eval_status', '?')}: called {calls}" + (
        f" ({'; '.join(problems)})" if problems else ""
    )
    return Verdict(passed=verdict.passed, headline=f"{detail}; {verdict.headline}")


def _performance(summary: dict[str, Any], check: Check) -> Verdict:
    mean = summary.get("avg_run_time")
    n = summary.get("counts", {}).get("scored", 0)
    if mean is None or not n:
        return Verdict(passed=False, headline=f"no measured run{_extras(summary)}")
    text = f"mean {mean * 1000:.1f} ms, p95 {summary.get('p95_run_time', 0) * 1000:.1f} ms, n={n}"
    if summary.get("memory_measured"):
        text += f", peak {summary.get('max_memory_usage', 0):.2f} MiB"
    passed = check.max_mean_seconds is None or mean <= check.max_mean_seconds
    limit = f"; needs <= {check.max_mean_seconds * 1000:g} ms" if check.max_mean_seconds else ""
    return Verdict(passed=passed, headline=f"{text}{limit}{_extras(summary)}")


def verdict_for(view: EvaluationView, check: Check) -> Verdict:
    if view.status is EvaluationStatus.FAILED:
        return Verdict(passed=False, headline=f"could not run: {view.error}")
    if view.status is EvaluationStatus.CANCELLED:
        return Verdict(passed=False, headline="cancelled")
    summary = view.summary or {}
    if view.kind == "accuracy":
        return _accuracy(summary, check)
    if view.kind == "agent_as_judge":
        return _pass_rate(summary, check, "pass_rate_ci95")
    if view.kind == "reliability":
        return _reliability(summary, check)
    if view.kind == "performance":
        return _performance(summary, check)
    return Verdict(passed=True, headline="finished")
