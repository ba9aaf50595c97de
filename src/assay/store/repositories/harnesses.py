"""Custom harnesses, always looked up within one organization and what a key can see of it.

``workspace_id`` is the key's workspace: that workspace's harnesses and the
organization-wide ones; None (an organization-wide key) sees every harness of the
organization.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.store.repositories.tenancy import visible_in
from assay.store.tables import Harness


async def get_harness(
    session: AsyncSession, org_id: str, harness_id: str, *, workspace_id: str | None
) -> Harness | None:
    result: Harness | None = await session.scalar(
        select(Harness).where(
            Harness.org_id == org_id,
            Harness.id == harness_id,
            visible_in(Harness.workspace_id, workspace_id),
        )
    )
    return result


async def find_conflict(
    session: AsyncSession, org_id: str, harness_id: str, name: str
) -> Harness | None:
    """A harness of the organization, in any workspace, that already has this id or name."""
    result: Harness | None = await session.scalar(
        select(Harness).where(
            Harness.org_id == org_id, or_(Harness.id == harness_id, Harness.name == name)
        )
    )
    return result


async def list_harnesses(
    session: AsyncSession, org_id: str, limit: int, offset: int, *, workspace_id: str | None
) -> tuple[Sequence[Harness], int]:
    conditions = (Harness.org_id == org_id, visible_in(Harness.workspace_id, workspace_id))
    rows = await session.scalars(
        select(Harness)
        .where(*conditions)
        .order_by(Harness.created_at.desc(), Harness.id)
        .limit(limit)
        .offset(offset)
    )
    total = await session.scalar(select(func.count()).select_from(Harness).where(*conditions))
    return rows.all(), int(total or 0)


async def get_many(
    session: AsyncSession, org_id: str, harness_ids: Sequence[str], *, workspace_id: str | None
) -> dict[str, Harness]:
    if not harness_ids:
        return {}
    rows = await session.scalars(
        select(Harness).where(
            Harness.org_id == org_id,
            Harness.id.in_(list(harness_ids)),
            visible_in(Harness.workspace_id, workspace_id),
        )
    )
    return {h.id: h for h in rows.all()}


async def delete_harness(session: AsyncSession, harness: Harness) -> None:
    await session.delete(harness)
    await session.flush()
