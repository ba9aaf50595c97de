"""Whole items (input, outcome, error) of one evaluation, for pages that show results."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Row, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.store.repositories.items import count_items
from assay.store.tables import Item

items = cast(Table, Item.__table__)

_COLUMNS: tuple[Any, ...] = (
    items.c.id,
    items.c.seq,
    items.c.state,
    items.c.attempts,
    items.c.input,
    items.c.outcome,
    items.c.error,
    items.c.waiting_for,
    items.c.waiting_since,
    items.c.resume_after,
    items.c.started_at,
    items.c.finished_at,
)


async def get_item(conn: AsyncConnection, evaluation_id: str, item_id: str) -> Row[Any] | None:
    """One item of the evaluation with its input and outcome, or None."""
    query = select(*_COLUMNS).where(items.c.id == item_id, items.c.evaluation_id == evaluation_id)
    return (await conn.execute(query)).first()


async def item_results(conn: AsyncConnection, evaluation_id: str, limit: int) -> list[Row[Any]]:
    """Up to ``limit`` items of the evaluation in ``seq`` order, with outcomes."""
    rows = await conn.execute(
        select(*_COLUMNS)
        .where(items.c.evaluation_id == evaluation_id)
        .order_by(items.c.seq)
        .limit(limit)
    )
    return list(rows.all())


async def item_page(
    conn: AsyncConnection, evaluation_id: str, limit: int, offset: int
) -> tuple[list[Row[Any]], int]:
    """A page of the evaluation's items in ``seq`` order with outcomes, and the total."""
    rows = await conn.execute(
        select(*_COLUMNS)
        .where(items.c.evaluation_id == evaluation_id)
        .order_by(items.c.seq)
        .limit(limit)
        .offset(offset)
    )
    return list(rows.all()), await count_items(conn, evaluation_id)
