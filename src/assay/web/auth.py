"""Who is looking at a page: the signed-in key of a browser session, or the local viewer.

Pages call services with the same :class:`Principal` as the API, so tenancy and roles are
the services' (a reviewer key reads but cannot start, cancel or delete). ``assay view``
serves the UI over a local database with no sign-in, as a reviewer of its default
organization: read-only because the services refuse a reviewer every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from assay.api.deps import ContainerDep
from assay.core.errors import NotAuthenticated, PermissionDenied
from assay.core.principal import Principal, Role
from assay.services.keys import authenticate_key_id, user_email
from assay.services.runs import local_principal
from assay.web.session import SESSION_COOKIE, new_token, open_session, tokens_match

CSRF_FIELD = "csrf"


class LoginRequired(Exception):
    """No valid session: the page redirects to the sign-in form."""


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    #: The token every form of this session carries.
    csrf: str
    #: Served by `assay view`: no sign-in, no sign-out, read-only.
    local: bool = False
    #: The email of the user the key belongs to; None for a service key.
    user: str | None = None

    @property
    def can_change(self) -> bool:
        return self.principal.role is not Role.REVIEWER

    @property
    def is_admin(self) -> bool:
        return self.principal.role is Role.ADMIN


@dataclass
class LocalViewer:
    """The ``assay view`` viewer, resolved on first use (it needs the database)."""

    principal: Principal | None = None
    csrf: str = ""


async def get_viewer(request: Request, container: ContainerDep) -> Viewer:
    local: LocalViewer | None = getattr(request.app.state, "local_viewer", None)
    if local is not None:
        if local.principal is None:
            admin = await local_principal(container)
            local.principal = Principal(org_id=admin.org_id, workspace_id=None, role=Role.REVIEWER)
            local.csrf = new_token()
        return Viewer(local.principal, local.csrf, local=True)
    session = open_session(container.secrets, request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise LoginRequired()
    try:
        principal = await authenticate_key_id(container, session.key_id)
    except NotAuthenticated:
        raise LoginRequired() from None
    return Viewer(principal, session.csrf, user=await user_email(container, principal))


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


async def checked_form(request: Request, viewer: Viewer) -> FormData:
    """The POSTed form once its CSRF token matches the session's.

    Raises:
        PermissionDenied: the token is missing or wrong (a forged or stale form).
    """
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not tokens_match(viewer.csrf, token if isinstance(token, str) else None):
        raise PermissionDenied("the form's CSRF token is missing or wrong; reload the page")
    return form
