"""Settling evaluations after their items moved: summarise the finished, park the waiting.

Once every item of an evaluation is terminal, its kind summarises them once and the
evaluation completes (a cancelled or failed one keeps its status and gets its summary). While
its only unfinished items wait for an event, it is ``waiting_verification``; an event that
re-queues one of them moves it back to ``running`` (``engine/waits.py``).

The item function settles in the transaction that writes the outcomes, so no reader ever
sees an evaluation whose items all ended without its summary. Two workers ending the last two
items of one evaluation at the same moment may each miss the other's uncommitted outcome;
housekeeping's sweep then settles it (``stranded``) within a few seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.core.spec import EvaluationSpec
from assay.core.states import EvaluationStatus, ItemState
from assay.kinds._registry import get_kind
from assay.store.repositories import evaluations as evaluation_rows
from assay.store.repositories import item_errors
from assay.store.repositories import items as item_rows
from assay.store.transitions import move_evaluations

log = logging.getLogger(__name__)


class Finalized(NamedTuple):
    #: Evaluations whose items have all ended.
    done: set[str]
    #: Those among them that this call summarised (the caller announces them).
    completed: list[str]


async def settle(conn: AsyncConnection, evaluation_ids: Iterable[str]) -> Finalized:
    """Finalize the evaluations among ``evaluation_ids`` that are done; park the waiting ones.

    Runs in the caller's transaction. Safe in several workers at once: every status move is
    conditional, so only one of them completes an evaluation.
    """
    ids = set(evaluation_ids)
    if not ids:
        return Finalized(set(), [])
    now = datetime.now(UTC)
    done = ids - await item_rows.unfinished_evaluations(conn, ids)
    waiting = await item_rows.only_waiting(conn, ids - done)
    if waiting:
        await move_evaluations(conn, sorted(waiting), EvaluationStatus.WAITING_VERIFICATION, now)
    completed: list[str] = []
    for evaluation_id in sorted(done):
        row = await engine_row(conn, evaluation_id)
        if row is None or row.summary is not None:
            continue
        spec = EvaluationSpec.model_validate(row.spec)
        summary = get_kind(spec.kind).start_summary(spec)
        infra_errors = False
        async for record in item_rows.item_records(conn, evaluation_id):
            summary.add(record)
            infra_errors = infra_errors or record.state == ItemState.INFRA_ERROR
        # In a thread: a kind's summary may be heavy (bootstraps over thousands of items), and
        # the server's loop must go on answering requests and renewing leases meanwhile.
        result = await asyncio.to_thread(summary.result)
        await evaluation_rows.finish_evaluation(conn, evaluation_id, result, now)
        if infra_errors:
            await _log_infra_errors(conn, evaluation_id)
        completed.append(evaluation_id)
    return Finalized(done, completed)


async def engine_row(conn: AsyncConnection, evaluation_id: str) -> Row[Any] | None:
    """The evaluation's row as the engine reads it: without the params its items carry.

    Its spec lacks the kind's ``item_fields`` (a data set's cases), which the engine gets
    from each item's input instead.
    """
    kind = await evaluation_rows.get_kind(conn, evaluation_id)
    if kind is None:
        return None
    return await evaluation_rows.get_for_engine(conn, evaluation_id, get_kind(kind).item_fields)


async def _log_infra_errors(conn: AsyncConnection, evaluation_id: str) -> None:
    """One warning per reason: an operator sees why items failed without opening the store."""
    for reason in await item_errors.infra_error_reasons(conn, evaluation_id):
        noun = "item" if reason.count == 1 else "items"
        log.warning(
            "evaluation %s: %d %s ended in infra_error: %s",
            evaluation_id,
            reason.count,
            noun,
            reason.reason,
        )
