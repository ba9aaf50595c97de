"""The one item of a checkpointed task run, read with what the run saved and produced."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Row, Table, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.store.tables import Evaluation, Item

evaluations = cast(Table, Evaluation.__table__)
items = cast(Table, Item.__table__)
_ITEM = (
    items.c.id,
    items.c.input,
    items.c.state,
    items.c.saved_state,
    items.c.outcome,
    items.c.error,
    items.c.started_at,
    items.c.finished_at,
)
#: A run's status read in one statement: the evaluation's row with its item's columns
#: (``item_*``) beside it, built once with bound parameters.
_RUN = (
    select(evaluations, *(column.label(f"item_{column.name}") for column in _ITEM))
    .select_from(
        evaluations.outerjoin(
            items, and_(items.c.evaluation_id == evaluations.c.id, items.c.seq == 0)
        )
    )
    .where(
        evaluations.c.id == bindparam("evaluation_id"),
        evaluations.c.org_id == bindparam("org_id"),
    )
)


class TaskItem(NamedTuple):
    """The run's item as the status read shows it."""

    id: str
    input: dict[str, Any]
    state: str
    saved_state: dict[str, Any] | None
    outcome: dict[str, Any] | None
    error: dict[str, Any] | None
    started_at: datetime | None
    finished_at: datetime | None


async def run_with_item(
    conn: AsyncConnection, evaluation_id: str, org_id: str
) -> tuple[Row[Any], TaskItem | None] | None:
    """An evaluation of ``org_id`` and its item (None before it has one), or None."""
    params = {"evaluation_id": evaluation_id, "org_id": org_id}
    row = (await conn.execute(_RUN, params)).first()
    if row is None:
        return None
    mapping = row._mapping
    item = TaskItem(*(mapping[f"item_{column.name}"] for column in _ITEM))
    return row, (item if item.id is not None else None)


async def task_item(conn: AsyncConnection, evaluation_id: str) -> TaskItem | None:
    """The run's item (its input, state, saved state, outcome, error), or None."""
    query = select(*_ITEM).where(items.c.evaluation_id == evaluation_id, items.c.seq == 0)
    row = (await conn.execute(query)).first()
    return None if row is None else TaskItem(*row)
