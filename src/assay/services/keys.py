"""API keys: random, shown once, stored as a hash, scoped to an organization (and workspace)."""

from __future__ import annotations

import hashlib
import secrets

from assay.core.errors import NotAuthenticated, NotFound, ValidationFailed
from assay.core.principal import Principal, Role
from assay.services.container import Container
from assay.store.repositories import tenancy
from assay.store.tables import ApiKey

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
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    async with container.sessions.begin() as session:
        org = await tenancy.ensure_org(session, org_slug)
        user_id = None
        if user_email is not None:
            user = await tenancy.get_user(session, org.id, user_email)
            if user is None:
                raise NotFound(
                    f"user: {user_email!r} is not a user of {org_slug!r}; add them with "
                    f"`assay users add {user_email} --org {org_slug}`"
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
    async with container.sessions() as session:
        key = await tenancy.find_key(session, hash_key(token.strip()))
    if key is None:
        raise NotAuthenticated("invalid API key")
    await container.rate_limits.hit(key.id)
    return _principal(key)


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


def _principal(key: ApiKey) -> Principal:
    return Principal(
        org_id=key.org_id,
        workspace_id=key.workspace_id,
        role=Role(key.role),
        key_id=key.id,
        user_id=key.user_id,
    )
