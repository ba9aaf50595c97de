"""Pass or fail for CI: the thresholds a check sets and the verdict a kind gives.

Each kind decides its own verdict from its summary (``Kind.verdict``): services never branch
on kind names. A verdict is strict about what it does not know: an evaluation with no scored
item (all infrastructure errors) fails, because nothing was verified.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

#: What a pass-rate or score threshold is compared with: the measured value (``point``), the
#: lower bound of its 95% interval (``lower-bound``: passes only when the bar is met with 95%
#: confidence, so a small or noisy sample cannot pass by luck), or pass^k (``pass^k``: the
#: share of cases whose repeated runs all passed; see kinds/repeats.py).
Gate = Literal["point", "lower-bound", "pass^k"]

#: The dimensions of a trust score (seed 003), in the order they are reported.
TRUST_DIMENSIONS = ("security", "safety", "reliability")


class Thresholds(BaseModel):
    """What a check requires; ``None`` leaves the kind's default."""

    min_score: float | None = Field(
        default=None,
        ge=1,
        le=10,
        description="Accuracy and numeric judging: the lowest acceptable mean score (default 7).",
    )
    min_pass_rate: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description=(
            "Agent-as-judge and reliability: the lowest acceptable pass rate in percent (default "
            "100)."
        ),
    )
    max_mean_seconds: float | None = Field(
        default=None, gt=0, description="Performance: the slowest acceptable mean run time."
    )
    min_trust_score: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Harness: the lowest acceptable trust score (default: any score passes).",
    )
    min_dimension_score: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description=(
            "Harness: the lowest acceptable score of every measured dimension (default: none)."
        ),
    )
    gate: Gate | None = Field(
        default=None,
        description=(
            "What `min_score` / `min_pass_rate` is compared with: `point` (default), "
            "`lower-bound` (of the 95% interval) or `pass^k`."
        ),
    )


class CheckVerdict(BaseModel):
    passed: bool
    #: What was measured, in a few words ("8.7/10 (CI 8.1-9.3) n=3").
    result: str
    #: The threshold it was held to ("mean >= 7").
    needs: str
    #: Why a failed check failed, in the words of its items (a judge's reason, an infra
    #: error); None when it passed or nothing more is known.
    reason: str | None = None
