"""The one item of a checkpointed task run, read with what the run saved and produced."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.store.tables import Item

items = cast(Table, Item.__table__)


async def task_item(conn: AsyncConnection, evaluation_id: str) -> Any:
    """The run's item (its input, state, saved state, outcome, error), or None."""
    query = select(
        items.c.id,
        items.c.input,
        items.c.state,
        items.c.saved_state,
        items.c.outcome,
        items.c.error,
        items.c.started_at,
        items.c.finished_at,
    ).where(items.c.evaluation_id == evaluation_id, items.c.seq == 0)
    return (await conn.execute(query)).first()
