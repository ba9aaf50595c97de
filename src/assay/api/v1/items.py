"""/v1/evaluations/{id}/items: where each item of an evaluation is, and events for waiting ones.

Sending an event answers **202**: the item is back in the queue, and runs again when a
worker takes it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from assay.api.deps import ContainerDep, PrincipalDep
from assay.core.evaluation import ItemPage, ItemView
from assay.core.text import KIND_MAX, OFFSET_MAX, Bounded, JsonObject
from assay.services import items as item_service

router = APIRouter(prefix="/v1/evaluations/{evaluation_id}/items", tags=["items"])


class ItemEventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Annotated[str, Bounded(KIND_MAX, min_length=1)] = Field(
        description="An event type the evaluation's kind takes from clients."
    )
    data: JsonObject = Field(
        default_factory=dict, description="What the kind reads with the event."
    )


@router.get("", operation_id="items-list")
async def list_items(
    evaluation_id: str,
    container: ContainerDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> ItemPage:
    return await item_service.list_items(
        container, principal, evaluation_id, limit=limit, offset=offset
    )


@router.post("/{item_id}/events", operation_id="items-send-event", status_code=202)
async def send_item_event(
    evaluation_id: str,
    item_id: str,
    body: ItemEventCreate,
    container: ContainerDep,
    principal: PrincipalDep,
) -> ItemView:
    return await item_service.send_item_event(
        container, principal, evaluation_id, item_id, body.type, body.data
    )
