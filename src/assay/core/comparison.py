"""A comparison of two evaluations as services hand it to the API, the CLI and the web UI.

The *baseline* is the evaluation compared against (the last release, yesterday's run), the
*candidate* the new one. Every difference is ``candidate - baseline``; a verdict says
whether the candidate is ``better``, ``worse`` or shows ``no significant difference`` at the
5% level (see ``scoring/paired.py`` for the tests).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class Verdict(StrEnum):
    """What a comparison concludes about the candidate against the baseline."""

    BETTER = "better"
    WORSE = "worse"
    NO_SIGNIFICANT_DIFFERENCE = "no significant difference"


class EvaluationRef(BaseModel):
    id: str
    name: str | None
    kind: str
    status: str
    target: str | None
    created_at: datetime


class PassFailComparison(BaseModel):
    """McNemar's exact test of the paired pass/fail outcomes."""

    n: int
    baseline_pass_rate: float
    candidate_pass_rate: float
    #: Candidate pass rate minus baseline pass rate (-1..1).
    difference: float
    #: Newcombe's 95% interval of the difference, [lower, upper].
    ci95: tuple[float, float]
    #: Pairs only the baseline passed (regressions) and only the candidate passed (fixes).
    baseline_only: int
    candidate_only: int
    p_value: float
    verdict: Verdict


class ScoreComparison(BaseModel):
    """A paired bootstrap of one score's mean difference."""

    name: str
    scale: str
    #: False for costs such as run time or taps: a negative difference is then better.
    higher_is_better: bool
    n: int
    baseline_mean: float
    candidate_mean: float
    difference: float
    ci95: tuple[float, float]
    verdict: Verdict


class GroupComparison(BaseModel):
    """The comparison over all paired items (``group`` None) or one dimension or category.

    ``verdict`` is the pass/fail test's when it finds a difference, else the score's when
    there is a score, else the pass/fail test's; it is ``no significant difference`` when
    nothing could be paired.
    """

    group: str | None = None
    pairs: int
    pass_fail: PassFailComparison | None = None
    score: ScoreComparison | None = None
    verdict: Verdict


class ItemPair(BaseModel):
    key: str
    group: str | None
    baseline_item: str
    candidate_item: str
    baseline_passed: bool | None
    candidate_passed: bool | None
    baseline_score: float | None = None
    candidate_score: float | None = None
    #: ``fixed`` (only the candidate passed), ``broken`` (only the baseline), ``same``.
    change: Literal["fixed", "broken", "same"]


class UnpairedItem(BaseModel):
    key: str
    group: str | None
    side: Literal["baseline", "candidate"]
    item: str
    #: Why it is not compared ("not in the candidate", "infra_error in the baseline").
    reason: str


class Comparison(BaseModel):
    kind: str
    baseline: EvaluationRef
    candidate: EvaluationRef
    overall: GroupComparison
    groups: list[GroupComparison] = Field(default_factory=list)
    pairs: list[ItemPair] = Field(default_factory=list)
    unpaired: list[UnpairedItem] = Field(default_factory=list)
