"""Which queued items a broker should carry: the database stays the queue's source of truth.

A broker message only names an item; the claim by id (``items.claim_items_by_id``) decides whether
it runs. These reads find the ids to publish: every queued item (new evaluations, a lost
message), or only those queued again after a run (a reaped lease, a resumed wait, a clean
shutdown), whose earlier message was already consumed.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.core.states import ItemState
from assay.store.tables import Item

items = cast(Table, Item.__table__)


async def queued_ids(
    conn: AsyncConnection, *, requeued_only: bool, limit: int
) -> list[tuple[str, int]]:
    """Queued items and their claims so far, oldest first; ``requeued_only``: claimed before.

    The claim count tells a publisher that an item it sent was run and queued again since.
    """
    query = select(items.c.id, items.c.attempts).where(items.c.state == ItemState.QUEUED.value)
    if requeued_only:
        query = query.where(items.c.attempts > 0)
    query = query.order_by(items.c.created_at, items.c.evaluation_id, items.c.seq).limit(limit)
    return [(row[0], int(row[1])) for row in (await conn.execute(query)).all()]
