"""/v1/agents: register, read, list, update and delete the agents evaluations run against."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from assay.api.deps import ContainerDep, PrincipalDep
from assay.core.text import OFFSET_MAX, SLUG_MAX, Bounded, Id, JsonObject, Kind, Name
from assay.services import agents as agent_service
from assay.services.agents import AgentView

router = APIRouter(prefix="/v1/agents", tags=["agents"])


class AgentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Id | None = Field(
        default=None,
        description=(
            "Your id for the agent; generated when omitted. Unique within the organization."
        ),
    )
    workspace: Annotated[str, Bounded(SLUG_MAX, min_length=1)] | None = Field(
        default=None,
        description=(
            "The slug of the workspace the agent belongs to; default: the key's workspace. Left "
            "out by an organization-wide key: organization-wide for an admin key (every workspace "
            "can use it, only organization-wide admins can delete it), the `default` workspace "
            "otherwise."
        ),
    )
    kind: Kind = Field(description="`openai-chat`, `http` or `python`.")
    name: Name | None = None
    config: JsonObject = Field(
        default_factory=dict,
        description="The kind's settings (base_url, model, url, request_template, callable, ...).",
    )
    secrets: JsonObject = Field(
        default_factory=dict,
        description="Credentials (api_key, headers); stored encrypted and never returned.",
    )


class AgentUpdate(BaseModel):
    """An agent's new definition; its id and workspace stay as they are."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind = Field(description="`openai-chat`, `http` or `python`.")
    name: Name | None = None
    config: JsonObject = Field(
        default_factory=dict,
        description="The kind's settings (base_url, model, url, request_template, callable, ...).",
    )
    secrets: JsonObject = Field(
        default_factory=dict,
        description=(
            "Credentials (api_key, headers); replace the stored ones; encrypted, never returned."
        ),
    )


class AgentList(BaseModel):
    data: list[AgentView]
    total: int
    limit: int
    offset: int


@router.post("", status_code=201, operation_id="agents-create")
async def create_agent(
    body: AgentCreate, container: ContainerDep, principal: PrincipalDep
) -> AgentView:
    return await agent_service.register_agent(
        container,
        principal,
        body.kind,
        body.config,
        body.secrets,
        agent_id=body.id,
        name=body.name,
        workspace=body.workspace,
    )


@router.get("", operation_id="agents-list")
async def list_agents(
    container: ContainerDep,
    principal: PrincipalDep,
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0, le=OFFSET_MAX),
) -> AgentList:
    agents, total = await agent_service.list_agents(container, principal, limit, offset)
    return AgentList(data=agents, total=total, limit=limit, offset=offset)


@router.get("/{agent_id}", operation_id="agents-get")
async def get_agent(agent_id: str, container: ContainerDep, principal: PrincipalDep) -> AgentView:
    return await agent_service.get_agent(container, principal, agent_id)


@router.put("/{agent_id}", operation_id="agents-update")
async def update_agent(
    agent_id: str, body: AgentUpdate, container: ContainerDep, principal: PrincipalDep
) -> AgentView:
    """Replace an agent's kind, name, config and secrets (a second POST of its id is a 409)."""
    return await agent_service.update_agent(
        container, principal, agent_id, body.kind, body.config, body.secrets, name=body.name
    )


@router.delete("/{agent_id}", status_code=204, operation_id="agents-delete")
async def delete_agent(agent_id: str, container: ContainerDep, principal: PrincipalDep) -> Response:
    await agent_service.delete_agent(container, principal, agent_id)
    return Response(status_code=204)
