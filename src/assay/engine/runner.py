"""The one item function: execute a claimed item and classify how it ended.

Every backend calls :func:`run_item` the same way; it never touches the store, so the
backend decides when and how outcomes are written (the in-process engine batches them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from assay.core.spec import ItemPlan
from assay.core.states import ItemState
from assay.engine.classify import classify
from assay.engine.runtime import EvaluationRuntime
from assay.kinds.base import ItemContext
from assay.store.repositories.items import ClaimedItem, FinishedItem


async def run_item(
    claimed: ClaimedItem,
    runtime: EvaluationRuntime,
    log: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None,
) -> FinishedItem:
    """Run one item under its deadline; cancellation propagates, everything else is data.

    ``log`` stores the steps the kind records as they happen (the backend decides where).
    """
    ctx = ItemContext(
        evaluation_id=claimed.evaluation_id,
        item_id=claimed.id,
        seq=claimed.seq,
        attempt=claimed.attempts,
        spec=runtime.spec,
        target=runtime.target_handle,
        judge=runtime.judge,
        cost=runtime.cost,
        params=runtime.params,
        llm=runtime.llm,
        **({"log": log} if log is not None else {}),
    )
    try:
        async with asyncio.timeout(runtime.spec.limits.item_timeout_s):
            outcome = await runtime.kind.run_item(ItemPlan(input=claimed.input), ctx)
    except Exception as exc:  # noqa: BLE001 - every failure becomes data on the item
        state, error = classify(exc, claimed.attempts)
        error_data = runtime.redactor.redact(error.model_dump())
        return FinishedItem(claimed.id, claimed.evaluation_id, state, None, error_data)
    state = ItemState.FAILED if outcome.passed is False else ItemState.PASSED
    outcome_data = runtime.redactor.redact(outcome.model_dump(mode="json"))
    return FinishedItem(claimed.id, claimed.evaluation_id, state, outcome_data, None)
