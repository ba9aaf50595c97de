"""Organizations and their users; the first-run set-up."""

from __future__ import annotations

import re

from assay.core.errors import NotFound, ValidationFailed
from assay.core.principal import Role
from assay.services.container import Container
from assay.services.keys import create_key
from assay.store.repositories import tenancy

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


async def init_defaults(container: Container) -> str:
    """Create org, workspace and project ``default`` (if missing) and return a new admin key."""
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
