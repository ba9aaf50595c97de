"""Task-benchmark resources (seed 002) of one workspace: datasets and runtimes.

They belong to a workspace (seed 002's ``/org/{org}/ws/{ws}``), so the page shows one
workspace at a time, chosen from those the key may use.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from assay.api.deps import ContainerDep
from assay.core.errors import AssayError, NotFound
from assay.core.principal import Principal
from assay.core.text import SLUG_MAX
from assay.services import bench_resources as bench_service
from assay.services.container import Container
from assay.services.tenancy import tenancy_of, workspace_principal
from assay.web import forms
from assay.web.auth import Viewer, ViewerDep, checked_form
from assay.web.routes import redirect

router = APIRouter(prefix="/ui/manage/benchmarks", include_in_schema=False)
#: The resources the page lists, as ``delete_resource`` names them.
RESOURCES = {"datasets": "dataset", "runtimes": "runtime"}


async def _in_workspace(container: Container, viewer: Viewer, workspace: str) -> Principal:
    org = (await tenancy_of(container, viewer.principal)).org
    return await workspace_principal(container, viewer.principal, org, workspace)


async def _page(
    request: Request,
    container: Container,
    viewer: Viewer,
    workspace: str,
    error: AssayError | None = None,
) -> HTMLResponse:
    principal = await _in_workspace(container, viewer, workspace)
    return forms.form_page(
        request,
        "manage/benchmarks.html",
        viewer,
        error,
        workspace=workspace,
        workspaces=(await tenancy_of(container, viewer.principal)).workspaces,
        datasets=await bench_service.list_datasets(container, principal),
        runtimes=await bench_service.list_runtimes(container, principal),
    )


@router.get("")
async def benchmarks(
    request: Request,
    container: ContainerDep,
    viewer: ViewerDep,
    workspace: Annotated[str | None, Query(max_length=SLUG_MAX)] = None,
) -> HTMLResponse:
    if workspace is None:
        usable = (await tenancy_of(container, viewer.principal)).workspaces
        if not usable:
            raise NotFound("the organization has no workspace yet")
        workspace = usable[0]
    return await _page(request, container, viewer, workspace)


@router.post("/{workspace}/{what}")
async def create(
    request: Request, workspace: str, what: str, container: ContainerDep, viewer: ViewerDep
) -> Response:
    """Add a dataset version or a runtime to the workspace."""
    form = await checked_form(request, viewer)
    if what not in RESOURCES:
        raise NotFound(f"a workspace has no {what!r}")
    principal = await _in_workspace(container, viewer, workspace)

    async def work() -> None:
        name = forms.text(form, "name") or ""
        if what == "datasets":
            tasks = forms.json_value(form, "tasks", [])
            version = forms.text(form, "version") or "1"
            await bench_service.create_dataset(container, principal, name, version, tasks)
        else:
            config = forms.json_value(form, "config", {})
            await bench_service.create_runtime(container, principal, name, config)

    return await forms.submitted(
        work,
        f"/ui/manage/benchmarks?workspace={workspace}",
        lambda exc: _page(request, container, viewer, workspace, exc),
    )


@router.post("/{workspace}/{what}/{resource_id}/delete")
async def delete(
    request: Request,
    workspace: str,
    what: str,
    resource_id: str,
    container: ContainerDep,
    viewer: ViewerDep,
) -> Response:
    await checked_form(request, viewer)
    if what not in RESOURCES:
        raise NotFound(f"a workspace has no {what!r}")
    principal = await _in_workspace(container, viewer, workspace)
    await bench_service.delete_resource(container, principal, RESOURCES[what], resource_id)
    return redirect(f"/ui/manage/benchmarks?workspace={workspace}")
