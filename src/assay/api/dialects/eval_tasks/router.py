"""/api/eval: parse -> translate -> one service call -> translate back."""

from __future__ import annotations

from fastapi import APIRouter

from assay.api.deps import ContainerDep, PrincipalDep
from assay.api.dialects.eval_tasks import translate
from assay.api.dialects.eval_tasks.schemas import (
    CreateTaskAgentRequest,
    CreateTaskAgentResponse,
    StatusResponse,
    VerifyRequest,
)
from assay.api.health import EVALUATIONS_CREATED
from assay.services import checkpoints as checkpoint_service

router = APIRouter(prefix="/api/eval", tags=["eval-tasks"])


@router.post("/create-task-agent", operation_id="eval-tasks-create")
async def create_task_agent(
    body: CreateTaskAgentRequest, container: ContainerDep, principal: PrincipalDep
) -> CreateTaskAgentResponse:
    task = translate.task_from_request(body)
    execution = await checkpoint_service.create_task(container, principal, task)
    EVALUATIONS_CREATED.labels(kind="checkpointed", api="eval-tasks").inc()
    return translate.create_response(execution)


@router.get("/status/{execution_id}", operation_id="eval-tasks-status")
async def execution_status(
    execution_id: str, container: ContainerDep, principal: PrincipalDep
) -> StatusResponse:
    execution = await checkpoint_service.get_execution(container, principal, execution_id)
    return StatusResponse(success=True, execution=translate.execution_out(execution))


@router.post("/verify/{execution_id}", operation_id="eval-tasks-verify")
async def verify_checkpoint(
    execution_id: str, body: VerifyRequest, container: ContainerDep, principal: PrincipalDep
) -> StatusResponse:
    """Approve or reject the waiting checkpoint; the reviewer is the key's user, never the body."""
    execution = await checkpoint_service.verify(
        container, principal, execution_id, body.checkpointNumber, body.action, body.hint
    )
    return StatusResponse(success=True, execution=translate.execution_out(execution))
