"""Item events, written one at a time as they happen and read back in order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.core.ids import new_id
from assay.core.outcome import RecordedEvent
from assay.store.tables import ItemEvent

events = cast(Table, ItemEvent.__table__)


@dataclass(frozen=True)
class StoredEvent:
    item_id: str
    attempt: int
    seq: int
    kind: str
    payload: dict[str, Any]
    created_at: datetime


async def insert_event(
    conn: AsyncConnection,
    *,
    evaluation_id: str,
    item_id: str,
    attempt: int,
    seq: int,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    await conn.execute(
        insert(events).values(
            id=new_id(),
            evaluation_id=evaluation_id,
            item_id=item_id,
            attempt=attempt,
            seq=seq,
            kind=kind,
            payload=payload,
            created_at=now,
        )
    )


async def append_event(
    conn: AsyncConnection,
    *,
    evaluation_id: str,
    item_id: str,
    attempt: int,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """Store an event after the ones already recorded for this run of the item."""
    last = await conn.scalar(
        select(func.max(events.c.seq)).where(
            events.c.item_id == item_id, events.c.attempt == attempt
        )
    )
    await insert_event(
        conn,
        evaluation_id=evaluation_id,
        item_id=item_id,
        attempt=attempt,
        seq=0 if last is None else int(last) + 1,
        kind=kind,
        payload=payload,
        now=now,
    )


async def item_events(conn: AsyncConnection, item_ids: list[str]) -> list[StoredEvent]:
    """Events of these items, by item, attempt and order of recording."""
    if not item_ids:
        return []
    rows = await conn.execute(
        select(
            events.c.item_id,
            events.c.attempt,
            events.c.seq,
            events.c.kind,
            events.c.payload,
            events.c.created_at,
        )
        .where(events.c.item_id.in_(item_ids))
        .order_by(events.c.item_id, events.c.attempt, events.c.seq)
    )
    return [StoredEvent(*row) for row in rows.all()]


async def recorded_events(conn: AsyncConnection, item_id: str) -> list[RecordedEvent]:
    """One item's events, as kinds and views read them, in order."""
    return (await recorded_events_by_item(conn, [item_id])).get(item_id, [])


async def recorded_events_by_item(
    conn: AsyncConnection, item_ids: list[str]
) -> dict[str, list[RecordedEvent]]:
    """Several items' events, as kinds and views read them, in order, by item id."""
    by_item: dict[str, list[RecordedEvent]] = {}
    for e in await item_events(conn, item_ids):
        by_item.setdefault(e.item_id, []).append(
            RecordedEvent(
                kind=e.kind, payload=e.payload, attempt=e.attempt, created_at=e.created_at
            )
        )
    return by_item
