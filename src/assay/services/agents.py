"""Registered agents: the targets that evaluations refer to by id.

An agent belongs to one workspace, or to the whole organization (``workspace`` None). A
workspace key sees and runs its workspace's agents and the organization-wide ones; it can
change or delete only its workspace's (see :mod:`assay.services.access`). Ids are unique
per organization: a taken id is a Conflict whichever workspace holds it, so an id names the
same agent for every key that sees it, and no workspace can take over or shadow an id that
another workspace's evaluations refer to.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from assay.core.errors import AgentNotFound, Conflict, PermissionDenied, ValidationFailed
from assay.core.ids import new_id
from assay.core.principal import Principal, Role
from assay.core.spec import TargetSpec
from assay.services.access import require_change, require_role
from assay.services.container import Container
from assay.services.tenancy import workspace_for_new
from assay.store.repositories import agents as agent_rows
from assay.store.tables import Agent
from assay.targets._registry import validate_agent_config

_AGENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")


class AgentView(BaseModel):
    id: str
    kind: str
    name: str | None
    #: The slug of the workspace it belongs to; None: the whole organization.
    workspace: str | None
    config: dict[str, Any]
    #: Names of the stored secrets; their values are never returned.
    secret_fields: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


def _view(agent: Agent, secret_fields: list[str]) -> AgentView:
    return AgentView(
        id=agent.id,
        kind=agent.kind,
        name=agent.name,
        workspace=agent.workspace.slug if agent.workspace else None,
        config=agent.config,
        secret_fields=secret_fields,
        created_at=agent.created_at,
        updated_at=agent.updated_at,
    )


async def register_agent(
    container: Container,
    principal: Principal,
    kind: str,
    config: dict[str, Any],
    secrets: dict[str, Any],
    agent_id: str | None = None,
    name: str | None = None,
    workspace: str | None = None,
) -> AgentView:
    """Validate and store an agent in ``workspace`` (a slug; default: the key's); secrets are encrypted.

    Raises:
        ValidationFailed: a bad id or config, or an unknown workspace.
        PermissionDenied: see :func:`assay.services.tenancy.workspace_for_new`, or a
            python agent's module is not allow-listed.
        Conflict: an agent of the organization, in any workspace, already has this id.
    """
    require_role(principal, Role.MEMBER)
    if agent_id is not None and not _AGENT_ID.match(agent_id):
        raise ValidationFailed.for_field(
            ("id",),
            "must be 1-200 characters of letters, digits and . _ : - (starting with a letter or digit)",
        )
    if kind == "python" and isinstance(config.get("callable"), str):
        # Before validation, which imports the module: importing runs its top-level code.
        _check_python_agent_allowed(config["callable"], container.settings.python_agent_modules)
    config, secrets = validate_agent_config(
        kind, config, secrets, container.settings.outbound_policy
    )
    async with container.sessions.begin() as session:
        owner = await workspace_for_new(session, principal, workspace)
        agent_id = agent_id or new_id()
        if await agent_rows.id_taken(session, principal.org_id, agent_id):
            raise Conflict(
                f"an agent with id {agent_id!r} already exists in the organization; "
                f"to change it, PUT /v1/agents/{agent_id}"
            )
        agent = Agent(
            org_id=principal.org_id,
            id=agent_id,
            workspace_id=owner.id if owner else None,
            workspace=owner,
            kind=kind,
            name=name,
            config=config,
            secrets_enc=container.secrets.seal(secrets),
        )
        session.add(agent)
    return _view(agent, sorted(secrets))


async def update_agent(
    container: Container,
    principal: Principal,
    agent_id: str,
    kind: str,
    config: dict[str, Any],
    secrets: dict[str, Any],
    name: str | None = None,
) -> AgentView:
    """Replace an agent's kind, name, config and secrets; it keeps its id and workspace.

    Evaluations that already ran keep their snapshot of the old config.

    Raises:
        AgentNotFound: the key cannot see an agent with this id.
        ValidationFailed: a bad config.
        PermissionDenied: as for delete, or a python agent's module is not allow-listed.
    """
    require_role(principal, Role.MEMBER)
    if kind == "python" and isinstance(config.get("callable"), str):
        _check_python_agent_allowed(config["callable"], container.settings.python_agent_modules)
    config, secrets = validate_agent_config(
        kind, config, secrets, container.settings.outbound_policy
    )
    async with container.sessions.begin() as session:
        agent = await _visible_agent(session, principal, agent_id)
        require_change(principal, agent.workspace_id, f"agent {agent_id!r}")
        agent.kind = kind
        agent.name = name
        agent.config = config
        agent.secrets_enc = container.secrets.seal(secrets)
        agent.updated_at = datetime.now(UTC)
        await session.flush()
        return _view(agent, sorted(secrets))


async def _visible_agent(session: AsyncSession, principal: Principal, agent_id: str) -> Agent:
    """The agent if the key can see it (its organization, and its workspace for a scoped key)."""
    agent = await agent_rows.get_agent(
        session, principal.org_id, agent_id, workspace_id=principal.workspace_id
    )
    if agent is None:
        raise AgentNotFound(f"agent {agent_id!r} not found")
    return agent


def _check_python_agent_allowed(callable_path: str, allowed: list[str]) -> None:
    """A python agent runs inside the server, so only allow-listed modules may be registered."""
    module = callable_path.partition(":")[0]
    if "*" in allowed or any(
        module == prefix or module.startswith(prefix + ".") for prefix in allowed
    ):
        return
    raise PermissionDenied(
        f"config.callable: python agents run inside the server; module {module!r} is not in "
        "ASSAY_PYTHON_AGENT_MODULES"
    )


async def get_agent(container: Container, principal: Principal, agent_id: str) -> AgentView:
    async with container.sessions() as session:
        agent = await _visible_agent(session, principal, agent_id)
        return _view(agent, sorted(container.secrets.open(agent.secrets_enc)))


async def list_agents(
    container: Container, principal: Principal, limit: int, offset: int
) -> tuple[list[AgentView], int]:
    async with container.sessions() as session:
        rows, total = await agent_rows.list_agents(
            session, principal.org_id, limit, offset, workspace_id=principal.workspace_id
        )
        return [_view(a, sorted(container.secrets.open(a.secrets_enc))) for a in rows], total


async def delete_agent(container: Container, principal: Principal, agent_id: str) -> None:
    """Delete an agent; evaluations that ran on it keep their snapshot of its config.

    Raises:
        AgentNotFound: the key cannot see an agent with this id.
        PermissionDenied: a reviewer key, or an organization-wide agent and a key that is
            not an organization-wide admin key.
    """
    async with container.sessions.begin() as session:
        agent = await _visible_agent(session, principal, agent_id)
        require_change(principal, agent.workspace_id, f"agent {agent_id!r}")
        await agent_rows.delete_agent(session, agent)


async def resolve_target(
    container: Container, principal: Principal, agent_id: str, field: str = "agent_id"
) -> tuple[TargetSpec, dict[str, Any]]:
    """The agent as a target spec plus its decrypted secrets; NotFound names the field.

    Only an agent the key can see is found: its workspace's, or an organization-wide one.
    """
    async with container.sessions() as session:
        agent = await agent_rows.get_agent(
            session, principal.org_id, agent_id, workspace_id=principal.workspace_id
        )
        if agent is None:
            raise AgentNotFound(f"{field}: agent {agent_id!r} not found")
        spec = TargetSpec(
            kind=agent.kind, agent_id=agent.id, name=agent.name, config=dict(agent.config)
        )
        return spec, container.secrets.open(agent.secrets_enc)
