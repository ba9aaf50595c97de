"""People for checkpoint tests: users of the organization and keys that belong to them."""

from __future__ import annotations

from assay.core.principal import Role
from assay.services.container import open_container
from assay.services.keys import create_key
from assay.services.tenancy import add_user
from assay.settings import Settings

REVIEWER = "reviewer@example.com"


async def user_key(settings: Settings, email: str, role: Role = Role.MEMBER) -> str:
    """Add ``email`` to the default organization and return a key that belongs to them.

    A member by default: in the seed the person who creates a task also reviews it.
    """
    container = await open_container(settings)
    try:
        await create_key(container, "default", None, Role.ADMIN)  # makes the organization
        await add_user(container, email, "default", role)
        return await create_key(container, "default", None, None, email)
    finally:
        await container.aclose()
