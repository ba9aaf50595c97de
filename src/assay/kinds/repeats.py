"""pass^k and pass@1: what repeated runs of the same case say about a flaky agent.

A check that runs each case k times (``num_iterations: k``) measures two things. ``pass@1``
is the chance one run passes: the pass rate over every scored run. ``pass^k`` (tau-bench's
consistency measure) is the share of cases whose k runs *all* passed: an agent that answers
a case right two times in three has a pass@1 of 67% but that case fails pass^3.

A case with a run that could not be scored (infrastructure error, cancelled) says nothing
about all k runs, so it is left out of pass^k and counted as ``excluded_cases``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from assay.core.outcome import ItemRecord
from assay.core.states import ItemState
from assay.kinds.toolkit import is_scored, pass_rate_percent, wilson_percent


class PassK:
    """pass^k over items grouped by ``input["case"]`` (one case when there is none), tallied.

    Per case it keeps three numbers, not the items: how many runs, whether all were scored,
    whether all passed.
    """

    def __init__(self) -> None:
        #: case -> [runs, all scored, all passed]
        self._cases: dict[Any, list[int]] = {}

    def add(self, item: ItemRecord) -> None:
        runs = self._cases.setdefault(item.input.get("case"), [0, True, True])
        runs[0] += 1
        runs[1] = runs[1] and is_scored(item)
        runs[2] = runs[2] and item.state == ItemState.PASSED

    def result(self) -> dict[str, Any]:
        """``k``: the most runs of any case; ``rate`` (percent) and ``ci95`` None if none is complete."""
        complete = [runs for runs in self._cases.values() if runs[1]]
        passed = sum(1 for runs in complete if runs[2])
        return {
            "k": max((runs[0] for runs in self._cases.values()), default=0),
            "cases": len(complete),
            "passed_cases": passed,
            "excluded_cases": len(self._cases) - len(complete),
            "rate": pass_rate_percent(passed, len(complete)),
            "ci95": wilson_percent(passed, len(complete)),
        }


def pass_k_block(items: Iterable[ItemRecord]) -> dict[str, Any]:
    """pass^k over the items grouped by ``input["case"]`` (see :class:`PassK`)."""
    pass_k = PassK()
    for item in items:
        pass_k.add(item)
    return pass_k.result()
