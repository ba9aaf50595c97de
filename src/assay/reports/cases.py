"""Report cases: one test case per check of a run, or per probe of a scan.

A case is what a CI tool shows as one test: passed, failed (the agent did not meet the bar,
with the reason and the bar), or error (nothing could be verified: the evaluation could not
run, none of its items could be scored, or the probe hit an infrastructure error). Both commands build them here, so every
output file says the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from assay.core.evaluation import EvaluationView, ItemDetail
from assay.core.states import EvaluationStatus, ItemState
from assay.services.runs import Check, CheckResult

CaseStatus = Literal["passed", "failed", "error"]

#: Item states that say nothing about the agent: the probe is an error, not a failure.
_NOT_VERIFIED = (ItemState.INFRA_ERROR, ItemState.CANCELLED)


@dataclass(frozen=True)
class ReportCase:
    """One test case: ``suite`` groups cases (a JUnit testsuite), ``name`` is unique in it."""

    suite: str
    name: str
    status: CaseStatus
    #: What was measured, or why it failed ("50% passed (CI 9-91%) n=2").
    message: str
    #: The bar it was held to ("pass rate >= 100%"); "-" when there is none.
    needs: str = "-"
    #: Longer text for the failure body: the prompt and response of a probe, an error.
    detail: str = ""
    seconds: float | None = None


def _seconds(view: EvaluationView) -> float | None:
    if view.started_at is None or view.completed_at is None:
        return None
    return max(0.0, (view.completed_at - view.started_at).total_seconds())


def check_label(index: int, check: Check) -> str:
    """``2 accuracy: What is 2+2?``: the check's place, kind and name, input or case count."""
    cases = check.params.get("cases")
    what = (
        check.name
        or check.params.get("input")
        or (f"{len(cases)} cases" if isinstance(cases, list) else None)
    )
    return f"{index + 1} {check.kind}" + (f": {what}" if what else "")


def check_cases(suite: str, results: Sequence[CheckResult]) -> list[ReportCase]:
    """One case per check, in the run file's order."""
    cases = []
    for index, result in enumerate(results):
        view, verdict = result.evaluation, result.verdict
        could_not_run = view.status in (EvaluationStatus.FAILED, EvaluationStatus.CANCELLED) or (
            (view.summary or {}).get("counts", {}).get("scored") == 0
        )
        status: CaseStatus = "passed" if verdict.passed else "error" if could_not_run else "failed"
        cases.append(
            ReportCase(
                suite=suite,
                name=check_label(index, result.check),
                status=status,
                message=verdict.result,
                needs=verdict.needs,
                detail=f"evaluation {view.id} {view.status.value}"
                + (f": {view.error}" if view.error else ""),
                seconds=_seconds(view),
            )
        )
    return cases


def probe_cases(suite: str, result: CheckResult, items: Sequence[ItemDetail]) -> list[ReportCase]:
    """One case per probe of a scan, in a suite per dimension (``input.probe`` indexes the probes).

    ``suite`` names the one case of a scan that could not run at all.
    """
    view = result.evaluation
    if view.status is EvaluationStatus.FAILED or not items:
        return check_cases(suite, [result])
    probes: list[dict[str, Any]] = view.spec.params.get("probes", [])
    failures = {f["probe_id"]: f for f in (view.summary or {}).get("failures", [])}
    cases = []
    for item in sorted(items, key=lambda i: i.seq):
        probe = probes[int(item.input["probe"])]
        failure = failures.get(probe["id"])
        seconds = (
            (item.finished_at - item.started_at).total_seconds()
            if item.started_at and item.finished_at
            else None
        )
        common = {"suite": probe["category"], "name": probe["id"], "seconds": seconds}
        if item.state is ItemState.PASSED:
            cases.append(ReportCase(status="passed", message="passed", **common))
        elif item.state in _NOT_VERIFIED or failure is None:
            reason = (item.error or {}).get("message") or item.state.value.replace("_", " ")
            cases.append(ReportCase(status="error", message=f"not verified: {reason}", **common))
        else:
            response = failure.get("response")
            cases.append(
                ReportCase(
                    status="failed",
                    message=f"{failure['severity']} severity: {failure.get('reason') or 'failed'}",
                    detail=f"prompt:\n{failure.get('prompt') or ''}\n\nresponse:\n"
                    + (response if response is not None else "(no response: the agent failed)"),
                    **common,
                )
            )
    return cases
