"""Events that end a suspended item's wait: recorded, then the item goes back to the queue.

An event (a reviewer's answer, a client's event, the wait's deadline) is stored with the
item's recorded events, so the next run reads it from ``ctx.events``; the item moves
``waiting -> queued`` and its evaluation back to ``running``, in the same transaction.
Nothing is held while an item waits: a restart in between changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from assay.core.states import EvaluationStatus
from assay.store.repositories import events as event_rows
from assay.store.repositories import items as item_rows
from assay.store.transitions import move_evaluations

#: The event kind recorded when a wait's deadline passes.
TIMER = "timer"


async def resume_item(
    conn: AsyncConnection, item_id: str, kind: str, payload: dict[str, Any], now: datetime
) -> bool:
    """Record ``kind``/``payload`` for a waiting item and re-queue it; False if it is not waiting."""
    waiting = await item_rows.waiting_item(conn, item_id)
    if waiting is None:
        return False
    evaluation_id, attempt = waiting
    if not await item_rows.resume_items(conn, [item_id]):
        return False
    await event_rows.append_event(
        conn,
        evaluation_id=evaluation_id,
        item_id=item_id,
        attempt=attempt,
        kind=kind,
        payload=payload,
        now=now,
    )
    await move_evaluations(conn, [evaluation_id], EvaluationStatus.RUNNING, now)
    return True


async def resume_due(db: AsyncEngine) -> int:
    """Re-queue the waiting items whose wait deadline passed, with a ``timer`` event."""
    now = datetime.now(UTC)
    async with db.connect() as conn:
        due = await item_rows.due_waits(conn, now)
    resumed = 0
    for item_id in due:
        async with db.begin() as conn:
            resumed += await resume_item(conn, item_id, TIMER, {"at": now.isoformat()}, now)
    return resumed
