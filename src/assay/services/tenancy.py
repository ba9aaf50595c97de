"""Organizations, their workspaces and users; the first-run set-up."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from assay.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from assay.core.principal import Principal, Role
from assay.services.access import require_role
from assay.services.container import Container
from assay.services.keys import create_key
from assay.store.repositories import tenancy
from assay.store.tables import Organization, Workspace

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


async def init_defaults(container: Container, *, force: bool = False) -> str:
    """Create org, workspace and project ``default`` (if missing) and return a new admin key.

    Run again, it refuses (unless ``force``) rather than silently mint another admin key: a
    second init is usually a mistake, and every admin key is a credential to keep track of.

    Raises:
        Conflict: the default organization already has an admin key and ``force`` is false.
    """
    if not force:
        async with container.sessions() as session:
            org = await tenancy.get_org(session, tenancy.DEFAULT_SLUG)
            if org is not None and await tenancy.has_admin_key(session, org.id):
                raise Conflict(
                    "already initialized: organization 'default' has an admin key. Run "
                    "`assay init --force` for another admin key, or "
                    "`assay keys create --org default --role member` for a key with less power"
                )
    return await create_key(container, tenancy.DEFAULT_SLUG, None, Role.ADMIN)


async def add_user(container: Container, email: str, org_slug: str, role: Role) -> None:
    """Add a user to an existing organization, or change the role of one already there."""
    if not _EMAIL.match(email):
        raise ValidationFailed.for_field(("email",), f"is not an email address: {email!r}")
    async with container.sessions.begin() as session:
        org = await tenancy.get_org(session, org_slug)
        if org is None:
            raise NotFound(
                f"organization {org_slug!r} does not exist; create it with `assay keys create --org {org_slug}`"
            )
        await tenancy.upsert_user(session, org.id, email.lower(), role.value)


async def workspace_for_new(
    session: AsyncSession, principal: Principal, slug: str | None
) -> Workspace | None:
    """The workspace a new agent or harness belongs to; None means the whole organization.

    It is the workspace named by ``slug``, else the key's own. An organization-wide key that
    names none creates an organization-wide resource if it is an admin key, and files it in
    the ``default`` workspace otherwise (where its evaluations go too), so only
    organization-wide admins ever add to what every workspace sees.

    Raises:
        PermissionDenied: a reviewer key, or a workspace key that names another workspace.
        ValidationFailed: an organization-wide key names a workspace that does not exist.
    """
    require_role(principal, Role.MEMBER)
    if principal.workspace_id is not None:
        workspace = await tenancy.get_workspace_by_id(session, principal.workspace_id)
        if workspace is None:
            raise NotFound("the key's workspace no longer exists")
        if slug is not None and slug != workspace.slug:
            raise PermissionDenied(
                f"workspace: the key is limited to workspace {workspace.slug!r}; "
                "leave workspace out or name that one"
            )
        return workspace
    if slug is None:
        if principal.role is Role.ADMIN:
            return None
        return await tenancy.ensure_workspace(session, principal.org_id, tenancy.DEFAULT_SLUG)
    workspace = await tenancy.get_workspace(session, principal.org_id, slug)
    if workspace is None:
        raise ValidationFailed.for_field(
            ("workspace",), f"the organization has no workspace {slug!r}"
        )
    return workspace


async def workspace_principal(
    container: Container, principal: Principal, org_slug: str, workspace_slug: str
) -> Principal:
    """The caller narrowed to the workspace a URL names (``/org/{org}/ws/{ws}/...``).

    Raises:
        NotFound: the organization is not the key's, or it has no such workspace (another
            tenant's names are indistinguishable from names that do not exist).
        PermissionDenied: the key is limited to another workspace of the organization.
    """
    async with container.db.connect() as conn:
        found = await tenancy.find_by_slugs(conn, org_slug, workspace_slug)
    if found is None or found[0] != principal.org_id:
        raise NotFound(f"organization {org_slug!r} not found")
    workspace_id = found[1]
    if workspace_id is None:
        raise NotFound(f"workspace {workspace_slug!r} not found")
    if principal.workspace_id is not None and principal.workspace_id != workspace_id:
        raise PermissionDenied(f"the key is limited to another workspace than {workspace_slug!r}")
    return replace(principal, workspace_id=workspace_id)


@dataclass(frozen=True)
class Tenancy:
    """Where a key belongs, by slug: its organization and the workspaces it may use."""

    org: str
    workspaces: list[str]


async def tenancy_of(container: Container, principal: Principal) -> Tenancy:
    """The key's organization and its workspaces (only its own for a workspace key).

    Raises:
        NotFound: the key's organization no longer exists.
    """
    async with container.sessions() as session:
        org = await session.get(Organization, principal.org_id)
        if org is None:
            raise NotFound("the key's organization no longer exists")
        workspaces = await tenancy.list_workspaces(session, org.id)
    return Tenancy(
        org.slug,
        [w.slug for w in workspaces if principal.workspace_id in (None, w.id)],
    )
