"""/api/projects/{projectId}/...: parse -> translate -> one service call -> translate back.

``projectId`` is a project id or slug (``default``) of the caller's organization. Creates
answer 201, deletes 204, PUTs change only the fields given. Beyond the seed (Assay
extensions): ``GET /api/projects``, ``GET/PUT /api/projects/{projectId}`` (LLM settings),
the runs endpoints and ``GET .../evals/{id}/matrix``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from assay.api.deps import ContainerDep, PrincipalDep
from assay.api.dialects.projects import schemas as wire
from assay.api.dialects.projects import translate
from assay.api.health import EVALUATIONS_CREATED
from assay.services import connectors as connector_service
from assay.services import evals as eval_service
from assay.services import projects as project_service
from assay.services import simulation_runs as run_service
from assay.services import simulations as simulation_service

router = APIRouter(prefix="/api/projects", tags=["projects"])


def _no_content() -> Response:
    return Response(status_code=204)


# -- projects -------------------------------------------------------------------------------


@router.get("", operation_id="projects-list")
async def list_projects(
    container: ContainerDep, principal: PrincipalDep
) -> list[wire.ProjectResponse]:
    """The organization's projects (an Assay extension)."""
    views = await project_service.list_projects(container, principal)
    return [translate.project_response_from_view(v) for v in views]


@router.get("/{project_id}", operation_id="projects-get")
async def get_project(
    project_id: str, container: ContainerDep, principal: PrincipalDep
) -> wire.ProjectResponse:
    view = await project_service.get_project(container, principal, project_id)
    return translate.project_response_from_view(view)


@router.put("/{project_id}", operation_id="projects-update")
async def update_project(
    project_id: str, body: wire.ProjectBody, container: ContainerDep, principal: PrincipalDep
) -> wire.ProjectResponse:
    """Rename the project or change its simulator and judge models (and their API key)."""
    view = await project_service.update_project(
        container, principal, project_id, translate.project_update_from_request(body)
    )
    return translate.project_response_from_view(view)


# -- connectors -----------------------------------------------------------------------------


@router.get("/{project_id}/connectors", operation_id="projects-connectors-list")
async def list_connectors(
    project_id: str, container: ContainerDep, principal: PrincipalDep
) -> list[wire.ConnectorResponse]:
    views = await connector_service.list_connectors(container, principal, project_id)
    return [translate.connector_response_from_view(v) for v in views]


@router.post("/{project_id}/connectors", status_code=201, operation_id="projects-connectors-create")
async def create_connector(
    project_id: str, body: wire.ConnectorBody, container: ContainerDep, principal: PrincipalDep
) -> wire.ConnectorResponse:
    view = await connector_service.create_connector(
        container, principal, project_id, translate.connector_fields_from_request(body)
    )
    return translate.connector_response_from_view(view)


@router.get("/{project_id}/connectors/{connector_id}", operation_id="projects-connectors-get")
async def get_connector(
    project_id: str, connector_id: str, container: ContainerDep, principal: PrincipalDep
) -> wire.ConnectorResponse:
    view = await connector_service.get_connector(container, principal, project_id, connector_id)
    return translate.connector_response_from_view(view)


@router.post(
    "/{project_id}/connectors/{connector_id}/test", operation_id="projects-connectors-test"
)
async def test_connector(
    project_id: str, connector_id: str, container: ContainerDep, principal: PrincipalDep
) -> wire.ConnectorResponse:
    """Ask the connector's platform now whether its key and agent are right (400 if not)."""
    view = await connector_service.test_connector(container, principal, project_id, connector_id)
    return translate.connector_response_from_view(view)


@router.put("/{project_id}/connectors/{connector_id}", operation_id="projects-connectors-update")
async def update_connector(
    project_id: str,
    connector_id: str,
    body: wire.ConnectorBody,
    container: ContainerDep,
    principal: PrincipalDep,
) -> wire.ConnectorResponse:
    view = await connector_service.update_connector(
        container,
        principal,
        project_id,
        connector_id,
        translate.connector_fields_from_request(body),
    )
    return translate.connector_response_from_view(view)


@router.delete(
    "/{project_id}/connectors/{connector_id}",
    status_code=204,
    operation_id="projects-connectors-delete",
)
async def delete_connector(
    project_id: str, connector_id: str, container: ContainerDep, principal: PrincipalDep
) -> Response:
    """409 while an eval uses the connector."""
    await connector_service.delete_connector(container, principal, project_id, connector_id)
    return _no_content()


# -- personas -------------------------------------------------------------------------------


@router.get("/{project_id}/personas", operation_id="projects-personas-list")
async def list_personas(
    project_id: str, container: ContainerDep, principal: PrincipalDep
) -> list[wire.PersonaResponse]:
    views = await simulation_service.list_personas(container, principal, project_id)
    return [translate.persona_response_from_view(v) for v in views]


@router.post("/{project_id}/personas", status_code=201, operation_id="projects-personas-create")
async def create_persona(
    project_id: str, body: wire.PersonaBody, container: ContainerDep, principal: PrincipalDep
) -> wire.PersonaResponse:
    view = await simulation_service.create_persona(
        container, principal, project_id, translate.persona_fields_from_request(body)
    )
    return translate.persona_response_from_view(view)


@router.get("/{project_id}/personas/{persona_id}", operation_id="projects-personas-get")
async def get_persona(
    project_id: str, persona_id: str, container: ContainerDep, principal: PrincipalDep
) -> wire.PersonaResponse:
    view = await simulation_service.get_persona(container, principal, project_id, persona_id)
    return translate.persona_response_from_view(view)


@router.put("/{project_id}/personas/{persona_id}", operation_id="projects-personas-update")
async def update_persona(
    project_id: str,
    persona_id: str,
    body: wire.PersonaBody,
    container: ContainerDep,
    principal: PrincipalDep,
) -> wire.PersonaResponse:
    view = await simulation_service.update_persona(
        container, principal, project_id, persona_id, translate.persona_fields_from_request(body)
    )
    return translate.persona_response_from_view(view)


@router.delete(
    "/{project_id}/personas/{persona_id}", status_code=204, operation_id="projects-personas-delete"
)
async def delete_persona(
    project_id: str, persona_id: str, container: ContainerDep, principal: PrincipalDep
) -> Response:
    """409 while a scenario lists the persona."""
    await simulation_service.delete_persona(container, principal, project_id, persona_id)
    return _no_content()


# -- scenarios ------------------------------------------------------------------------------


@router.get(
    "/{project_id}/scenarios",
    operation_id="projects-scenarios-list",
    response_model_exclude_none=True,
)
async def list_scenarios(
    project_id: str, container: ContainerDep, principal: PrincipalDep
) -> list[wire.ScenarioResponse]:
    views = await simulation_service.list_scenarios(container, principal, project_id)
    return [translate.scenario_response_from_view(v) for v in views]


@router.post(
    "/{project_id}/scenarios",
    status_code=201,
    operation_id="projects-scenarios-create",
    response_model_exclude_none=True,
)
async def create_scenario(
    project_id: str, body: wire.ScenarioBody, container: ContainerDep, principal: PrincipalDep
) -> wire.ScenarioResponse:
    view = await simulation_service.create_scenario(
        container, principal, project_id, translate.scenario_fields_from_request(body)
    )
    return translate.scenario_response_from_view(view)


@router.get(
    "/{project_id}/scenarios/{scenario_id}",
    operation_id="projects-scenarios-get",
    response_model_exclude_none=True,
)
async def get_scenario(
    project_id: str, scenario_id: str, container: ContainerDep, principal: PrincipalDep
) -> wire.ScenarioResponse:
    view = await simulation_service.get_scenario(container, principal, project_id, scenario_id)
    return translate.scenario_response_from_view(view)


@router.put(
    "/{project_id}/scenarios/{scenario_id}",
    operation_id="projects-scenarios-update",
    response_model_exclude_none=True,
)
async def update_scenario(
    project_id: str,
    scenario_id: str,
    body: wire.ScenarioBody,
    container: ContainerDep,
    principal: PrincipalDep,
) -> wire.ScenarioResponse:
    view = await simulation_service.update_scenario(
        container, principal, project_id, scenario_id, translate.scenario_fields_from_request(body)
    )
    return translate.scenario_response_from_view(view)


@router.delete(
    "/{project_id}/scenarios/{scenario_id}",
    status_code=204,
    operation_id="projects-scenarios-delete",
)
async def delete_scenario(
    project_id: str, scenario_id: str, container: ContainerDep, principal: PrincipalDep
) -> Response:
    """409 while an eval lists the scenario."""
    await simulation_service.delete_scenario(container, principal, project_id, scenario_id)
    return _no_content()


# -- evals ----------------------------------------------------------------------------------


@router.get(
    "/{project_id}/evals", operation_id="projects-evals-list", response_model_exclude_none=True
)
async def list_evals(
    project_id: str, container: ContainerDep, principal: PrincipalDep
) -> list[wire.EvalResponse]:
    views = await eval_service.list_evals(container, principal, project_id)
    return [translate.eval_response_from_view(v) for v in views]


@router.post(
    "/{project_id}/evals",
    status_code=201,
    operation_id="projects-evals-create",
    response_model_exclude_none=True,
)
async def create_eval(
    project_id: str, body: wire.EvalBody, container: ContainerDep, principal: PrincipalDep
) -> wire.EvalResponse:
    view = await eval_service.create_eval(
        container, principal, project_id, translate.eval_fields_from_request(body)
    )
    return translate.eval_response_from_view(view)


@router.get(
    "/{project_id}/evals/{eval_id}",
    operation_id="projects-evals-get",
    response_model_exclude_none=True,
)
async def get_eval(
    project_id: str,
    eval_id: str,
    container: ContainerDep,
    principal: PrincipalDep,
    expand: Annotated[bool, Query(description="Include scenario details")] = False,
) -> wire.EvalResponse:
    view = await eval_service.get_eval(container, principal, project_id, eval_id, expand=expand)
    return translate.eval_response_from_view(view)


@router.put(
    "/{project_id}/evals/{eval_id}",
    operation_id="projects-evals-update",
    response_model_exclude_none=True,
)
async def update_eval(
    project_id: str,
    eval_id: str,
    body: wire.EvalBody,
    container: ContainerDep,
    principal: PrincipalDep,
) -> wire.EvalResponse:
    view = await eval_service.update_eval(
        container, principal, project_id, eval_id, translate.eval_fields_from_request(body)
    )
    return translate.eval_response_from_view(view)


@router.delete(
    "/{project_id}/evals/{eval_id}", status_code=204, operation_id="projects-evals-delete"
)
async def delete_eval(
    project_id: str, eval_id: str, container: ContainerDep, principal: PrincipalDep
) -> Response:
    """Deletes the eval's runs too."""
    await eval_service.delete_eval(container, principal, project_id, eval_id)
    return _no_content()


@router.get("/{project_id}/evals/{eval_id}/matrix", operation_id="projects-evals-matrix")
async def get_eval_matrix(
    project_id: str, eval_id: str, container: ContainerDep, principal: PrincipalDep
) -> wire.MatrixResponse:
    """The scenario x persona coverage matrix of the eval's newest runs (an Assay extension)."""
    view = await run_service.eval_matrix(container, principal, project_id, eval_id)
    return translate.matrix_response_from_view(view)


# -- runs -----------------------------------------------------------------------------------


@router.post(
    "/{project_id}/evals/{eval_id}/runs", status_code=201, operation_id="projects-runs-create"
)
async def create_runs(
    project_id: str,
    eval_id: str,
    container: ContainerDep,
    principal: PrincipalDep,
    body: Annotated[wire.RunsBody | None, Body()] = None,
) -> list[wire.RunResponse]:
    """One run per scenario x persona of that scenario; they start at once."""
    views = await run_service.start_runs(
        container, principal, project_id, eval_id, webhook_url=body.webhook_url if body else None
    )
    EVALUATIONS_CREATED.labels(kind="scenario", api="projects").inc()
    return [translate.run_response_from_view(v) for v in views]


@router.get("/{project_id}/evals/{eval_id}/runs", operation_id="projects-evals-runs-list")
async def list_eval_runs(
    project_id: str, eval_id: str, container: ContainerDep, principal: PrincipalDep
) -> list[wire.RunListEntry]:
    views = await run_service.list_runs(container, principal, project_id, eval_id)
    return [translate.run_list_entry_from_view(v) for v in views]


@router.get("/{project_id}/runs", operation_id="projects-runs-list")
async def list_runs(
    project_id: str,
    container: ContainerDep,
    principal: PrincipalDep,
    eval_id: Annotated[str | None, Query(alias="evalId")] = None,
) -> list[wire.RunListEntry]:
    views = await run_service.list_runs(container, principal, project_id, eval_id)
    return [translate.run_list_entry_from_view(v) for v in views]


@router.get("/{project_id}/runs/{run_id}", operation_id="projects-runs-get")
async def get_run(
    project_id: str, run_id: str, container: ContainerDep, principal: PrincipalDep
) -> wire.RunDetailResponse:
    """Status, transcript (live while running), verdict, criteria with quotes, latency, tokens."""
    view = await run_service.get_run(container, principal, project_id, run_id)
    return translate.run_detail_from_view(view)
