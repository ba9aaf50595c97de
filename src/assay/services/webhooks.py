"""Webhook deliveries of an evaluation, and an organization's signing secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from assay.core.principal import Principal
from assay.services.container import Container
from assay.services.evaluations import get_evaluation
from assay.services.keys import operator_principal
from assay.store.repositories import webhooks as webhook_rows
from assay.webhooks.outbox import ensure_org_secret


class DeliveryView(BaseModel):
    id: str
    event: str
    url: str
    status: str
    """`pending`, `delivered` or `failed`."""
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


async def list_deliveries(
    container: Container, principal: Principal, evaluation_id: str
) -> list[DeliveryView]:
    """The webhook deliveries of one of the caller's evaluations, oldest first.

    Raises:
        EvaluationNotFound: no such evaluation in the caller's organization.
    """
    await get_evaluation(container, principal, evaluation_id)
    async with container.db.connect() as conn:
        rows = await webhook_rows.list_deliveries(conn, evaluation_id)
    return [
        DeliveryView(
            id=row.id,
            event=row.event,
            url=row.url,
            status=row.status,
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at if row.status == webhook_rows.PENDING else None,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
            payload=row.payload,
        )
        for row in rows
    ]


async def org_webhook_secret(container: Container, org_slug: str) -> str:
    """The organization's webhook signing secret (created on first use), for its admins.

    Raises:
        NotFound: no organization has this slug.
    """
    org = await operator_principal(container, org_slug)
    async with container.db.begin() as conn:
        return await ensure_org_secret(conn, container.secrets, org.org_id)
