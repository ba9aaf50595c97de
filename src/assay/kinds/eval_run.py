"""The base of the four eval-runs kinds of seed 001.

``accuracy``, ``agent_as_judge``, ``performance`` and ``reliability`` each run the same
input through the target ``num_iterations`` times, one item per iteration, each in a fresh
session. This module holds their common parameters and the friendly validation messages
(``num_iterations must be between 1 and 100``) the seed's clients expect.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

import annotated_types
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from typing_extensions import override

from assay.core.errors import ValidationFailed
from assay.core.spec import EvaluationSpec, ItemPlan
from assay.core.validation_messages import friendly_message
from assay.kinds.base import Kind


class EvalRunParams(BaseModel):
    """Parameters every eval-runs kind takes.

    Unknown keys are refused with the closest known one (a typo such as ``num_iteratons``
    must not silently run once); ``None`` values mean "use the default".
    """

    model_config = ConfigDict(extra="forbid")

    input: str = Field(min_length=1, description="The input given to the agent on every iteration.")
    num_iterations: int = Field(
        default=1,
        ge=1,
        le=100,
        description="How many times the input is run, each time in a fresh session.",
    )


P = TypeVar("P", bound=EvalRunParams)


class EvalRunKind(Kind[P]):
    """A Kind that runs one input ``num_iterations`` times, with friendly validation messages."""

    Params: type[P]
    #: Label used in "is required for ... evaluations" messages.
    label: ClassVar[str]

    @override
    def validate_params(self, params: dict[str, Any]) -> P:
        """Parse ``params``; raises ValidationFailed with one message per broken field.

        Messages name the field and its limit (``num_iterations must be between 1 and 100``,
        ``expected_output is required for accuracy evaluations``).
        """
        cleaned = {key: value for key, value in params.items() if value is not None}
        try:
            return self.Params.model_validate(cleaned)
        except PydanticValidationError as exc:
            errors = [_friendly_error(self.Params, error, self.label) for error in exc.errors()]
            raise ValidationFailed("; ".join(e["msg"] for e in errors), errors) from None

    @override
    def plan(self, spec: EvaluationSpec) -> list[ItemPlan]:
        """One item per iteration, numbered from 1."""
        params = self.validate_params(spec.params)
        return [ItemPlan(input={"iteration": i}) for i in range(1, params.num_iterations + 1)]


def _limits(model: type[BaseModel], name: str) -> tuple[Any, Any]:
    info = model.model_fields.get(name)
    low = high = None
    for meta in info.metadata if info else []:
        if isinstance(meta, annotated_types.Ge):
            low = meta.ge
        elif isinstance(meta, annotated_types.Le):
            high = meta.le
    return low, high


def _friendly_error(model: type[BaseModel], error: Any, label: str) -> dict[str, Any]:
    loc = list(error["loc"])
    name = ".".join(str(part) for part in loc)
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    msg: str = error["msg"]
    if kind == "extra_forbidden":
        msg = f"{name}: {friendly_message(error, model)}"
    elif kind == "missing":
        msg = f"{name} is required for {label} evaluations"
    elif kind in {"greater_than_equal", "less_than_equal"}:
        low, high = _limits(model, name)
        if low is not None and high is not None:
            msg = f"{name} must be between {low} and {high}"
        elif "ge" in ctx:
            msg = f"{name} must be at least {ctx['ge']}"
        else:
            msg = f"{name} must be at most {ctx.get('le')}"
    elif kind == "string_too_short":
        msg = f"{name} must not be empty"
    elif kind == "too_short":
        msg = f"{name} must have at least {ctx.get('min_length', 1)} item"
    elif kind == "literal_error":
        msg = f"{name} must be {ctx.get('expected', 'one of the allowed values')}"
    elif kind in {"int_type", "int_parsing", "int_from_float"}:
        msg = f"{name} must be an integer"
    elif kind == "string_type":
        msg = f"{name} must be a string"
    elif kind == "list_type":
        msg = f"{name} must be a list"
    return {"loc": loc, "msg": msg, "type": kind}
