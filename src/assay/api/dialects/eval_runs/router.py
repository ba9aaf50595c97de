"""/eval-runs: parse -> translate -> one service call -> translate back.

``POST`` answers with the finished run, as the seed does; a run that outlives
``ASSAY_EVAL_RUN_WAIT_SECONDS`` is answered with 202 and its id, and keeps running.
"""

from __future__ import annotations

import math
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from assay.api.deps import ContainerDep, PrincipalDep
from assay.api.dialects.eval_runs import translate
from assay.api.dialects.eval_runs.schemas import (
    DeleteEvalRunsRequest,
    EvalRunInput,
    EvalSchema,
    EvalType,
    PaginatedEvalRuns,
    PaginationInfo,
    UpdateEvalRunRequest,
)
from assay.api.health import EVALUATIONS_CREATED
from assay.core.errors import AssayError, NotFound, ValidationFailed
from assay.core.evaluation import EvaluationView
from assay.core.principal import Principal
from assay.core.states import EvaluationStatus
from assay.core.text import PAGE_MAX
from assay.services import agents as agent_service
from assay.services import evaluations as evaluation_service
from assay.services.container import Container

router = APIRouter(prefix="/eval-runs", tags=["eval-runs"])


async def get_collection(
    container: ContainerDep,
    db_id: Annotated[str | None, Query(description="Database ID to use for evaluation")] = None,
    table: Annotated[str | None, Query(description="Table to use for evaluation")] = None,
) -> str:
    """The store and table (``db_id``, ``table``) a request addresses; unknown ones are 404."""
    return translate.collection_from_query(container.settings.eval_run_stores, db_id, table)


CollectionDep = Annotated[str, Depends(get_collection)]


class EvaluationFailedError(AssayError):
    """The run could not be carried out (its target could not be built, ...); 500 as in the seed."""

    code = "evaluation_failed"
    status = 500


async def _own_run(
    container: Container, principal: Principal, eval_run_id: str, collection: str
) -> EvaluationView:
    view = await evaluation_service.get_evaluation(
        container, principal, eval_run_id, with_counts=True
    )
    if view.collection != collection or view.kind not in EvalType.__members__.values():
        raise NotFound(f"Eval run {eval_run_id} not found")
    return view


@router.post("", operation_id="eval-runs-create", response_model=EvalSchema)
async def create_eval_run(
    body: EvalRunInput,
    container: ContainerDep,
    principal: PrincipalDep,
    response: Response,
    collection: CollectionDep,
) -> EvalSchema:
    reference = translate.agent_reference(body)
    secrets: dict[str, Any]
    if reference is None:
        target, secrets = translate.model_target_from_request(body), {}
    else:
        target, secrets = await agent_service.resolve_target(
            container, principal, reference[1], reference[0]
        )
        target = translate.with_model_override(target, body)
    translate.check_required_field(body)
    view = await evaluation_service.create_evaluation(
        container,
        principal,
        translate.spec_from_eval_run_request(body, target),
        secrets={"target": secrets},
        collection=collection,
        labels=translate.labels_from_eval_run_request(body, target, principal.user_id),
    )
    EVALUATIONS_CREATED.labels(kind=view.kind, api="eval-runs").inc()
    try:
        view = await evaluation_service.wait_for_evaluation(
            container, principal, view.id, timeout=container.settings.eval_run_wait_seconds
        )
    except TimeoutError:
        response.status_code = 202
        view = await evaluation_service.get_evaluation(
            container, principal, view.id, with_counts=True
        )
    if view.status is EvaluationStatus.FAILED:
        raise EvaluationFailedError(f"eval run {view.id} failed: {view.error}")
    return translate.eval_run_response_from_evaluation(view)


@router.get("", operation_id="eval-runs-list")
async def list_eval_runs(
    container: ContainerDep,
    principal: PrincipalDep,
    collection: CollectionDep,
    agent_id: str | None = None,
    team_id: str | None = None,
    workflow_id: str | None = None,
    model_id: str | None = None,
    type: Literal["agent", "team", "workflow"] | None = Query(
        None, description="Filter by component type"
    ),
    eval_types: str | None = Query(
        None, description="Comma-separated eval types, e.g. accuracy,reliability"
    ),
    limit: int = Query(20, ge=1, le=1000),
    page: int = Query(1, ge=0, le=PAGE_MAX),
    sort_by: str = Query(
        "created_at", max_length=64, description="Field to sort by (any eval-table column)"
    ),
    sort_order: Literal["asc", "desc"] = "desc",
) -> PaginatedEvalRuns:
    started = time.perf_counter()
    kinds = [t.value for t in EvalType]
    if eval_types:
        requested = [t.strip() for t in eval_types.split(",") if t.strip()]
        unknown = [t for t in requested if t not in kinds]
        if unknown:
            # Agno's answer: 422 with a string detail, not a list of fields.
            raise ValidationFailed(
                f"Invalid eval_type: {unknown[0]!r} is not a valid EvalType."
                f" Valid types: {', '.join(kinds)}"
            )
        kinds = requested
    page = max(page, 1)
    result = await evaluation_service.list_evaluations(
        container,
        principal,
        limit=limit,
        offset=(page - 1) * limit,
        filters={
            "collection": collection,
            "agent_id": agent_id,
            "team_id": team_id,
            "workflow_id": workflow_id,
            "model_id": model_id,
            "target_type": type,
        },
        kinds=kinds,
        newest_first=sort_order == "desc",
        sort_by=translate.sort_column(sort_by),
    )
    return PaginatedEvalRuns(
        data=[translate.eval_run_response_from_evaluation(v) for v in result.items],
        meta=PaginationInfo(
            page=page,
            limit=limit,
            total_pages=math.ceil(result.total / limit),
            total_count=result.total,
            search_time_ms=round((time.perf_counter() - started) * 1000, 2),
        ),
    )


@router.get("/{eval_run_id}", operation_id="eval-runs-get")
async def get_eval_run(
    eval_run_id: str,
    container: ContainerDep,
    principal: PrincipalDep,
    collection: CollectionDep,
) -> EvalSchema:
    return translate.eval_run_response_from_evaluation(
        await _own_run(container, principal, eval_run_id, collection)
    )


@router.patch("/{eval_run_id}", operation_id="eval-runs-rename")
async def rename_eval_run(
    eval_run_id: str,
    body: UpdateEvalRunRequest,
    container: ContainerDep,
    principal: PrincipalDep,
    collection: CollectionDep,
) -> EvalSchema:
    await _own_run(container, principal, eval_run_id, collection)
    view = await evaluation_service.rename_evaluation(container, principal, eval_run_id, body.name)
    return translate.eval_run_response_from_evaluation(view)


@router.delete("", status_code=204, operation_id="eval-runs-delete")
async def delete_eval_runs(
    body: DeleteEvalRunsRequest,
    container: ContainerDep,
    principal: PrincipalDep,
    collection: CollectionDep,
) -> Response:
    """Delete the listed runs of this store and table; ids that are not there are ignored."""
    owned = []
    for eval_run_id in body.eval_run_ids:
        try:
            owned.append((await _own_run(container, principal, eval_run_id, collection)).id)
        except NotFound:
            continue
    await evaluation_service.delete_evaluations(container, principal, owned)
    return Response(status_code=204)
