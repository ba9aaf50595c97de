"""The toolkit kinds share: judges, per-item metrics and traces, and the counting rules.

Any kind may use it (the eval-runs kinds, harnesses, scenarios, ...). Summaries follow one
set of counting rules:

- ``infra_error`` and ``cancelled`` items are left out of scores and pass rates and only
  counted (they say nothing about the agent);
- ``errored`` and ``timed_out`` items are the agent's failures: they are scored as the lowest
  score and as failed, with the item's error as the reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from assay.core.errors import ConfigurationError
from assay.core.llm import ChatMessage
from assay.core.outcome import ItemRecord, Metrics, NormalizedResponse
from assay.core.states import SCORED_ITEM_STATES, ItemState
from assay.kinds.base import LLM, ItemContext
from assay.scoring import stats
from assay.scoring.judge import Verdict

#: Agent failures: scored as the lowest score / failed.
AGENT_FAILURE_STATES = frozenset({ItemState.ERRORED, ItemState.TIMED_OUT})
#: The score an agent failure counts as on the 1-10 scale.
LOWEST_SCORE = 1


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


class Counts:
    """The ``counts`` block of every summary, by terminal state, tallied one item at a time."""

    def __init__(self) -> None:
        self._states: Counter[str] = Counter()
        self._scored = 0

    def add(self, item: ItemRecord) -> None:
        self._states[item.state] += 1
        self._scored += is_scored(item)

    def result(self) -> dict[str, int]:
        return {
            "total": self._states.total(),
            "scored": self._scored,
            "passed": self._states[ItemState.PASSED],
            "failed": self._states[ItemState.FAILED],
            "errored": self._states[ItemState.ERRORED],
            "timed_out": self._states[ItemState.TIMED_OUT],
            "infra_error": self._states[ItemState.INFRA_ERROR],
            "cancelled": self._states[ItemState.CANCELLED],
        }


def count_items(items: Iterable[ItemRecord]) -> dict[str, int]:
    """The ``counts`` block of every summary, by terminal state."""
    counts = Counts()
    for item in items:
        counts.add(item)
    return counts.result()


class Usage:
    """Tokens and cost summed over the items that recorded an outcome; their mean latency."""

    def __init__(self) -> None:
        self._input_tokens = 0
        self._output_tokens = 0
        self._cost_usd = 0.0
        self._latencies: list[float] = []

    def add(self, item: ItemRecord) -> None:
        if item.outcome is not None:
            metrics = item.outcome.metrics
            self._input_tokens += metrics.input_tokens
            self._output_tokens += metrics.output_tokens
            self._cost_usd += metrics.cost_usd
            self._latencies.append(metrics.latency_ms)

    def result(self) -> dict[str, Any]:
        return {
            "input_tokens": self._input_tokens,
            "output_tokens": self._output_tokens,
            "cost_usd": self._cost_usd,
            "latency_ms_mean": stats.mean(self._latencies) if self._latencies else None,
        }


def usage_summary(items: Iterable[ItemRecord]) -> dict[str, Any]:
    """Tokens and cost summed over the items that recorded an outcome; their mean latency."""
    usage = Usage()
    for item in items:
        usage.add(item)
    return usage.result()


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
