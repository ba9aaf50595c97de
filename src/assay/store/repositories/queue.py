"""Which queued items a broker should carry: the database stays the queue's source of truth.

A broker message only names an item; the claim by id (``items.claim_item``) decides whether
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


async def queued_ids(conn: AsyncConnection, *, requeued_only: bool, limit: int) -> list[str]:
    """Queued items, oldest first; ``requeued_only`` keeps those claimed at least once."""
    query = select(items.c.id).where(items.c.state == ItemState.QUEUED.value)
    if requeued_only:
        query = query.where(items.c.attempts > 0)
    query = query.order_by(items.c.created_at, items.c.evaluation_id, items.c.seq).limit(limit)
    return list((await conn.execute(query)).scalars())
