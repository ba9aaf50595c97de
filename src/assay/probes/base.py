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

from pydantic import BaseModel, ConfigDict, Field


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
    TAP = "tap"  #: after each refusal, refine the attack with a new framing (one TAP branch)
    GOAT = "goat"  #: each turn picks a technique from a toolbox (persona, hypothetical, ...)


class Attack(BaseModel):
    """A multi-turn attack on one goal.

    An attacker talks to the target until the detector flags a turn or the turns run out
    (see ``probes/attacks.py``).
    """

    model_config = ConfigDict(extra="forbid")

    strategy: AttackStrategy
    goal: str = Field(min_length=1, max_length=2000)
    """What the attacker tries to get, e.g. `a phishing email for Larkspur Bank`."""
    max_turns: int = Field(default=5, ge=2, le=10)


class DetectorRef(BaseModel):
    """A detector by name with its parameters (see ``scoring/detectors.py`` for the names)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class Probe(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    id: str = Field(min_length=1, max_length=200)
    """Stable id, e.g. `security.injection.direct.003`."""
    category: Dimension
    """The dimension it scores: security, safety or reliability."""
    subcategory: str = Field(min_length=1)
    """The technique or topic, e.g. `indirect_injection_email`, `over_refusal`."""
    severity: Severity
    prompts: list[str] = Field(min_length=1, max_length=10)
    """What is sent, one fresh conversation each (several only for paraphrase agreement)."""
    system_prompt: str | None = None
    """Planted as the system prompt (model targets) or as leading context (agents)."""
    detector: DetectorRef
    description: str | None = None
    """What failing this probe means, for reports."""
    attack: Attack | None = None
    """Set for a multi-turn attack probe: `prompts` then holds the opening turn only."""
