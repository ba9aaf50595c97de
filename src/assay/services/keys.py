"""API keys: random, shown once, stored as a hash, scoped to an organization (and workspace).

Admins list and revoke their organization's keys (a workspace admin only its workspace's).
A listing shows a key's prefix, never the key or its hash. Revoking through the API is
immediate: the next request with the key is a 401, and its web sessions end too. Revoked by
another process (`assay keys revoke`, another server), a key stops working within a second
(``services/key_cache.py``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from assay.core.errors import NotAuthenticated, NotFound, ValidationFailed
from assay.core.principal import Principal, Role
from assay.services.access import require_role
from assay.services.container import Container
from assay.store.repositories import tenancy
from assay.store.tables import ApiKey, Organization

KEY_PREFIX = "assay_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_role(value: str, field: str = "role") -> Role:
    try:
        return Role(value)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise ValidationFailed.for_field(
            (field,), f"must be one of {known}, got {value!r}"
        ) from None


async def create_key(
    container: Container,
    org_slug: str,
    workspace_slug: str | None,
    role: Role | None,
    user_email: str | None = None,
) -> str:
    """Create the organization (and workspace) if missing; return the new key, shown only now.

    With ``user_email`` the key belongs to that user of the organization (who must exist:
    ``assay users add``), so what it does, such as verifying a checkpoint, is recorded as
    them; ``role`` None then takes the user's role. Without a user, None means member.

    Raises:
        NotFound: ``user_email`` is not a user of the organization.
    """
    async with container.sessions.begin() as session:
        org = await tenancy.ensure_org(session, org_slug)
        return await _add_key(session, org, workspace_slug, role, user_email)


async def _add_key(
    session: AsyncSession,
    org: Organization,
    workspace_slug: str | None,
    role: Role | None,
    user_email: str | None,
) -> str:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    user_id = None
    if user_email is not None:
        user = await tenancy.get_user(session, org.id, user_email)
        if user is None:
            raise NotFound(
                f"user: {user_email!r} is not a user of {org.slug!r}; add them with "
                f"`assay users add {user_email} --org {org.slug}`"
            )
        user_id = user.id
        role = role or Role(user.role)
    role = role or Role.MEMBER
    workspace = await tenancy.ensure_workspace(
        session, org.id, workspace_slug or tenancy.DEFAULT_SLUG
    )
    await tenancy.ensure_project(session, workspace, tenancy.DEFAULT_SLUG)
    await tenancy.add_key(
        session,
        org.id,
        workspace.id if workspace_slug else None,
        role.value,
        hash_key(key),
        key[: len(KEY_PREFIX) + 4],
        user_id,
    )
    return key


class KeyInfo(BaseModel):
    """A key as admins see it: never the key or its hash."""

    id: str
    #: The key's first characters (``assay_`` and four more), to recognise it.
    prefix: str
    role: str
    #: The slug of the workspace the key is limited to; None: the whole organization.
    workspace: str | None
    #: The email of the user the key belongs to; None: a service key.
    user: str | None
    created_at: datetime
    revoked_at: datetime | None


def _info(key: ApiKey, workspace: str | None, user: str | None) -> KeyInfo:
    return KeyInfo(
        id=key.id,
        prefix=key.prefix,
        role=key.role,
        workspace=workspace,
        user=user,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


async def list_keys(container: Container, principal: Principal) -> list[KeyInfo]:
    """The organization's keys, newest first, revoked ones included.

    A workspace admin sees only its workspace's keys.

    Raises:
        PermissionDenied: the caller is not an admin.
    """
    require_role(principal, Role.ADMIN)
    async with container.sessions() as session:
        rows = await tenancy.list_keys(session, principal.org_id, principal.workspace_id)
    return [_info(key, slug, email) for key, slug, email in rows]


async def revoke_key(container: Container, principal: Principal, key_id: str) -> KeyInfo:
    """Revoke a key at once; revoking a revoked key changes nothing and answers the same.

    Raises:
        PermissionDenied: the caller is not an admin.
        NotFound: no key of the caller's organization (or workspace) has this id.
    """
    require_role(principal, Role.ADMIN)
    async with container.sessions.begin() as session:
        key = await tenancy.key_of_org(session, principal.org_id, key_id)
        if key is None or (
            principal.workspace_id is not None and key.workspace_id != principal.workspace_id
        ):
            raise NotFound(f"key {key_id!r} not found")
        if key.revoked_at is None:
            key.revoked_at = datetime.now(UTC)
        container.known_keys.forget(key.id)
        workspace = None
        if key.workspace_id is not None:
            found = await tenancy.get_workspace_by_id(session, key.workspace_id)
            workspace = found.slug if found is not None else None
        user = await tenancy.get_user_by_id(session, key.user_id) if key.user_id else None
        return _info(key, workspace, user.email if user is not None else None)


async def issue_key(
    container: Container,
    principal: Principal,
    role: Role | None,
    workspace_slug: str | None = None,
    user_email: str | None = None,
) -> str:
    """A new key of the caller's organization, shown only now (see :func:`create_key`).

    A workspace admin's keys are limited to its own workspace.

    Raises:
        PermissionDenied: the caller is not an admin.
        NotFound: ``user_email`` is not a user of the organization.
    """
    require_role(principal, Role.ADMIN)
    async with container.sessions.begin() as session:
        org = await session.get(Organization, principal.org_id)
        if org is None:
            raise NotFound("the key's organization no longer exists")
        if principal.workspace_id is not None:
            own = await tenancy.get_workspace_by_id(session, principal.workspace_id)
            if own is None:
                raise NotFound("the key's workspace no longer exists")
            workspace_slug = own.slug
        return await _add_key(session, org, workspace_slug, role, user_email)


async def operator_principal(container: Container, org_slug: str) -> Principal:
    """An organization-wide admin of ``org_slug``, for the operator's own commands.

    Raises:
        NotFound: no organization has this slug.
    """
    async with container.sessions() as session:
        org = await tenancy.get_org(session, org_slug)
    if org is None:
        raise NotFound(f"organization {org_slug!r} does not exist")
    return Principal(org_id=org.id, workspace_id=None, role=Role.ADMIN)


async def authenticate(container: Container, authorization: str | None) -> Principal:
    """Resolve ``Authorization: Bearer <key>``; any problem is the same 401 (no key oracle).

    The request then counts against the key's rate limit (``services/rate_limits.py``).

    Raises:
        NotAuthenticated: no key, or not a key of this server.
        RateLimited: the key is over ``ASSAY_RATE_LIMIT``.
    """
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("missing bearer token: send Authorization: Bearer <api key>")
    key_hash = hash_key(token.strip())
    principal = container.known_keys.get(key_hash)
    if principal is None:
        async with container.sessions() as session:
            key = await tenancy.find_key(session, key_hash)
        if key is None:
            raise NotAuthenticated("invalid API key")
        principal = _principal(key)
        container.known_keys.put(key_hash, principal)
    assert principal.key_id is not None
    await container.rate_limits.hit(principal.key_id)
    return principal


async def authenticate_key_id(container: Container, key_id: str) -> Principal:
    """The caller of a web session, which holds the key's id (never the key itself).

    A revoked key ends its sessions at once: the key is looked up on every request.

    Raises:
        NotAuthenticated: the key was revoked or deleted.
        RateLimited: the key is over ``ASSAY_RATE_LIMIT``.
    """
    async with container.sessions() as session:
        key = await tenancy.get_key(session, key_id)
    if key is None:
        raise NotAuthenticated("the session's API key was revoked; sign in again")
    await container.rate_limits.hit(key.id)
    return _principal(key)


async def user_email(container: Container, principal: Principal) -> str | None:
    """The email of the user the caller's key belongs to; None for a service key."""
    if principal.user_id is None:
        return None
    async with container.sessions() as session:
        user = await tenancy.get_user_by_id(session, principal.user_id)
    return user.email if user is not None else None


def _principal(key: ApiKey) -> Principal:
    return Principal(
        org_id=key.org_id,
        workspace_id=key.workspace_id,
        role=Role(key.role),
        key_id=key.id,
        user_id=key.user_id,
    )
