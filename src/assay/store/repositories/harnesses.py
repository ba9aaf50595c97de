"""Custom harnesses, always looked up within one organization."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.store.tables import Harness


async def get_harness(session: AsyncSession, org_id: str, harness_id: str) -> Harness | None:
    return await session.get(Harness, (org_id, harness_id))


async def find_conflict(
    session: AsyncSession, org_id: str, harness_id: str, name: str
) -> Harness | None:
    """A harness of the organization that already has this id or this name."""
    result: Harness | None = await session.scalar(
        select(Harness).where(
            Harness.org_id == org_id, or_(Harness.id == harness_id, Harness.name == name)
        )
    )
    return result


async def list_harnesses(
    session: AsyncSession, org_id: str, limit: int, offset: int
) -> tuple[Sequence[Harness], int]:
    rows = await session.scalars(
        select(Harness)
        .where(Harness.org_id == org_id)
        .order_by(Harness.created_at.desc(), Harness.id)
        .limit(limit)
        .offset(offset)
    )
    total = await session.scalar(
        select(func.count()).select_from(Harness).where(Harness.org_id == org_id)
    )
    return rows.all(), int(total or 0)


async def get_many(
    session: AsyncSession, org_id: str, harness_ids: Sequence[str]
) -> dict[str, Harness]:
    if not harness_ids:
        return {}
    rows = await session.scalars(
        select(Harness).where(Harness.org_id == org_id, Harness.id.in_(list(harness_ids)))
    )
    return {h.id: h for h in rows.all()}


async def delete_harness(session: AsyncSession, harness: Harness) -> None:
    await session.delete(harness)
    await session.flush()
