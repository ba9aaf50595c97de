"""Role checks shared by every service."""

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
