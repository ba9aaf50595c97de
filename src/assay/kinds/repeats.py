"""pass^k and pass@1: what repeated runs of the same case say about a flaky agent.

A check that runs each case k times (``num_iterations: k``) measures two things. ``pass@1``
is the chance one run passes: the pass rate over every scored run. ``pass^k`` (tau-bench's
consistency measure) is the share of cases whose k runs *all* passed: an agent that answers
a case right two times in three has a pass@1 of 67% but that case fails pass^3.

A case with a run that could not be scored (infrastructure error, cancelled) says nothing
about all k runs, so it is left out of pass^k and counted as ``excluded_cases``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assay.core.outcome import ItemRecord
from assay.core.states import ItemState
from assay.kinds.toolkit import is_scored, pass_rate_percent, wilson_percent


def pass_k_block(items: Sequence[ItemRecord]) -> dict[str, Any]:
    """pass^k over the items grouped by ``input["case"]`` (one case when there is none).

    ``k`` is the most runs any case has; ``rate`` is in percent and ``ci95`` its Wilson
    interval, both ``None`` when no case was complete.
    """
    cases: dict[Any, list[ItemRecord]] = {}
    for item in items:
        cases.setdefault(item.input.get("case"), []).append(item)
    complete = [runs for runs in cases.values() if all(is_scored(run) for run in runs)]
    passed = sum(all(run.state == ItemState.PASSED for run in runs) for runs in complete)
    return {
        "k": max((len(runs) for runs in cases.values()), default=0),
        "cases": len(complete),
        "passed_cases": passed,
        "excluded_cases": len(cases) - len(complete),
        "rate": pass_rate_percent(passed, len(complete)),
        "ci95": wilson_percent(passed, len(complete)),
    }
