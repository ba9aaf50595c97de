"""Registered agents, always looked up within one organization."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.store.tables import Agent


async def get_agent(session: AsyncSession, org_id: str, agent_id: str) -> Agent | None:
    return await session.get(Agent, (org_id, agent_id))


async def list_agents(
    session: AsyncSession, org_id: str, limit: int, offset: int
) -> tuple[Sequence[Agent], int]:
    rows = await session.scalars(
        select(Agent)
        .where(Agent.org_id == org_id)
        .order_by(Agent.created_at.desc(), Agent.id)
        .limit(limit)
        .offset(offset)
    )
    total = await session.scalar(
        select(func.count()).select_from(Agent).where(Agent.org_id == org_id)
    )
    return rows.all(), int(total or 0)


async def delete_agent(session: AsyncSession, agent: Agent) -> None:
    await session.delete(agent)
    await session.flush()
