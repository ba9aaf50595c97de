"""Closing an evaluation: once every item is terminal, the kind summarises them once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncEngine

from assay.core.spec import EvaluationSpec
from assay.kinds._registry import get_kind
from assay.store.repositories import evaluations as evaluation_rows
from assay.store.repositories import items as item_rows
from assay.webhooks.outbox import record_terminal_event


class Finalized(NamedTuple):
    #: Evaluations whose items have all ended.
    done: set[str]
    #: Those among them that this call completed (the caller announces them).
    completed: list[str]


async def finalize_finished(db: AsyncEngine, evaluation_ids: Iterable[str]) -> Finalized:
    """Summarise and complete each evaluation among ``evaluation_ids`` whose items all ended.

    Safe to call from several workers at once: the status update is conditional, so only one
    of them completes an evaluation. A cancelled evaluation gets its summary and keeps its
    status.
    """
    ids = set(evaluation_ids)
    if not ids:
        return Finalized(set(), [])
    async with db.connect() as conn:
        done = ids - await item_rows.unfinished_evaluations(conn, ids)
    completed: list[str] = []
    for evaluation_id in sorted(done):
        async with db.begin() as conn:
            row = await evaluation_rows.get_evaluation(conn, evaluation_id)
            if row is None or row.summary is not None:
                continue
            spec = EvaluationSpec.model_validate(row.spec)
            records = await item_rows.item_records(conn, evaluation_id)
            summary = get_kind(spec.kind).summarise(spec, records)
            now = datetime.now(UTC)
            if await evaluation_rows.finish_evaluation(conn, evaluation_id, summary, now):
                await record_terminal_event(conn, evaluation_id, now)
                completed.append(evaluation_id)
    return Finalized(done, completed)
