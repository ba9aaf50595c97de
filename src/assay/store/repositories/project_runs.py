"""The runs of seed 004: the items of a project's scenario evaluations, read with them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Row, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.store.tables import Evaluation, Item

items = cast(Table, Item.__table__)
evaluations = cast(Table, Evaluation.__table__)

_ITEM_COLUMNS: tuple[Any, ...] = (
    items.c.id,
    items.c.evaluation_id,
    items.c.seq,
    items.c.input,
    items.c.state,
    items.c.attempts,
    items.c.outcome,
    items.c.error,
    items.c.created_at,
    items.c.started_at,
    items.c.finished_at,
)


async def items_of(conn: AsyncConnection, evaluation_ids: Sequence[str]) -> list[Row[Any]]:
    """The items of these evaluations, by evaluation then ``seq``."""
    if not evaluation_ids:
        return []
    rows = await conn.execute(
        select(*_ITEM_COLUMNS)
        .where(items.c.evaluation_id.in_(list(evaluation_ids)))
        .order_by(items.c.evaluation_id, items.c.seq)
    )
    return list(rows.all())


async def get_item(
    conn: AsyncConnection, item_id: str, org_id: str, collection: str
) -> Row[Any] | None:
    """One item, if its evaluation belongs to the organization and is filed in ``collection``."""
    rows = await conn.execute(
        select(*_ITEM_COLUMNS)
        .join(evaluations, evaluations.c.id == items.c.evaluation_id)
        .where(
            items.c.id == item_id,
            evaluations.c.org_id == org_id,
            evaluations.c.collection == collection,
        )
    )
    return rows.first()
