"""API keys (create, list, revoke) and the webhook signing secret: admins only.

A new key is shown once, on the page that created it, and never again; the page is not
cached. The webhook secret is shown only when an admin asks for it (a POST), for the same
reason.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from assay.api.deps import ContainerDep
from assay.core.errors import AssayError, PermissionDenied
from assay.core.principal import Role
from assay.services import keys as key_service
from assay.services.access import require_role
from assay.services.container import Container
from assay.services.tenancy import tenancy_of
from assay.services.webhooks import org_webhook_secret
from assay.web import forms
from assay.web.auth import Viewer, ViewerDep, checked_form
from assay.web.routes import page, redirect

router = APIRouter(prefix="/ui/manage", include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store"}


async def _keys_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    *,
    error: AssayError | None = None,
    new_key: str | None = None,
) -> HTMLResponse:
    keys = await key_service.list_keys(container, viewer.principal)
    response = forms.form_page(
        request,
        "manage/keys.html",
        viewer,
        error,
        keys=keys,
        roles=[r.value for r in Role],
        workspaces=(await tenancy_of(container, viewer.principal)).workspaces,
        new_key=new_key,
    )
    response.headers.update(_NO_STORE)
    return response


@router.get("/keys")
async def keys(request: Request, container: ContainerDep, viewer: ViewerDep) -> HTMLResponse:
    return await _keys_page(request, container, viewer)


@router.post("/keys")
async def create_key(request: Request, container: ContainerDep, viewer: ViewerDep) -> Response:
    """Create a key and show it on this page only."""
    form = await checked_form(request, viewer)
    try:
        role_name = forms.text(form, "role")
        key = await key_service.issue_key(
            container,
            viewer.principal,
            key_service.parse_role(role_name) if role_name else None,
            forms.text(form, "workspace"),
            forms.text(form, "user"),
        )
    except forms.FORM_ERRORS as exc:
        return await _keys_page(request, container, viewer, error=exc)
    return await _keys_page(request, container, viewer, new_key=key)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(
    request: Request, key_id: str, container: ContainerDep, viewer: ViewerDep
) -> Response:
    await checked_form(request, viewer)
    await key_service.revoke_key(container, viewer.principal, key_id)
    return redirect("/ui/manage/keys")


def _require_org_admin(viewer: Viewer) -> None:
    """The secret signs every webhook of the organization: only its organization-wide admins."""
    require_role(viewer.principal, Role.ADMIN)
    if viewer.principal.workspace_id is not None:
        raise PermissionDenied(
            "the webhook secret belongs to the whole organization; only an organization-wide "
            "admin key may see it"
        )


async def _webhooks_page(
    request: Request, container: Container, viewer: Viewer, secret: str | None = None
) -> HTMLResponse:
    _require_org_admin(viewer)
    org = (await tenancy_of(container, viewer.principal)).org
    response = page(request, "manage/webhooks.html", viewer, org=org, secret=secret)
    response.headers.update(_NO_STORE)
    return response


@router.get("/webhooks")
async def webhooks(request: Request, container: ContainerDep, viewer: ViewerDep) -> HTMLResponse:
    return await _webhooks_page(request, container, viewer)


@router.post("/webhooks/secret")
async def webhook_secret(
    request: Request, container: ContainerDep, viewer: ViewerDep
) -> HTMLResponse:
    """Show the organization's signing secret (created on first use)."""
    await checked_form(request, viewer)
    _require_org_admin(viewer)
    org = (await tenancy_of(container, viewer.principal)).org
    return await _webhooks_page(
        request, container, viewer, await org_webhook_secret(container, org)
    )
