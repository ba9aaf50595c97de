"""The webhook outbox and the organizations' signing secrets.

A delivery row is written in the transaction that makes its evaluation terminal, so an event
is never lost and never sent for a change that rolled back. Senders claim due rows with a
short lease (``next_attempt_at`` moved past the send's timeout), so two engine processes do
not POST the same attempt twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.store.tables import Organization, WebhookDelivery

deliveries = cast(Table, WebhookDelivery.__table__)
organizations = cast(Table, Organization.__table__)

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


async def insert_delivery(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(deliveries).values(**values))


async def list_deliveries(conn: AsyncConnection, evaluation_id: str) -> list[Row[Any]]:
    rows = await conn.execute(
        select(deliveries)
        .where(deliveries.c.evaluation_id == evaluation_id)
        .order_by(deliveries.c.created_at, deliveries.c.id)
    )
    return list(rows.all())


async def claim_due(
    conn: AsyncConnection, now: datetime, n: int, lease_seconds: float
) -> list[Row[Any]]:
    """Up to ``n`` pending deliveries whose time has come, leased for ``lease_seconds``."""
    due = and_(
        deliveries.c.status == PENDING,
        or_(deliveries.c.next_attempt_at.is_(None), deliveries.c.next_attempt_at <= now),
    )
    candidates = select(deliveries.c.id).where(due).order_by(deliveries.c.next_attempt_at).limit(n)
    if conn.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list((await conn.execute(candidates)).scalars())
    if not ids:
        return []
    rows = await conn.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(ids), due)
        .values(next_attempt_at=now + timedelta(seconds=lease_seconds))
        .returning(*deliveries.c)
    )
    return list(rows.all())


async def record_attempt(
    conn: AsyncConnection,
    delivery_id: str,
    *,
    status: str,
    attempts: int,
    next_attempt_at: datetime | None,
    status_code: int | None,
    error: str | None,
    delivered_at: datetime | None,
) -> None:
    await conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id)
        .values(
            status=status,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            last_status_code=status_code,
            last_error=error,
            delivered_at=delivered_at,
        )
    )


async def get_secret_enc(conn: AsyncConnection, org_id: str) -> str | None:
    value: str | None = await conn.scalar(
        select(organizations.c.webhook_secret_enc).where(organizations.c.id == org_id)
    )
    return value


async def set_secret_if_missing(conn: AsyncConnection, org_id: str, sealed: str) -> None:
    """Store a new secret unless one exists (a concurrent creator may have won)."""
    await conn.execute(
        update(organizations)
        .where(organizations.c.id == org_id, organizations.c.webhook_secret_enc.is_(None))
        .values(webhook_secret_enc=sealed)
    )
