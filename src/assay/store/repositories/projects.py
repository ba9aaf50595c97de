"""Projects of an organization, looked up by id or by slug, with their LLM settings."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.store.repositories.tenancy import DEFAULT_SLUG
from assay.store.tables import Project, Workspace


async def find_project(
    session: AsyncSession, org_id: str, ref: str, workspace_id: str | None = None
) -> Project | None:
    """The organization's project whose id or slug is ``ref``.

    With ``workspace_id`` (a workspace-scoped key) only that workspace's projects count. A
    slug used in several workspaces resolves to the default workspace's project first, then
    to the oldest.
    """
    query = (
        select(Project)
        .join(Workspace, Workspace.id == Project.workspace_id)
        .where(Project.org_id == org_id, or_(Project.id == ref, Project.slug == ref))
        .order_by(
            case((Project.id == ref, 0), else_=1),
            case((Workspace.slug == DEFAULT_SLUG, 0), else_=1),
            Project.created_at,
        )
        .limit(1)
    )
    if workspace_id is not None:
        query = query.where(Project.workspace_id == workspace_id)
    result: Project | None = await session.scalar(query)
    return result


async def list_projects(
    session: AsyncSession, org_id: str, workspace_id: str | None = None
) -> Sequence[Project]:
    query = select(Project).where(Project.org_id == org_id)
    if workspace_id is not None:
        query = query.where(Project.workspace_id == workspace_id)
    rows = await session.scalars(query.order_by(Project.created_at, Project.id))
    return rows.all()
