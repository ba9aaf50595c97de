"""Real pieces for kind tests: targets implementing TargetHandle, a labelled judge, a runner.

``run_evaluation`` plays the engine's part in the smallest honest way: plan, run each item in
order with a fresh ItemContext, classify exceptions as the engine's table does, and hand the
records to ``summarise``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from assay.core.errors import AssayError, ProviderError, TargetError
from assay.core.llm import ChatRequest, ChatResponse
from assay.core.outcome import ItemError, ItemRecord, NormalizedResponse, Outcome, Usage
from assay.core.spec import EvaluationSpec, ItemPlan, ModelRef, TargetSpec
from assay.core.states import ItemState
from assay.examples import calculator
from assay.kinds.base import ItemContext, Kind

JUDGE_LABEL = "openai/judge-model"
TARGET_LABEL = "openai/target-model"
#: USD per token, per model label, for the test's cost function.
PRICES = {JUDGE_LABEL: 0.001, TARGET_LABEL: 0.01}
TARGET_USAGE = Usage(input_tokens=3, output_tokens=2)


def price(label: str | None, usage: Usage) -> float:
    return PRICES.get(label or "", 0.0) * usage.total_tokens


class CalculatorTarget:
    """The bundled calculator agent, called in this process."""

    in_process = True

    def __init__(self) -> None:
        self.sessions: list[str] = []

    async def invoke(self, input: str, *, session_id: str) -> NormalizedResponse:
        self.sessions.append(session_id)
        answer = calculator.agent(input, session_id)
        return NormalizedResponse.model_validate(
            {**answer, "usage": TARGET_USAGE.model_dump(), "latency_ms": 12.5, "model": "calc"}
        )


class CannedTarget:
    """A remote-looking target replaying canned responses or raising canned errors, in order."""

    def __init__(self, *replies: NormalizedResponse | Exception, in_process: bool = False) -> None:
        self.replies = list(replies)
        self.in_process = in_process
        self.sessions: list[str] = []

    async def invoke(self, input: str, *, session_id: str) -> NormalizedResponse:
        self.sessions.append(session_id)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply


class LabelledLLM:
    """A provider as the engine hands it to kinds: with its ``provider/model`` label."""

    def __init__(self, provider: Any, label: str = JUDGE_LABEL) -> None:
        self.provider = provider
        self.label = label

    async def generate(self, request: ChatRequest) -> ChatResponse:
        response: ChatResponse = await self.provider.generate(request)
        return response


def make_spec(kind: str, params: dict[str, Any], model_target: bool = False) -> EvaluationSpec:
    if model_target:
        target = TargetSpec(kind="model", model=ModelRef(provider="openai", model="target-model"))
    else:
        target = TargetSpec(kind="python", name="calculator")
    return EvaluationSpec(kind=kind, target=target, params=params)


def make_ctx(
    spec: EvaluationSpec,
    target: Any,
    judge: Any = None,
    seq: int = 1,
    cost: Callable[[str | None, Usage], float] = price,
) -> ItemContext:
    return ItemContext(
        evaluation_id="ev-1",
        item_id=f"item-{seq}",
        seq=seq,
        attempt=1,
        spec=spec,
        target=target,
        judge=judge,
        cost=cost,
    )


async def run_item_record(
    kind: Kind[Any], spec: EvaluationSpec, plan: ItemPlan, seq: int, target: Any, judge: Any
) -> ItemRecord:
    """Run one item and store it the way the engine does (state from the outcome or error)."""
    try:
        outcome = await kind.run_item(plan, make_ctx(spec, target, judge, seq=seq))
    except TargetError as exc:
        return record(seq, ItemState.ERRORED, input=plan.input, error=exc)
    except ProviderError as exc:
        return record(seq, ItemState.INFRA_ERROR, input=plan.input, error=exc)
    state = ItemState.FAILED if outcome.passed is False else ItemState.PASSED
    return record(seq, state, input=plan.input, outcome=outcome)


async def run_evaluation(
    kind: Kind[Any], spec: EvaluationSpec, target: Any, judge: Any = None
) -> tuple[list[ItemRecord], dict[str, Any]]:
    plans = kind.plan(spec)
    records = [
        await run_item_record(kind, spec, plan, seq, target, judge)
        for seq, plan in enumerate(plans, start=1)
    ]
    return records, kind.summarise(spec, records)


def record(
    seq: int,
    state: ItemState,
    input: dict[str, Any] | None = None,
    outcome: Outcome | None = None,
    error: AssayError | str | None = None,
) -> ItemRecord:
    """A stored item as a kind's summary sees it (an outcome goes through its JSON form)."""
    item_error = None
    if isinstance(error, AssayError):
        item_error = ItemError(code=error.code, message=error.message)
    elif isinstance(error, str):
        item_error = ItemError(code="test", message=error)
    stored = Outcome.model_validate(outcome.model_dump(mode="json")) if outcome else None
    return ItemRecord(
        seq=seq,
        state=state.value,
        input=input or {"iteration": seq},
        outcome=stored,
        error=item_error,
    )


def outcome_with(data: dict[str, Any], passed: bool | None = True, **metrics: Any) -> Outcome:
    return Outcome.model_validate({"passed": passed, "data": data, "metrics": metrics})


def names(records: Sequence[ItemRecord]) -> list[str]:
    return [r.state for r in records]
