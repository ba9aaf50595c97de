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
    #: What was measured, in a few words ("8.7/10 (CI 8.1-9.3) n=3").
    result: str
    #: The threshold it was held to ("mean >= 7").
    needs: str


def _interval(ci: dict[str, Any] | None, unit: str = "") -> str:
    if not ci or ci.get("lower") is None:
        return ""
    return (
        f" (CI {ci['lower']:.0f}-{ci['upper']:.0f}{unit})"
        if unit
        else f" (CI {ci['lower']:.1f}-{ci['upper']:.1f})"
    )


def _problems(summary: dict[str, Any]) -> str:
    counts = summary.get("counts", {})
    parts = [
        f"{counts[k]} {k.replace('_', ' ')}"
        for k in ("errored", "timed_out", "infra_error")
        if counts.get(k)
    ]
    return f"; {', '.join(parts)}" if parts else ""


def _scored(summary: dict[str, Any]) -> int:
    return int(summary.get("counts", {}).get("scored", 0))


def _accuracy(summary: dict[str, Any], check: Check) -> Verdict:
    floor = check.min_score or DEFAULT_MIN_SCORE
    mean = summary.get("avg_score")
    needs = f"mean >= {floor:g}"
    if mean is None:
        return Verdict(passed=False, result=f"nothing scored{_problems(summary)}", needs=needs)
    result = f"{mean:.1f}/10{_interval(summary.get('confidence_interval_95'))} n={_scored(summary)}"
    return Verdict(passed=mean >= floor, result=result + _problems(summary), needs=needs)


def _pass_rate(summary: dict[str, Any], check: Check, prefix: str = "") -> Verdict:
    floor = check.min_pass_rate if check.min_pass_rate is not None else DEFAULT_MIN_PASS_RATE
    rate = summary.get("pass_rate")
    needs = f"pass rate >= {floor:g}%"
    if rate is None or not _scored(summary):
        return Verdict(
            passed=False, result=f"{prefix}nothing scored{_problems(summary)}", needs=needs
        )
    result = f"{prefix}{rate:.0f}% passed{_interval(summary.get('pass_rate_ci95'), '%')} n={_scored(summary)}"
    return Verdict(passed=rate >= floor, result=result + _problems(summary), needs=needs)


def _reliability(summary: dict[str, Any], check: Check) -> Verdict:
    calls = ", ".join(summary.get("passed_tool_calls", [])) or "no expected tool"
    problems = (
        [f"unexpected {', '.join(summary['failed_tool_calls'])}"]
        if summary.get("failed_tool_calls")
        else []
    )
    if summary.get("missing_tool_calls"):
        problems.append(f"missing {', '.join(summary['missing_tool_calls'])}")
    prefix = f"called {calls}" + (f" ({'; '.join(problems)})" if problems else "") + "; "
    return _pass_rate(summary, check, prefix)


def _performance(summary: dict[str, Any], check: Check) -> Verdict:
    mean = summary.get("avg_run_time")
    runs = len(summary.get("run_times", []))
    needs = f"mean <= {check.max_mean_seconds * 1000:g} ms" if check.max_mean_seconds else "-"
    if mean is None or not runs:
        return Verdict(passed=False, result=f"no measured run{_problems(summary)}", needs=needs)
    result = f"mean {mean * 1000:.1f} ms, p95 {summary.get('p95_run_time', 0) * 1000:.1f} ms"
    if summary.get("memory_measured"):
        result += f", peak {summary.get('max_memory_usage', 0):.2f} MiB"
    passed = check.max_mean_seconds is None or mean <= check.max_mean_seconds
    return Verdict(passed=passed, result=f"{result} n={runs}{_problems(summary)}", needs=needs)


#: The dimensions of a harness evaluation, in the order they are reported.
HARNESS_DIMENSIONS = ("security", "safety", "reliability")


def _harness(summary: dict[str, Any], check: Check) -> Verdict:
    """Trust score against ``min_trust_score``, every measured dimension against ``min_dimension_score``."""
    trust = summary.get("trust_score")
    scores = {d: summary.get(f"{d}_score") for d in HARNESS_DIMENSIONS}
    measured = {d: s for d, s in scores.items() if s is not None}
    needs = [f"trust >= {check.min_trust_score:g}"] if check.min_trust_score is not None else []
    if check.min_dimension_score is not None:
        needs.append(f"each dimension >= {check.min_dimension_score:g}")
    if trust is None:
        return Verdict(
            passed=False,
            result=f"nothing scored{_problems(summary)}",
            needs=", ".join(needs) or "-",
        )
    parts = ", ".join(f"{d} {s:.2f}" for d, s in measured.items())
    passed = (check.min_trust_score is None or trust >= check.min_trust_score) and (
        check.min_dimension_score is None
        or all(s >= check.min_dimension_score for s in measured.values())
    )
    result = f"trust {trust:.2f}" + (f" ({parts})" if parts else "") + _problems(summary)
    return Verdict(passed=passed, result=result, needs=", ".join(needs) or "-")


def verdict_for(view: EvaluationView, check: Check) -> Verdict:
    if view.status is EvaluationStatus.FAILED:
        return Verdict(passed=False, result=f"could not run: {view.error}", needs="-")
    if view.status is EvaluationStatus.CANCELLED:
        return Verdict(passed=False, result="cancelled", needs="-")
    summary = view.summary or {}
    if view.kind == "accuracy":
        return _accuracy(summary, check)
    if view.kind in ("agent_as_judge", "match"):
        return _pass_rate(summary, check)
    if view.kind == "reliability":
        return _reliability(summary, check)
    if view.kind == "performance":
        return _performance(summary, check)
    if view.kind == "harness":
        return _harness(summary, check)
    return Verdict(passed=True, result="finished", needs="-")
