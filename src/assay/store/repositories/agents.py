"""Registered agents, always looked up within one organization and what a key can see of it.

``workspace_id`` is the key's workspace: the agents of that workspace and the
organization-wide ones; None (an organization-wide key) sees every agent of the organization.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.store.repositories.tenancy import visible_in
from assay.store.tables import Agent


async def get_agent(
    session: AsyncSession, org_id: str, agent_id: str, *, workspace_id: str | None
) -> Agent | None:
    result: Agent | None = await session.scalar(
        select(Agent).where(
            Agent.org_id == org_id,
            Agent.id == agent_id,
            visible_in(Agent.workspace_id, workspace_id),
        )
    )
    return result


async def id_taken(session: AsyncSession, org_id: str, agent_id: str) -> bool:
    """Whether any agent of the organization, in any workspace, has this id."""
    return await session.get(Agent, (org_id, agent_id)) is not None


async def list_agents(
    session: AsyncSession, org_id: str, limit: int, offset: int, *, workspace_id: str | None
) -> tuple[Sequence[Agent], int]:
    conditions = (Agent.org_id == org_id, visible_in(Agent.workspace_id, workspace_id))
    rows = await session.scalars(
        select(Agent)
        .where(*conditions)
        .order_by(Agent.created_at.desc(), Agent.id)
        .limit(limit)
        .offset(offset)
    )
    total = await session.scalar(select(func.count()).select_from(Agent).where(*conditions))
    return rows.all(), int(total or 0)


async def delete_agent(session: AsyncSession, agent: Agent) -> None:
    await session.delete(agent)
    await session.flush()
