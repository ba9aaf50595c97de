"""Why an evaluation's items ended in ``infra_error``, grouped by their stored message.

One query serves every surface that reports infrastructure errors (the CLI, every API
dialect, the scan report, the server log), so they all say the same thing.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.core.evaluation import ReasonCount
from assay.core.states import ItemState
from assay.store.tables import Item

items = cast(Table, Item.__table__)


async def infra_error_reasons(conn: AsyncConnection, evaluation_id: str) -> list[ReasonCount]:
    """Each distinct reason of the evaluation's ``infra_error`` items with its count, most first."""
    reason = items.c.error["message"].as_string()
    count = func.count().label("n")
    rows = await conn.execute(
        select(reason, count)
        .where(
            items.c.evaluation_id == evaluation_id,
            items.c.state == ItemState.INFRA_ERROR.value,
        )
        .group_by(reason)
        .order_by(count.desc(), reason)
    )
    return [
        ReasonCount(reason=text or "no reason recorded", count=int(n)) for text, n in rows.all()
    ]
