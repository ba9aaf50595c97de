"""The validated description of an evaluation that every API dialect translates into.

A spec holds references, never objects: the target and the judge are rebuilt from it by
whichever worker runs an item, in-process or on another machine. Secrets are not part of the
spec; they travel encrypted beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assay.core.errors import ValidationFailed


class ModelRef(BaseModel):
    """A model at a provider, with generation parameters."""

    model_config = ConfigDict(protected_namespaces=())

    provider: str = Field(
        description="Provider name: `openai`, `anthropic`, `mock`, or a plugin's name."
    )
    model: str = Field(description="The provider's model id, e.g. `gpt-4o-mini`.")
    base_url: str | None = Field(
        default=None,
        description="For OpenAI-compatible servers (vLLM, Ollama, ...): the API base URL.",
    )
    temperature: float | None = None
    max_tokens: int | None = None
    system_prompt: str | None = None

    @classmethod
    def parse(cls, text: str, field: str = "model") -> ModelRef:
        """Parse ``provider/model`` once, so nothing downstream splits strings."""
        provider, sep, model = text.partition("/")
        if not sep or not provider or not model:
            raise ValidationFailed.for_field(
                (field,), f"must look like provider/model (e.g. openai/gpt-4o-mini), got {text!r}"
            )
        return cls(provider=provider.lower(), model=model)

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.model}"


class TargetSpec(BaseModel):
    """What is evaluated: a registered agent (snapshot of its config) or a bare model."""

    kind: str
    """`model`, or an agent kind: `openai-chat`, `http`, `python`."""
    agent_id: str | None = None
    name: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    """The agent's configuration without its secrets."""
    model: ModelRef | None = None
    """Set when ``kind`` is `model`."""


class Limits(BaseModel):
    item_timeout_s: float = Field(
        default=300.0, gt=0, description="Deadline of one item; past it the item is `timed_out`."
    )
    max_retries: int = Field(
        default=3,
        ge=0,
        le=10,
        description="Retries of a provider or target call that failed for infrastructure reasons.",
    )
    max_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Claims of one item; a worker that dies holding it uses one attempt.",
    )
    max_concurrency: int | None = Field(
        default=None,
        ge=1,
        description="Items of this evaluation running at once; None leaves it to the engine.",
    )


class EvaluationSpec(BaseModel):
    kind: str
    name: str | None = None
    target: TargetSpec
    judge: ModelRef | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    """The kind's own parameters, validated by the kind's ``Params`` model."""
    limits: Limits = Field(default_factory=Limits)


@dataclass(frozen=True, slots=True)
class ItemPlan:
    """One planned unit of work; ``input`` is the kind's own per-item data.

    A plain slotted class, not a model: a data set plans 100,000 of them at once, and the
    engine builds one per item it runs.
    """

    input: dict[str, Any] = field(default_factory=dict)
