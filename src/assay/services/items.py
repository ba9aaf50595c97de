"""Items of an evaluation: where each one is, and events sent to the ones that wait.

An event wakes a waiting item: it is recorded with the item's events (with who sent it, from
the caller's authentication) and the item goes back to the queue, where the kind reads it
from ``ctx.events``. A kind lists the event types clients may send (``Kind.client_events``);
the others come only from the kind's own service, so a client cannot, say, approve a
checkpoint that an assigned reviewer must verify.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from assay.core.errors import InvalidTransition, NotFound, ValidationFailed
from assay.core.evaluation import ItemPage, ItemTrace, ItemTracePage, ItemView
from assay.core.outcome import RecordedEvent
from assay.core.principal import Principal, Role
from assay.engine.waits import resume_item
from assay.kinds._registry import get_kind
from assay.services.access import require_role
from assay.services.container import Container
from assay.services.evaluations import get_evaluation
from assay.store.repositories import events as event_rows
from assay.store.repositories import item_traces as trace_rows
from assay.store.repositories import items as item_rows


async def list_items(
    container: Container, principal: Principal, evaluation_id: str, *, limit: int, offset: int
) -> ItemPage:
    """A page of the evaluation's items in order; another tenant's evaluation is NotFound."""
    await get_evaluation(container, principal, evaluation_id)
    async with container.db.connect() as conn:
        rows, total = await item_rows.list_items(conn, evaluation_id, limit, offset)
    return ItemPage(items=[ItemView.model_validate(row._mapping) for row in rows], total=total)


async def send_item_event(
    container: Container,
    principal: Principal,
    evaluation_id: str,
    item_id: str,
    event_type: str,
    data: dict[str, Any],
) -> ItemView:
    """Record a client's event for a waiting item and put the item back in the queue.

    Raises:
        NotFound: the evaluation or the item is not the caller's.
        ValidationFailed: the kind does not take ``event_type`` from clients (loc ``type``).
        InvalidTransition: the item is not waiting (it runs, or it ended).
    """
    require_role(principal, Role.MEMBER)
    view = await get_evaluation(container, principal, evaluation_id)
    accepted = get_kind(view.kind).client_events
    if event_type not in accepted:
        listed = ", ".join(sorted(accepted)) or "none"
        raise ValidationFailed.for_field(
            ("type",),
            f"{view.kind} items do not take {event_type!r} events from clients; they take: {listed}",
        )
    now = datetime.now(UTC)
    async with container.db.begin() as conn:
        if await item_rows.get_listed_item(conn, evaluation_id, item_id) is None:
            raise NotFound(f"item {item_id!r} not found in evaluation {evaluation_id!r}")
        payload = {"type": event_type, "data": data, "by": principal.key_id}
        if not await resume_item(conn, item_id, "resume", payload, now):
            raise InvalidTransition(f"item {item_id!r} is not waiting for an event")
        row = await item_rows.get_listed_item(conn, evaluation_id, item_id)
    container.notify_work()
    return ItemView.model_validate(row._mapping)


async def list_item_traces(
    container: Container, principal: Principal, evaluation_id: str, *, limit: int, offset: int
) -> ItemTracePage:
    """A page of the evaluation's items with inputs, outcomes and recorded steps.

    Everything stored passed through the evaluation's redactor, so no secret is in it. Another
    tenant's evaluation is NotFound.
    """
    await get_evaluation(container, principal, evaluation_id)
    async with container.db.connect() as conn:
        rows, total = await trace_rows.list_item_traces(conn, evaluation_id, limit, offset)
        stored = await event_rows.item_events(conn, [row.id for row in rows])
    by_item: dict[str, list[RecordedEvent]] = {}
    for event in stored:
        by_item.setdefault(event.item_id, []).append(
            RecordedEvent(
                kind=event.kind,
                payload=event.payload,
                attempt=event.attempt,
                created_at=event.created_at,
            )
        )
    traces = [
        ItemTrace.model_validate({**row._mapping, "events": by_item.get(row.id, [])})
        for row in rows
    ]
    return ItemTracePage(items=traces, total=total)
