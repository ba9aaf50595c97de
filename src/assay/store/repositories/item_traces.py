"""Items with their inputs and outcomes, for APIs that show each item's trace."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.store.tables import Item

items = cast(Table, Item.__table__)


async def list_item_traces(
    conn: AsyncConnection, evaluation_id: str, limit: int, offset: int
) -> tuple[list[Any], int]:
    """A page of the evaluation's items in ``seq`` order, inputs and outcomes included."""
    rows = await conn.execute(
        select(
            items.c.id,
            items.c.seq,
            items.c.state,
            items.c.attempts,
            items.c.input,
            items.c.outcome,
            items.c.error,
            items.c.started_at,
            items.c.finished_at,
        )
        .where(items.c.evaluation_id == evaluation_id)
        .order_by(items.c.seq)
        .limit(limit)
        .offset(offset)
    )
    total = await conn.scalar(
        select(func.count()).select_from(items).where(items.c.evaluation_id == evaluation_id)
    )
    return list(rows.all()), int(total or 0)
