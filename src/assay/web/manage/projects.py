"""Projects (seed 004): connectors, personas, scenarios and evals, and running an eval.

A project's page holds all four lists with their forms; running an eval starts its
scenario evaluation and opens it, where each run's transcript is one item's trace.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData

from assay.api.deps import ContainerDep
from assay.core.errors import AssayError, NotFound, ValidationFailed
from assay.core.principal import Principal
from assay.services import connectors as connector_service
from assay.services import evals as eval_service
from assay.services import projects as project_service
from assay.services import simulation_runs as run_service
from assay.services import simulations as simulation_service
from assay.services.connectors import CONNECTOR_TYPES, ConnectorFields
from assay.services.container import Container
from assay.services.evals import EvalFields
from assay.services.projects import ModelSettings, ProjectUpdate
from assay.services.simulations import PersonaFields, ScenarioFields
from assay.web import forms
from assay.web.auth import Viewer, ViewerDep, checked_form
from assay.web.routes import page, redirect

router = APIRouter(prefix="/ui/manage/projects", include_in_schema=False)
#: Newest runs listed on a project's page.
LISTED_RUNS = 50

Delete = Callable[[Container, Principal, str, str], Awaitable[None]]
#: What a project's page lists -> the service that deletes one.
DELETES: dict[str, Delete] = {
    "connectors": connector_service.delete_connector,
    "personas": simulation_service.delete_persona,
    "scenarios": simulation_service.delete_scenario,
    "evals": eval_service.delete_eval,
}


@router.get("")
async def projects(request: Request, container: ContainerDep, viewer: ViewerDep) -> HTMLResponse:
    found = await project_service.list_projects(container, viewer.principal)
    return page(request, "manage/projects.html", viewer, projects=found)


async def _project_page(
    request: Request,
    container: Container,
    viewer: Viewer,
    ref: str,
    error: AssayError | None = None,
) -> HTMLResponse:
    principal = viewer.principal
    project = await project_service.get_project(container, principal, ref)
    runs = await run_service.list_runs(container, principal, project.id)
    return forms.form_page(
        request,
        "manage/project.html",
        viewer,
        error,
        project=project,
        connectors=await connector_service.list_connectors(container, principal, project.id),
        personas=await simulation_service.list_personas(container, principal, project.id),
        scenarios=await simulation_service.list_scenarios(container, principal, project.id),
        evals=await eval_service.list_evals(container, principal, project.id),
        runs=runs[:LISTED_RUNS],
        connector_types=list(CONNECTOR_TYPES),
    )


@router.get("/{ref}")
async def project(
    request: Request, ref: str, container: ContainerDep, viewer: ViewerDep
) -> HTMLResponse:
    return await _project_page(request, container, viewer, ref)


def _max_messages(form: FormData) -> int | None:
    raw = forms.text(form, "max_messages")
    if raw is None:
        return None
    if not raw.isdigit():
        raise ValidationFailed.for_field(("max_messages",), f"must be a whole number, got {raw!r}")
    return int(raw)


def _scenario(data: dict[str, Any]) -> ScenarioFields:
    try:
        return ScenarioFields.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationFailed.from_pydantic(exc) from None


def _creator(form: FormData, what: str) -> Callable[[Container, Principal, str], Awaitable[Any]]:
    """The service call that creates ``what`` from the form's fields."""
    if what == "connectors":
        api_key = forms.text(form, "api_key")
        fields: Any = ConnectorFields(
            name=forms.text(form, "name"),
            type=forms.text(form, "type"),
            base_url=forms.text(form, "base_url"),
            config=forms.json_value(form, "config", {}),
            headers=forms.json_value(form, "headers", {}),
            credentials={"api_key": api_key} if api_key else None,
        )
        return lambda c, p, ref: connector_service.create_connector(c, p, ref, fields)
    if what == "personas":
        persona = PersonaFields(
            name=forms.text(form, "name"), description=forms.text(form, "description")
        )
        return lambda c, p, ref: simulation_service.create_persona(c, p, ref, persona)
    if what == "scenarios":
        scenario = _scenario(
            {
                "name": forms.text(form, "name"),
                "instructions": forms.text(form, "instructions"),
                "max_messages": _max_messages(form),
                "success_criteria": forms.text(form, "success_criteria"),
                "failure_criteria": forms.text(form, "failure_criteria"),
                "persona_ids": forms.choices(form, "persona_ids"),
            },
        )
        return lambda c, p, ref: simulation_service.create_scenario(c, p, ref, scenario)
    if what == "evals":
        chosen = EvalFields(
            name=forms.text(form, "name"),
            connector_id=forms.text(form, "connector_id"),
            scenario_ids=forms.choices(form, "scenario_ids"),
        )
        return lambda c, p, ref: eval_service.create_eval(c, p, ref, chosen)
    raise NotFound(f"a project has no {what!r}")


def _model(form: FormData, role: str) -> ModelSettings | None:
    """The simulator's or judge's model from the form; None (unchanged) when left blank."""
    provider, model = forms.text(form, f"{role}_provider"), forms.text(form, f"{role}_model")
    if provider is None and model is None:
        return None
    try:
        return ModelSettings(
            provider=provider or "",
            model=model or "",
            base_url=forms.text(form, f"{role}_base_url"),
        )
    except PydanticValidationError as exc:
        raise ValidationFailed.from_pydantic(exc, prefix=("llm_settings", role)) from None


@router.post("/{ref}/settings")
async def update_settings(
    request: Request, ref: str, container: ContainerDep, viewer: ViewerDep
) -> Response:
    """Rename the project or change its simulator and judge models and their API key."""
    form = await checked_form(request, viewer)

    async def work() -> None:
        given: dict[str, Any] = {}
        if forms.text(form, "name"):
            given["name"] = forms.text(form, "name")
        for role in ("simulator", "judge"):
            model = _model(form, role)
            if model is not None:
                given[role] = model
        if forms.text(form, "remove_api_key"):
            given["api_key"] = None  # given as None: the stored key is removed
        elif forms.text(form, "api_key"):
            given["api_key"] = forms.text(form, "api_key")
        update = ProjectUpdate(**given)
        await project_service.update_project(container, viewer.principal, ref, update)

    return await forms.submitted(
        work,
        f"/ui/manage/projects/{ref}",
        lambda exc: _project_page(request, container, viewer, ref, exc),
    )


@router.post("/{ref}/{what}")
async def create(
    request: Request, ref: str, what: str, container: ContainerDep, viewer: ViewerDep
) -> Response:
    """Create a connector, persona, scenario or eval of the project."""
    form = await checked_form(request, viewer)
    if what not in DELETES:
        raise NotFound(f"a project has no {what!r}")

    async def work() -> None:
        await _creator(form, what)(container, viewer.principal, ref)

    return await forms.submitted(
        work,
        f"/ui/manage/projects/{ref}#{what}-h",
        lambda exc: _project_page(request, container, viewer, ref, exc),
    )


@router.post("/{ref}/{what}/{row_id}/delete")
async def delete(
    request: Request, ref: str, what: str, row_id: str, container: ContainerDep, viewer: ViewerDep
) -> Response:
    await checked_form(request, viewer)
    remove = DELETES.get(what)
    if remove is None:
        raise NotFound(f"a project has no {what!r}")

    async def work() -> None:
        await remove(container, viewer.principal, ref, row_id)

    return await forms.submitted(
        work,
        f"/ui/manage/projects/{ref}#{what}-h",
        lambda exc: _project_page(request, container, viewer, ref, exc),
    )


@router.post("/{ref}/evals/{eval_id}/run")
async def run_eval(
    request: Request, ref: str, eval_id: str, container: ContainerDep, viewer: ViewerDep
) -> Response:
    """Run every scenario x persona of the eval, then open the evaluation to watch it."""
    await checked_form(request, viewer)
    try:
        runs = await run_service.start_runs(container, viewer.principal, ref, eval_id)
    except forms.FORM_ERRORS as exc:
        return await _project_page(request, container, viewer, ref, exc)
    if not runs:
        return redirect(f"/ui/manage/projects/{ref}")
    return redirect(f"/ui/evaluations/{runs[0].evaluation_id}")
