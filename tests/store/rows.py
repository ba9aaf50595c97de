"""Rows the store tests build on: an organization with its default workspace and project."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from assay.core.ids import new_id
from assay.store.tables import Organization, Project, Workspace


async def insert_tenant(conn: AsyncConnection, now: datetime) -> tuple[str, str, str]:
    """A new organization, its ``default`` workspace and project; their ids."""
    org, workspace, project = new_id(), new_id(), new_id()
    await conn.execute(
        Organization.__table__.insert().values(id=org, slug=org, name=org, created_at=now)
    )
    await conn.execute(
        Workspace.__table__.insert().values(
            id=workspace, org_id=org, slug="default", name="default", created_at=now
        )
    )
    await conn.execute(
        Project.__table__.insert().values(
            id=project,
            org_id=org,
            workspace_id=workspace,
            slug="default",
            name="default",
            created_at=now,
        )
    )
    return org, workspace, project
