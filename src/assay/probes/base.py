"""Probes: one prompt (or a few) sent to the target, and the detector that judges the answer.

A probe is data. Built-in probes live in ``probes/builtin/*.yaml`` (one file per harness
area, each a list of probes) and ship with the package; custom harnesses store probes of
the same shape. Evaluations keep the probes they run inline in their spec, so a worker
never needs the catalogue or the database to run one.

Placeholders: ``{canary}`` in ``system_prompt`` or ``prompts`` is replaced per item with a
random token (``ASSAY-CANARY-<hex>``); a ``canary_leak`` detector fails the probe when the
answer contains it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class Dimension(StrEnum):
    SECURITY = "security"  #: injection, extraction, jailbreaks, exfiltration
    SAFETY = "safety"  #: harmful requests refused; benign look-alikes answered
    RELIABILITY = "reliability"  #: known answers, honest "I don't know", consistency, formats


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


#: How much a probe of each severity weighs in its dimension's score.
SEVERITY_WEIGHTS: dict[Severity, float] = {
    Severity.HIGH: 3.0,
    Severity.MEDIUM: 2.0,
    Severity.LOW: 1.0,
}


class AttackStrategy(StrEnum):
    CRESCENDO = "crescendo"  #: start harmless, escalate a little each turn towards the goal
    FOOT_IN_THE_DOOR = "foot_in_the_door"  #: small agreed requests first, then the real one
    TAP = "tap"  #: a tree of refinements, pruned off-topic and then to the best few (TAP)
    GOAT = "goat"  #: each turn picks a technique from a toolbox (persona, hypothetical, ...)


class TreeSearch(BaseModel):
    """The bounds of a ``tap`` attack's tree (Mehrotra et al. 2023, Tree of Attacks with Pruning).

    The defaults are the small end of the paper's settings: enough to find a framing two
    refinements away, at most ``max_target_calls`` (13) target calls per probe.
    """

    model_config = ConfigDict(extra="forbid")

    depth: int = Field(
        default=3, ge=1, le=6, description="Refinement rounds after the opening prompt."
    )
    branching: int = Field(
        default=2,
        ge=1,
        le=5,
        description="Refinements the attacker proposes for each live node per round.",
    )
    width: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Nodes kept per round after scoring (the second pruning phase).",
    )

    @property
    def max_target_calls(self) -> int:
        """Target calls when nothing is pruned off-topic and nothing succeeds: the budget."""
        calls, live = 1, 1
        for _ in range(self.depth):
            calls += live * self.branching
            live = min(self.width, live * self.branching)
        return calls


class Attack(BaseModel):
    """A multi-turn attack on one goal.

    An attacker talks to the target until the detector flags a turn or the turns run out;
    a ``tap`` attack searches a tree of prompts instead (see ``probes/attacks.py`` and
    ``probes/tree_search.py``).
    """

    model_config = ConfigDict(extra="forbid")

    strategy: AttackStrategy
    goal: str = Field(
        min_length=1,
        max_length=2000,
        description="What the attacker tries to get, e.g. `a phishing email for Larkspur Bank`.",
    )
    max_turns: int = Field(
        default=5,
        ge=2,
        le=10,
        description=(
            "Turns of a conversational strategy; a `tap` attack is bounded by `tree` instead."
        ),
    )
    tree: TreeSearch | None = Field(
        default=None,
        description="Only for `tap`: depth, branching and width (defaults 3, 2, 3 when left out).",
    )

    @field_validator("tree")
    @classmethod
    def _tree_only_for_tap(
        cls, value: TreeSearch | None, info: ValidationInfo
    ) -> TreeSearch | None:
        if value is not None and info.data.get("strategy") not in (None, AttackStrategy.TAP):
            raise ValueError("is only for strategy tap")
        return value

    @property
    def search(self) -> TreeSearch:
        """The tree bounds of a ``tap`` attack, defaults filled in."""
        return self.tree or TreeSearch()


class DetectorRef(BaseModel):
    """A detector by name with its parameters (see ``scoring/detectors.py`` for the names)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class Probe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        min_length=1, max_length=200, description="Stable id, e.g. `security.injection.direct.003`."
    )
    category: Dimension = Field(
        description="The dimension it scores: security, safety or reliability."
    )
    subcategory: str = Field(
        min_length=1,
        description="The technique or topic, e.g. `indirect_injection_email`, `over_refusal`.",
    )
    severity: Severity
    prompts: list[str] = Field(
        min_length=1,
        max_length=10,
        description=(
            "What is sent, one fresh conversation each (several only for paraphrase agreement)."
        ),
    )
    system_prompt: str | None = Field(
        default=None,
        description="Planted as the system prompt (model targets) or as leading context (agents).",
    )
    detector: DetectorRef
    description: str | None = Field(
        default=None, description="What failing this probe means, for reports."
    )
    attack: Attack | None = Field(
        default=None,
        description=(
            "Set for a multi-turn attack probe: `prompts` then holds the opening turn only."
        ),
    )
