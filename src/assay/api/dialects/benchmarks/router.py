"""/api/v1/org/{org}/ws/{ws}/evaluation: parse -> translate -> one service call -> translate back.

Every route first narrows the caller to the workspace of the URL: another organization's
names are 404, a key limited to another workspace is 403.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from assay.api.client_version import require_client_version
from assay.api.deps import ContainerDep, PrincipalDep
from assay.api.dialects.benchmarks import translate
from assay.api.dialects.benchmarks.schemas import (
    CreateDatasetRequest,
    CreateEvaluationRequest,
    CreateRuntimeRequest,
    CreateSecretRequest,
    DatasetResponse,
    EvaluationList,
    EvaluationResponse,
    ItemList,
    RuntimeResponse,
    SecretResponse,
)
from assay.api.health import EVALUATIONS_CREATED
from assay.core.errors import EvaluationNotFound
from assay.core.evaluation import EvaluationView
from assay.core.principal import Principal
from assay.services import bench_resources as bench
from assay.services import evaluations as evaluation_service
from assay.services import items as item_service
from assay.services.container import Container
from assay.services.tenancy import workspace_principal
from assay.tasks.archives import tasks_from_archive
from assay.tasks.format import BUILTIN_DATASETS

router = APIRouter(
    prefix="/api/v1/org/{org}/ws/{ws}",
    tags=["benchmarks"],
    dependencies=[Depends(require_client_version)],
    responses={426: {"description": "Client below the supported minimum version"}},
)
COLLECTION = "benchmarks"


async def _workspace(
    org: str, ws: str, container: ContainerDep, principal: PrincipalDep
) -> Principal:
    return await workspace_principal(container, principal, org, ws)


WorkspaceDep = Annotated[Principal, Depends(_workspace)]


async def _own(container: Container, principal: Principal, evaluation_id: str) -> EvaluationView:
    view = await evaluation_service.get_evaluation(
        container, principal, evaluation_id, with_counts=True
    )
    if view.collection != COLLECTION:
        raise EvaluationNotFound(f"evaluation {evaluation_id!r} not found")
    return view


@router.post("/evaluation", operation_id="benchmarks-create", response_model=EvaluationResponse)
async def create_evaluation(
    body: CreateEvaluationRequest, container: ContainerDep, principal: WorkspaceDep
) -> EvaluationResponse:
    dataset_id, inline = translate.dataset_choice(body)
    dataset: dict[str, Any] = {"tasks": inline}
    if dataset_id in BUILTIN_DATASETS:
        dataset = {"builtin": dataset_id}
    elif dataset_id is not None:
        tasks = await bench.dataset_tasks(container, principal, dataset_id, body.dataset.version)
        dataset = {"tasks": tasks}
    runtime = None
    if body.runtime_id is not None:
        runtime = await bench.runtime_config(container, principal, body.runtime_id)
    secrets = await bench.secret_values(container, principal, body.secret_ids)
    spec = translate.spec_from_benchmark_request(body, dataset, runtime)
    bench.check_sandbox_provider(container, str(spec.params["sandbox_provider"]))
    view = await evaluation_service.create_evaluation(
        container,
        principal,
        spec,
        secrets={"tasks": secrets},
        collection=COLLECTION,
        labels={translate.REQUEST_LABEL: translate.request_label(body, principal.key_id)},
        enforce_quotas=True,
        project_id=body.project_id,
    )
    EVALUATIONS_CREATED.labels(kind=view.kind, api="benchmarks").inc()
    view = await _own(container, principal, view.id)
    return translate.benchmark_response_from_evaluation(view)


@router.get("/evaluation", operation_id="benchmarks-list", response_model=EvaluationList)
async def list_evaluations(
    container: ContainerDep,
    principal: WorkspaceDep,
    status: Annotated[str | None, Query()] = None,
    kind: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> EvaluationList:
    filters = translate.status_filter(status) | {"collection": COLLECTION}
    if kind is not None and kind not in translate.KINDS:
        return EvaluationList(items=[], total=0, limit=limit, offset=offset)
    page = await evaluation_service.list_evaluations(
        container, principal, limit=limit, offset=offset, filters=filters
    )
    views = [await _own(container, principal, v.id) for v in page.items]
    return EvaluationList(
        items=[translate.benchmark_response_from_evaluation(v) for v in views],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/evaluation/{evaluation_id}", operation_id="benchmarks-get", response_model=EvaluationResponse
)
async def get_evaluation(
    evaluation_id: str, container: ContainerDep, principal: WorkspaceDep
) -> EvaluationResponse:
    view = await _own(container, principal, evaluation_id)
    return translate.benchmark_response_from_evaluation(view)


@router.get(
    "/evaluation/{evaluation_id}/items", operation_id="benchmarks-items", response_model=ItemList
)
async def list_items(
    evaluation_id: str,
    container: ContainerDep,
    principal: WorkspaceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ItemList:
    await _own(container, principal, evaluation_id)
    page = await item_service.list_item_details(
        container, principal, evaluation_id, limit=limit, offset=offset
    )
    return ItemList(
        items=[translate.item_from_trace(t) for t in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/evaluation/{evaluation_id}/cancel",
    operation_id="benchmarks-cancel",
    response_model=EvaluationResponse,
)
async def cancel_evaluation(
    evaluation_id: str, container: ContainerDep, principal: WorkspaceDep
) -> EvaluationResponse:
    await _own(container, principal, evaluation_id)
    await evaluation_service.cancel_evaluation(container, principal, evaluation_id)
    view = await _own(container, principal, evaluation_id)
    return translate.benchmark_response_from_evaluation(view)


@router.delete("/evaluation/{evaluation_id}", operation_id="benchmarks-delete", status_code=204)
async def delete_evaluation(
    evaluation_id: str, container: ContainerDep, principal: WorkspaceDep
) -> Response:
    await _own(container, principal, evaluation_id)
    await evaluation_service.delete_evaluations(container, principal, [evaluation_id])
    return Response(status_code=204)


# -- workspace resources -----------------------------------------------------------------


@router.post("/datasets", operation_id="benchmarks-datasets-create", status_code=201)
async def create_dataset(
    body: CreateDatasetRequest, container: ContainerDep, principal: WorkspaceDep
) -> DatasetResponse:
    info = await bench.create_dataset(container, principal, body.name, body.version, body.tasks)
    return DatasetResponse.model_validate(info, from_attributes=True)


@router.post("/datasets/upload", operation_id="benchmarks-datasets-upload", status_code=201)
async def upload_dataset(
    request: Request,
    container: ContainerDep,
    principal: WorkspaceDep,
    name: Annotated[str, Query(min_length=1, max_length=200)],
    version: Annotated[str, Query(min_length=1, max_length=50)] = "1",
) -> DatasetResponse:
    """A dataset version from a tar.gz or zip of task folders (the request body)."""
    tasks = tasks_from_archive(await request.body())
    info = await bench.create_dataset(
        container, principal, name, version, [t.model_dump(mode="json") for t in tasks]
    )
    return DatasetResponse.model_validate(info, from_attributes=True)


@router.get("/datasets", operation_id="benchmarks-datasets-list")
async def list_datasets(container: ContainerDep, principal: WorkspaceDep) -> list[DatasetResponse]:
    found = await bench.list_datasets(container, principal)
    return [DatasetResponse.model_validate(d, from_attributes=True) for d in found]


@router.post("/runtimes", operation_id="benchmarks-runtimes-create", status_code=201)
async def create_runtime(
    body: CreateRuntimeRequest, container: ContainerDep, principal: WorkspaceDep
) -> RuntimeResponse:
    info = await bench.create_runtime(
        container, principal, body.name, body.model_dump(exclude={"name"})
    )
    return RuntimeResponse(id=info.id, name=info.name, created_at=info.created_at, **info.config)


@router.get("/runtimes", operation_id="benchmarks-runtimes-list")
async def list_runtimes(container: ContainerDep, principal: WorkspaceDep) -> list[RuntimeResponse]:
    found = await bench.list_runtimes(container, principal)
    return [
        RuntimeResponse(id=r.id, name=r.name, created_at=r.created_at, **r.config) for r in found
    ]


@router.post("/secrets", operation_id="benchmarks-secrets-create", status_code=201)
async def create_secret(
    body: CreateSecretRequest, container: ContainerDep, principal: WorkspaceDep
) -> SecretResponse:
    info = await bench.create_secret(container, principal, body.name, body.value)
    return SecretResponse.model_validate(info, from_attributes=True)


@router.get("/secrets", operation_id="benchmarks-secrets-list")
async def list_secrets(container: ContainerDep, principal: WorkspaceDep) -> list[SecretResponse]:
    found = await bench.list_secrets(container, principal)
    return [SecretResponse.model_validate(s, from_attributes=True) for s in found]


@router.delete(
    "/{resource}/{resource_id}", operation_id="benchmarks-resources-delete", status_code=204
)
async def delete_resource(
    resource: Literal["datasets", "runtimes", "secrets"],
    resource_id: str,
    container: ContainerDep,
    principal: WorkspaceDep,
) -> Response:
    await bench.delete_resource(container, principal, resource[:-1], resource_id)
    return Response(status_code=204)
