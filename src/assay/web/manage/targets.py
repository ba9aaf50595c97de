"""Agents and custom harnesses: what evaluations run against and which probes they send.

Secrets of an agent are write-only: the page lists their names, never their values.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from assay.api.deps import ContainerDep
from assay.core.errors import AssayError
from assay.probes.catalog import BUILTIN_HARNESSES
from assay.services import agents as agent_service
from assay.services import harnesses as harness_service
from assay.services.container import Container
from assay.services.tenancy import tenancy_of
from assay.targets._registry import known_target_kinds
from assay.web import forms
from assay.web.auth import Viewer, ViewerDep, checked_form
from assay.web.routes import redirect

router = APIRouter(prefix="/ui/manage", include_in_schema=False)
#: Rows listed per page; the API pages through more.
LISTED = 100


async def _agents_page(
    request: Request, container: Container, viewer: Viewer, error: AssayError | None = None
) -> HTMLResponse:
    agents, total = await agent_service.list_agents(container, viewer.principal, LISTED, 0)
    return forms.form_page(
        request,
        "manage/agents.html",
        viewer,
        error,
        agents=agents,
        total=total,
        kinds=known_target_kinds(),
        workspaces=(await tenancy_of(container, viewer.principal)).workspaces,
    )


@router.get("/agents")
async def agents(request: Request, container: ContainerDep, viewer: ViewerDep) -> HTMLResponse:
    return await _agents_page(request, container, viewer)


@router.post("/agents")
async def register_agent(request: Request, container: ContainerDep, viewer: ViewerDep) -> Response:
    form = await checked_form(request, viewer)

    async def work() -> None:
        await agent_service.register_agent(
            container,
            viewer.principal,
            forms.text(form, "kind") or "",
            forms.json_value(form, "config", {}),
            forms.json_value(form, "secrets", {}),
            agent_id=forms.text(form, "id"),
            name=forms.text(form, "name"),
            workspace=forms.text(form, "workspace"),
        )

    return await forms.submitted(
        work,
        "/ui/manage/agents",
        lambda exc: _agents_page(request, container, viewer, exc),
    )


@router.post("/agents/{agent_id}/delete")
async def delete_agent(
    request: Request, agent_id: str, container: ContainerDep, viewer: ViewerDep
) -> Response:
    await checked_form(request, viewer)
    await agent_service.delete_agent(container, viewer.principal, agent_id)
    return redirect("/ui/manage/agents")


async def _harnesses_page(
    request: Request, container: Container, viewer: Viewer, error: AssayError | None = None
) -> HTMLResponse:
    harnesses, total = await harness_service.list_harnesses(container, viewer.principal, LISTED, 0)
    return forms.form_page(
        request,
        "manage/harnesses.html",
        viewer,
        error,
        harnesses=harnesses,
        total=total,
        builtin=BUILTIN_HARNESSES,
        workspaces=(await tenancy_of(container, viewer.principal)).workspaces,
    )


@router.get("/harnesses")
async def harnesses(request: Request, container: ContainerDep, viewer: ViewerDep) -> HTMLResponse:
    return await _harnesses_page(request, container, viewer)


@router.post("/harnesses")
async def create_harness(request: Request, container: ContainerDep, viewer: ViewerDep) -> Response:
    form = await checked_form(request, viewer)

    async def work() -> None:
        await harness_service.create_harness(
            container,
            viewer.principal,
            forms.text(form, "name") or "",
            forms.json_value(form, "probes", []),
            description=forms.text(form, "description"),
            harness_id=forms.text(form, "id"),
            workspace=forms.text(form, "workspace"),
        )

    return await forms.submitted(
        work,
        "/ui/manage/harnesses",
        lambda exc: _harnesses_page(request, container, viewer, exc),
    )


@router.post("/harnesses/{harness_id}/delete")
async def delete_harness(
    request: Request, harness_id: str, container: ContainerDep, viewer: ViewerDep
) -> Response:
    await checked_form(request, viewer)
    await harness_service.delete_harness(container, viewer.principal, harness_id)
    return redirect("/ui/manage/harnesses")
