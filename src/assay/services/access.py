"""Role and workspace checks shared by every service.

A key of an organization has a role and may be limited to one workspace. Resources that
belong to a workspace (agents, custom harnesses, projects and everything in them,
evaluations) are visible to that workspace's keys and to organization-wide keys; resources
that belong to the whole organization (``workspace_id`` None) are visible to every key of
the organization, but only an organization-wide admin key may create, change or delete them.
A resource a key cannot see is NotFound, never PermissionDenied, so its existence is not
revealed.
"""

from __future__ import annotations

from assay.core.errors import PermissionDenied
from assay.core.principal import Principal, Role

_RANK = {Role.REVIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2}


def require_role(principal: Principal, role: Role) -> None:
    """Raise PermissionDenied unless the caller's role is at least ``role``."""
    if _RANK[principal.role] < _RANK[role]:
        raise PermissionDenied(
            f"this action needs the {role.value} role; the key has {principal.role.value}"
        )


def can_see(principal: Principal, workspace_id: str | None) -> bool:
    """Whether the key sees a resource of this workspace (None: organization-wide)."""
    return principal.workspace_id is None or workspace_id in (None, principal.workspace_id)


def require_change(principal: Principal, workspace_id: str | None, what: str) -> None:
    """Raise PermissionDenied unless the key may create, change or delete this resource.

    Call it only for a resource the key can see (see :func:`can_see`). ``what`` names it in
    the message, e.g. ``"agent 'calc'"``.
    """
    require_role(principal, Role.MEMBER)
    if workspace_id is None and (
        principal.workspace_id is not None or principal.role is not Role.ADMIN
    ):
        raise PermissionDenied(
            f"{what} is organization-wide; only an organization-wide admin key may change it"
        )
