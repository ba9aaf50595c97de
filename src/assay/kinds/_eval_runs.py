"""Shared parts of the four eval-runs kinds of seed 001.

``accuracy``, ``agent_as_judge``, ``performance`` and ``reliability`` each run the same
input through the target ``num_iterations`` times, one item per iteration, each in a fresh
session. This module holds their common parameters, the friendly validation messages, the
per-item metrics and trace, and the counting rules of summaries:

- ``infra_error`` and ``cancelled`` items are left out of scores and pass rates and only
  counted (they say nothing about the agent);
- ``errored`` and ``timed_out`` items are the agent's failures: they are scored as the lowest
  score and as failed, with the item's error as the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, TypeVar

import annotated_types
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from typing_extensions import override

from assay.core.errors import ConfigurationError, ValidationFailed
from assay.core.llm import ChatMessage
from assay.core.outcome import ItemRecord, Metrics, NormalizedResponse
from assay.core.spec import EvaluationSpec, ItemPlan
from assay.core.states import SCORED_ITEM_STATES, ItemState
from assay.kinds.base import LLM, ItemContext, Kind
from assay.scoring import stats
from assay.scoring.judge import Verdict

#: Agent failures: scored as the lowest score / failed.
AGENT_FAILURE_STATES = frozenset({ItemState.ERRORED, ItemState.TIMED_OUT})
#: The score an agent failure counts as on the 1-10 scale.
LOWEST_SCORE = 1


class EvalRunParams(BaseModel):
    """Parameters every eval-runs kind takes.

    Unknown keys are ignored, so a dialect may pass its whole request; ``None`` values mean
    "use the default".
    """

    model_config = ConfigDict(use_attribute_docstrings=True, extra="ignore")

    input: str = Field(min_length=1)
    """The input given to the agent on every iteration."""
    num_iterations: int = Field(default=1, ge=1, le=100)
    """How many times the input is run, each time in a fresh session."""


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
    if kind == "missing":
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


def require_judge(ctx: ItemContext, label: str) -> LLM:
    """The context's judge; ConfigurationError when the engine did not provide one."""
    if ctx.judge is None:
        raise ConfigurationError(f"{label} evaluations need a judge model")
    return ctx.judge


def target_model_label(ctx: ItemContext, response: NormalizedResponse) -> str | None:
    """The ``provider/model`` label to price the target's usage with, when it is known."""
    if ctx.spec.target.model is not None:
        return ctx.spec.target.model.label
    if response.model and "/" in response.model:
        return response.model
    if ctx.spec.target.kind == "openai-chat" and response.model:
        return f"openai/{response.model}"  # an OpenAI-compatible endpoint names OpenAI's models
    return None


def item_metrics(
    ctx: ItemContext,
    response: NormalizedResponse,
    verdict: Verdict | None = None,
    latency_ms: float | None = None,
    memory_peak_bytes: int | None = None,
) -> Metrics:
    """Latency of the target; tokens and cost of the target and the judge together."""
    usage = response.usage
    cost = ctx.cost(target_model_label(ctx, response), response.usage)
    if verdict is not None:
        usage = usage + verdict.usage
        cost += ctx.cost(ctx.judge.label if ctx.judge else None, verdict.usage)
    return Metrics(
        latency_ms=response.latency_ms if latency_ms is None else latency_ms,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=cost,
        memory_peak_bytes=memory_peak_bytes,
    )


def response_trace(input: str, response: NormalizedResponse) -> dict[str, Any]:
    """The target's side of an item's trace."""
    return {
        "input": input,
        "output": response.output,
        "tool_calls": [call.model_dump() for call in response.tool_calls],
        "messages": response.messages,
        "model": response.model,
        "usage": response.usage.model_dump(),
        "latency_ms": response.latency_ms,
    }


def judge_trace(ctx: ItemContext, verdict: Verdict) -> dict[str, Any]:
    """The judge's side of an item's trace: what it was sent and what it answered."""
    return {
        "model": ctx.judge.label if ctx.judge else None,
        "messages": [_message_dict(m) for m in verdict.messages],
        "raw": verdict.raw,
        "score": verdict.score,
        "passed": verdict.passed,
        "reason": verdict.reason,
        "attempts": verdict.attempts,
        "usage": verdict.usage.model_dump(),
        "latency_ms": verdict.latency_ms,
    }


def _message_dict(message: ChatMessage) -> dict[str, Any]:
    return {"role": message.role, "content": message.content}


def ordered(items: Sequence[ItemRecord]) -> list[ItemRecord]:
    """Items in ``seq`` order (summaries must not depend on the order they were given in)."""
    return sorted(items, key=lambda item: item.seq)


def is_scored(item: ItemRecord) -> bool:
    """True when the item counts towards scores (not infra_error, cancelled or unfinished)."""
    return item.state in SCORED_ITEM_STATES


def is_agent_failure(item: ItemRecord) -> bool:
    """True for scored items that produced no usable outcome (errored, timed out)."""
    return item.state in AGENT_FAILURE_STATES or item.outcome is None or not item.outcome.data


def failure_reason(item: ItemRecord) -> str:
    """Why a failed item has no result, from its stored error."""
    if item.error is not None:
        return item.error.message
    if item.state == ItemState.TIMED_OUT:
        return "the item's deadline passed"
    if item.state == ItemState.ERRORED:
        return "the agent failed"
    return "no outcome was recorded"


def count_items(items: Iterable[ItemRecord]) -> dict[str, int]:
    """The ``counts`` block of every summary, by terminal state."""
    records = list(items)
    by_state = {state: sum(1 for item in records if item.state == state) for state in ItemState}
    return {
        "total": len(records),
        "scored": sum(1 for item in records if is_scored(item)),
        "passed": by_state[ItemState.PASSED],
        "failed": by_state[ItemState.FAILED],
        "errored": by_state[ItemState.ERRORED],
        "timed_out": by_state[ItemState.TIMED_OUT],
        "infra_error": by_state[ItemState.INFRA_ERROR],
        "cancelled": by_state[ItemState.CANCELLED],
    }


def usage_summary(items: Iterable[ItemRecord]) -> dict[str, Any]:
    """Tokens and cost summed over the items that recorded an outcome; their mean latency."""
    metrics = [item.outcome.metrics for item in items if item.outcome is not None]
    latencies = [m.latency_ms for m in metrics]
    return {
        "input_tokens": sum(m.input_tokens for m in metrics),
        "output_tokens": sum(m.output_tokens for m in metrics),
        "cost_usd": sum(m.cost_usd for m in metrics),
        "latency_ms_mean": stats.mean(latencies) if latencies else None,
    }


def pass_rate_percent(passed: int, scored: int) -> float | None:
    """Pass rate in percent (0-100); None when nothing was scored."""
    return passed / scored * 100 if scored else None


def wilson_percent(passed: int, scored: int) -> dict[str, float] | None:
    """Wilson 95% interval of the pass rate, in percent; None when nothing was scored."""
    interval = stats.wilson_ci95(passed, scored)
    if interval is None:
        return None
    return {"lower": interval.lower * 100, "upper": interval.upper * 100}


def score_stats(scores: Sequence[float]) -> dict[str, float | None]:
    """avg/min/max/std_dev of 1-10 scores (Agno's names); all None when there are none."""
    if not scores:
        return {"avg_score": None, "min_score": None, "max_score": None, "std_dev_score": None}
    return {
        "avg_score": stats.mean(scores),
        "min_score": min(scores),
        "max_score": max(scores),
        "std_dev_score": stats.stdev(scores),
    }
