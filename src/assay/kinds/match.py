"""``match``: a data set of cases, each answer checked by a rule, no judge.

Where a rule can decide (the expected answer is known and must appear exactly, as a
substring, or match a pattern), a judge adds cost, latency and noise. Each case is one item
(times ``num_iterations``), so large data sets run concurrently and resume after a crash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict, override

from assay.core.errors import ValidationFailed
from assay.core.outcome import ItemRecord, Outcome, Score
from assay.core.spec import EvaluationSpec, ItemPlan
from assay.core.verdict import CheckVerdict, Thresholds
from assay.kinds.base import ItemContext, ItemKey, Kind, Summary
from assay.kinds.repeats import PassK
from assay.kinds.toolkit import (
    Counts,
    Usage,
    item_metrics,
    pass_rate_percent,
    response_trace,
    wilson_percent,
)
from assay.kinds.verdicts import pass_rate_verdict
from assay.scoring.patterns import compile_pattern

#: Failures listed in the summary; the rest stay on their items.
MAX_LISTED_FAILURES = 20


@with_config(ConfigDict(extra="forbid"))
class Case(TypedDict):
    """One case, validated into a plain dict: a data set of 100,000 builds no models."""

    input: Annotated[str, Field(min_length=1)]
    expected_output: str


#: Texts up to this length are matched on the event loop (microseconds); longer ones on a
#: thread, whose hand-off costs more than matching a short answer.
INLINE_MATCH_CHARS = 16_384


class MatchOptions(BaseModel):
    """How answers are matched: the params without the cases, which live on the items."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["exact", "includes", "regex"] = Field(
        default="exact",
        description=(
            "`exact`: the whole answer equals the expected one; `includes`: it contains it; "
            "`regex`: it matches it as a pattern."
        ),
    )
    case_sensitive: bool = Field(
        default=False,
        description=(
            "Compare letters' case too (exact and includes trim surrounding whitespace either way)."
        ),
    )
    num_iterations: int = Field(
        default=1, ge=1, le=100, description="Runs of every case, each in a fresh session."
    )


class MatchParams(MatchOptions):
    cases: list[Case] = Field(
        min_length=1, max_length=100_000, description="The inputs and their expected answers."
    )


def matches(output: str, expected: str, mode: str, case_sensitive: bool) -> bool:
    """True when ``output`` satisfies ``expected`` under ``mode``.

    ``regex`` runs on RE2 (linear time; see ``scoring/patterns.py``).
    """
    if mode == "regex":
        return compile_pattern(expected, case_sensitive).search(output) is not None
    got, want = output.strip(), expected.strip()
    if not case_sensitive:
        got, want = got.casefold(), want.casefold()
    return got == want if mode == "exact" else want in got


class MatchKind(Kind[MatchParams]):
    name = "match"
    Params = MatchParams
    #: Each item carries its case: the engine never holds a data set's cases.
    item_fields = ("cases",)

    @override
    def validate_params(self, params: dict[str, Any]) -> MatchParams:
        parsed = super().validate_params(params)
        if parsed.mode == "regex":
            for index, case in enumerate(parsed.cases):
                try:
                    compile_pattern(case["expected_output"], parsed.case_sensitive)
                except ValueError as exc:
                    raise ValidationFailed.for_field(
                        ("cases", index, "expected_output"), str(exc)
                    ) from None
        return parsed

    @override
    def plan(self, spec: EvaluationSpec) -> list[ItemPlan]:
        # The planner validated these params: a data set is not parsed into models again.
        params = spec.params
        return [
            ItemPlan(
                input={
                    "case": index,
                    "iteration": iteration,
                    "input": case["input"],
                    "expected_output": case["expected_output"],
                }
            )
            for index, case in enumerate(params["cases"])
            for iteration in range(1, params.get("num_iterations", 1) + 1)
        ]

    @override
    def engine_params(self, params: dict[str, Any]) -> MatchOptions:
        return MatchOptions.model_validate(
            {key: value for key, value in params.items() if key not in self.item_fields}
        )

    @override
    def item_keys(
        self, spec: EvaluationSpec, inputs: Sequence[dict[str, Any]]
    ) -> list[ItemKey | None]:
        """A case by its input text (its position may differ between two case lists)."""
        return [ItemKey(value["input"]) for value in inputs]

    @override
    async def run_item(self, item: ItemPlan, ctx: ItemContext) -> Outcome:
        params = ctx.params
        assert isinstance(params, MatchOptions)
        question, expected = item.input["input"], item.input["expected_output"]
        response = await ctx.target.invoke(question, session_id=ctx.item_id)
        arguments = (response.output, expected, params.mode, params.case_sensitive)
        if len(response.output) + len(expected) <= INLINE_MATCH_CHARS:
            passed = matches(*arguments)
        else:  # a long answer costs milliseconds per megabyte: on a worker thread, off the loop
            passed = await asyncio.to_thread(matches, *arguments)
        return Outcome(
            passed=passed,
            scores=[
                Score(
                    name=f"match_{params.mode}",
                    value=1.0 if passed else 0.0,
                    scale="binary",
                    passed=passed,
                )
            ],
            metrics=item_metrics(ctx, response),
            trace=response_trace(question, response),
            data={"case": item.input["case"], "output": response.output, "passed": passed},
        )

    @override
    def verdict(self, summary: dict[str, Any], thresholds: Thresholds) -> CheckVerdict:
        return pass_rate_verdict(summary, thresholds)

    @override
    def summarise(self, spec: EvaluationSpec, items: Sequence[ItemRecord]) -> dict[str, Any]:
        summary = self.start_summary(spec)
        for item in sorted(items, key=lambda i: i.seq):
            summary.add(item)
        return summary.result()

    @override
    def start_summary(self, spec: EvaluationSpec) -> Summary:
        return MatchSummary(self.engine_params(spec.params))


class MatchSummary(Summary):
    """Tallies, and the first failures in ``seq`` order: a data set's items are never held."""

    def __init__(self, params: MatchOptions) -> None:
        self._params = params
        self._counts = Counts()
        self._usage = Usage()
        self._pass_k = PassK()
        self._failures: list[dict[str, Any]] = []

    @override
    def add(self, item: ItemRecord) -> None:
        self._counts.add(item)
        self._usage.add(item)
        self._pass_k.add(item)
        failed = item.state in ("failed", "errored", "timed_out")
        if failed and len(self._failures) < MAX_LISTED_FAILURES:
            self._failures.append(
                {
                    "input": item.input["input"],
                    "expected_output": item.input["expected_output"],
                    "output": item.outcome.data.get("output") if item.outcome else None,
                    "reason": item.error.message if item.error else "the answer did not match",
                }
            )

    @override
    def result(self) -> dict[str, Any]:
        counts = self._counts.result()
        return {
            "mode": self._params.mode,
            "pass_rate": pass_rate_percent(counts["passed"], counts["scored"]),
            "pass_rate_ci95": wilson_percent(counts["passed"], counts["scored"]),
            "pass_k": self._pass_k.result(),
            "failures": self._failures,
            "counts": counts,
            "usage": self._usage.result(),
        }
