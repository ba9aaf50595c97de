"""The ``scenario`` kind's parameters: scenarios, personas and the runs to make of them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assay.core.errors import ValidationFailed
from assay.core.spec import ModelRef


class ScenarioSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    instructions: str = Field(
        min_length=1,
        description="What the simulated user wants and knows (the situation and the goal).",
    )
    max_messages: int = Field(
        default=10,
        ge=1,
        le=100,
        description=(
            "User and agent messages together; the conversation stops when it reaches this."
        ),
    )
    success_criteria: str | None = Field(
        default=None, description="What the agent must do; one criterion per line."
    )
    failure_criteria: str | None = Field(
        default=None, description="What the agent must not do; one criterion per line."
    )


class PersonaSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str | None = Field(
        default=None, description="Who the user is, how they talk and what they know."
    )
    traits: dict[str, Any] = Field(
        default_factory=dict, description="E.g. patience, verbosity, language, tech_savviness."
    )


class RunPair(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario_id: str
    persona_id: str


class ScenarioParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenarios: list[ScenarioSpec] = Field(min_length=1)
    personas: list[PersonaSpec] = Field(min_length=1)
    runs: list[RunPair] = Field(
        min_length=1,
        max_length=10_000,
        description="One item per pair, in this order; a pair may repeat (repeated trials).",
    )
    simulator: ModelRef = Field(description="The simulated user's model.")
    audit: bool = Field(
        default=True,
        description=(
            "Check the simulated user's fidelity; unfaithful runs become ``simulator_error``."
        ),
    )

    def scenario(self, scenario_id: str) -> ScenarioSpec:
        return next(s for s in self.scenarios if s.id == scenario_id)

    def persona(self, persona_id: str) -> PersonaSpec:
        return next(p for p in self.personas if p.id == persona_id)


def check_references(params: ScenarioParams) -> None:
    """Ids are unique and every run names a known scenario and persona.

    Raises:
        ValidationFailed: naming the field (``runs.3.scenario_id: unknown scenario 'x'``,
            ``personas.1.id: duplicates personas.0.id 'calm'``).
    """
    ids: dict[str, list[str]] = {
        "scenarios": [s.id for s in params.scenarios],
        "personas": [p.id for p in params.personas],
    }
    for field, listed in ids.items():
        seen: dict[str, int] = {}
        for index, entry_id in enumerate(listed):
            if entry_id in seen:
                raise ValidationFailed.for_field(
                    (field, index, "id"), f"duplicates {field}.{seen[entry_id]}.id {entry_id!r}"
                )
            seen[entry_id] = index
    scenario_ids, persona_ids = set(ids["scenarios"]), set(ids["personas"])
    for index, run in enumerate(params.runs):
        if run.scenario_id not in scenario_ids:
            raise ValidationFailed.for_field(
                ("runs", index, "scenario_id"), f"unknown scenario {run.scenario_id!r}"
            )
        if run.persona_id not in persona_ids:
            raise ValidationFailed.for_field(
                ("runs", index, "persona_id"), f"unknown persona {run.persona_id!r}"
            )
