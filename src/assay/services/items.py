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
from assay.core.evaluation import ItemDetail, ItemDetailPage, ItemPage, ItemView
from assay.core.principal import Principal, Role
from assay.engine.waits import resume_item
from assay.kinds._registry import get_kind
from assay.services.access import require_role
from assay.services.container import Container
from assay.services.evaluations import get_evaluation
from assay.store.repositories import events as event_rows
from assay.store.repositories import item_details
from assay.store.repositories import items as item_rows


async def list_items(
    container: Container, principal: Principal, evaluation_id: str, *, limit: int, offset: int
) -> ItemPage:
    """A page of the evaluation's items in order; another tenant's evaluation is NotFound."""
    await get_evaluation(container, principal, evaluation_id)
    async with container.db.connect() as conn:
        rows, total = await item_rows.list_items(conn, evaluation_id, limit, offset)
    return ItemPage(items=[ItemView.model_validate(row._mapping) for row in rows], total=total)


async def get_item_detail(
    container: Container, principal: Principal, evaluation_id: str, item_id: str
) -> ItemDetail:
    """One item with its input, outcome and recorded events (the whole trace).

    Raises:
        NotFound: the evaluation is not the caller's, or has no such item.
    """
    await get_evaluation(container, principal, evaluation_id)
    async with container.db.connect() as conn:
        row = await item_details.get_item(conn, evaluation_id, item_id)
        if row is None:
            raise NotFound(f"item {item_id!r} not found in evaluation {evaluation_id!r}")
        events = await event_rows.recorded_events(conn, item_id)
    detail = ItemDetail.model_validate(row._mapping)
    detail.events = events
    return detail


async def item_results(
    container: Container, principal: Principal, evaluation_id: str, *, limit: int
) -> list[ItemDetail]:
    """The first ``limit`` items with inputs and outcomes (no events), for statistics pages."""
    await get_evaluation(container, principal, evaluation_id)
    async with container.db.connect() as conn:
        rows = await item_details.item_results(conn, evaluation_id, limit)
    return [ItemDetail.model_validate(row._mapping) for row in rows]


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


async def list_item_details(
    container: Container, principal: Principal, evaluation_id: str, *, limit: int, offset: int
) -> ItemDetailPage:
    """A page of the evaluation's items with inputs, outcomes, recorded steps and the kind's view.

    Everything stored passed through the evaluation's redactor, so no secret is in it. Another
    tenant's evaluation is NotFound.
    """
    kind = get_kind((await get_evaluation(container, principal, evaluation_id)).kind)
    async with container.db.connect() as conn:
        rows, total = await item_details.item_page(conn, evaluation_id, limit, offset)
        details = []
        for row in rows:
            detail = ItemDetail.model_validate(row._mapping)
            detail.events = await event_rows.recorded_events(conn, row.id)
            outcome = None if detail.outcome is None else detail.outcome.model_dump(mode="json")
            detail.view = kind.item_view(outcome, detail.events, detail.input)
            details.append(detail)
    return ItemDetailPage(items=details, total=total)
