"""/v1/harnesses: an organization's custom harnesses, usable by id in ``harnesses``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from assay.api.deps import ContainerDep, PrincipalDep
from assay.core.text import (
    NAME_MAX,
    OFFSET_MAX,
    PROBES_MAX,
    SLUG_MAX,
    Bounded,
    Id,
    JsonObject,
    LongText,
)
from assay.services import harnesses as harness_service
from assay.services.harnesses import HarnessView

router = APIRouter(prefix="/v1/harnesses", tags=["harnesses"])


class HarnessCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Id | None = Field(
        default=None,
        description=(
            "Your id for the harness; `harness-{uuid}` when omitted. Unique within the "
            "organization."
        ),
    )
    workspace: Annotated[str, Bounded(SLUG_MAX, min_length=1)] | None = Field(
        default=None,
        description=(
            "The slug of the workspace the harness belongs to; default: the key's workspace. Left "
            "out by an organization-wide key: organization-wide for an admin key (every workspace "
            "can use it, only organization-wide admins can delete it), the `default` workspace "
            "otherwise."
        ),
    )
    name: Annotated[str, Bounded(NAME_MAX, min_length=1)] = Field(
        description="Unique within the organization."
    )
    description: LongText | None = None
    probes: list[JsonObject] = Field(
        min_length=1,
        max_length=PROBES_MAX,
        description=(
            "Each: `id?`, `prompt` or `prompts`, `system_prompt?`, `detector {name, params}`, "
            "`severity` (high, medium, low), `category` (security, safety, reliability)."
        ),
    )


class HarnessList(BaseModel):
    harnesses: list[HarnessView]
    total: int
    limit: int
    offset: int
    builtin: list[str]
    """The built-in harness names, always available."""


@router.post("", status_code=201, operation_id="harnesses-create")
async def create_harness(
    body: HarnessCreate, container: ContainerDep, principal: PrincipalDep
) -> HarnessView:
    return await harness_service.create_harness(
        container,
        principal,
        body.name,
        body.probes,
        description=body.description,
        harness_id=body.id,
        workspace=body.workspace,
    )


@router.get("", operation_id="harnesses-list")
async def list_harnesses(
    container: ContainerDep,
    principal: PrincipalDep,
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0, le=OFFSET_MAX),
) -> HarnessList:
    from assay.probes.catalog import BUILTIN_HARNESSES

    harnesses, total = await harness_service.list_harnesses(container, principal, limit, offset)
    return HarnessList(
        harnesses=harnesses,
        total=total,
        limit=limit,
        offset=offset,
        builtin=list(BUILTIN_HARNESSES),
    )


@router.get("/{harness_id}", operation_id="harnesses-get")
async def get_harness(
    harness_id: str, container: ContainerDep, principal: PrincipalDep
) -> HarnessView:
    return await harness_service.get_harness(container, principal, harness_id)


@router.delete("/{harness_id}", status_code=204, operation_id="harnesses-delete")
async def delete_harness(
    harness_id: str, container: ContainerDep, principal: PrincipalDep
) -> Response:
    await harness_service.delete_harness(container, principal, harness_id)
    return Response(status_code=204)
