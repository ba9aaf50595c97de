"""Organizations, workspaces, projects, users and API keys."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, bindparam, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from assay.core.ids import new_id
from assay.store.tables import ApiKey, Organization, Project, User, Workspace

DEFAULT_SLUG = "default"


async def has_admin_key(session: AsyncSession, org_id: str) -> bool:
    """Whether the organization holds an admin key that is not revoked."""
    found = await session.scalar(
        select(ApiKey.id)
        .where(ApiKey.org_id == org_id, ApiKey.role == "admin", ApiKey.revoked_at.is_(None))
        .limit(1)
    )
    return found is not None


async def get_org(session: AsyncSession, slug: str) -> Organization | None:
    result: Organization | None = await session.scalar(
        select(Organization).where(Organization.slug == slug)
    )
    return result


async def ensure_org(session: AsyncSession, slug: str) -> Organization:
    org = await get_org(session, slug)
    if org is None:
        org = Organization(id=new_id(), slug=slug, name=slug)
        session.add(org)
        await session.flush()
    return org


#: An organization by slug with its workspace of a slug beside it (NULL when it has none),
#: built once: every request of the benchmark API resolves the two slugs of its URL.
_SLUGS = (
    select(Organization.id, Workspace.id)
    .select_from(
        Organization.__table__.outerjoin(
            Workspace.__table__,
            and_(Workspace.org_id == Organization.id, Workspace.slug == bindparam("workspace")),
        )
    )
    .where(Organization.slug == bindparam("org"))
)


async def find_by_slugs(
    conn: AsyncConnection, org_slug: str, workspace_slug: str
) -> tuple[str, str | None] | None:
    """The ids of the organization and of its workspace (None: no such workspace), or None."""
    row = (await conn.execute(_SLUGS, {"org": org_slug, "workspace": workspace_slug})).first()
    return None if row is None else (row[0], row[1])


async def get_workspace(session: AsyncSession, org_id: str, slug: str) -> Workspace | None:
    result: Workspace | None = await session.scalar(
        select(Workspace).where(Workspace.org_id == org_id, Workspace.slug == slug)
    )
    return result


async def ensure_workspace(session: AsyncSession, org_id: str, slug: str) -> Workspace:
    workspace = await get_workspace(session, org_id, slug)
    if workspace is None:
        workspace = Workspace(id=new_id(), org_id=org_id, slug=slug, name=slug)
        session.add(workspace)
        await session.flush()
    return workspace


async def ensure_project(session: AsyncSession, workspace: Workspace, slug: str) -> Project:
    project: Project | None = await session.scalar(
        select(Project).where(Project.workspace_id == workspace.id, Project.slug == slug)
    )
    if project is None:
        project = Project(
            id=new_id(), org_id=workspace.org_id, workspace_id=workspace.id, slug=slug, name=slug
        )
        session.add(project)
        await session.flush()
    return project


def visible_in(
    column: InstrumentedAttribute[str | None], workspace_id: str | None
) -> ColumnElement[bool]:
    """Rows of this workspace and organization-wide ones (``column`` NULL); all when None."""
    if workspace_id is None:
        return true()
    return or_(column.is_(None), column == workspace_id)


async def list_workspaces(session: AsyncSession, org_id: str) -> list[Workspace]:
    """The organization's workspaces, by slug."""
    rows = await session.scalars(
        select(Workspace).where(Workspace.org_id == org_id).order_by(Workspace.slug)
    )
    return list(rows.all())


async def get_workspace_by_id(session: AsyncSession, workspace_id: str) -> Workspace | None:
    return await session.get(Workspace, workspace_id)


async def add_key(
    session: AsyncSession,
    org_id: str,
    workspace_id: str | None,
    role: str,
    key_hash: str,
    prefix: str,
    user_id: str | None = None,
) -> ApiKey:
    key = ApiKey(
        id=new_id(),
        org_id=org_id,
        workspace_id=workspace_id,
        role=role,
        key_hash=key_hash,
        prefix=prefix,
        user_id=user_id,
    )
    session.add(key)
    await session.flush()
    return key


async def find_key(session: AsyncSession, key_hash: str) -> ApiKey | None:
    result: ApiKey | None = await session.scalar(
        select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    )
    return result


async def get_key(session: AsyncSession, key_id: str) -> ApiKey | None:
    """The key with this id unless it was revoked."""
    result: ApiKey | None = await session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
    )
    return result


async def list_keys(
    session: AsyncSession, org_id: str, workspace_id: str | None = None
) -> list[tuple[ApiKey, str | None, str | None]]:
    """The organization's keys (only ``workspace_id``'s when given), newest first.

    Each comes with its workspace's slug and its user's email; revoked keys are included.
    """
    query = (
        select(ApiKey, Workspace.slug, User.email)
        .outerjoin(Workspace, Workspace.id == ApiKey.workspace_id)
        .outerjoin(User, User.id == ApiKey.user_id)
        .where(ApiKey.org_id == org_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id)
    )
    if workspace_id is not None:
        query = query.where(ApiKey.workspace_id == workspace_id)
    rows = await session.execute(query)
    return [(key, slug, email) for key, slug, email in rows.all()]


async def key_of_org(session: AsyncSession, org_id: str, key_id: str) -> ApiKey | None:
    """The organization's key with this id, revoked or not."""
    result: ApiKey | None = await session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.org_id == org_id)
    )
    return result


async def upsert_user(session: AsyncSession, org_id: str, email: str, role: str) -> User:
    user: User | None = await session.scalar(
        select(User).where(User.org_id == org_id, User.email == email)
    )
    if user is None:
        user = User(id=new_id(), org_id=org_id, email=email, role=role)
        session.add(user)
    else:
        user.role = role
    await session.flush()
    return user


async def get_user(session: AsyncSession, org_id: str, email: str) -> User | None:
    result: User | None = await session.scalar(
        select(User).where(User.org_id == org_id, User.email == email.lower())
    )
    return result


async def get_user_by_id(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def list_users(session: AsyncSession, org_id: str) -> list[User]:
    """The organization's users, oldest first."""
    rows = await session.scalars(
        select(User).where(User.org_id == org_id).order_by(User.created_at, User.email)
    )
    return list(rows.all())
