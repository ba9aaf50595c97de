"""Evals of a project (seed 004): a connector and scenarios, and what running one makes.

An eval names one connector and an ordered list of scenarios; both are checked when written
(the connector first, then each scenario, as the seed orders its 404s) and kept intact after:
deleting a connector or scenario an eval uses is a Conflict. Deleting an eval deletes its runs
(the evaluations it made, filed in the collection ``projects:<project id>``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from assay.core.errors import NotFound, ValidationFailed
from assay.core.ids import new_id
from assay.core.principal import Principal, Role
from assay.services.access import require_role
from assay.services.connectors import CONNECTOR_NOT_FOUND, ConnectorView, view_of
from assay.services.container import Container
from assay.services.projects import project_in
from assay.services.simulations import (
    SCENARIO_NOT_FOUND,
    ScenarioView,
    check_exist,
    require_ids,
    require_text,
    scenario_view,
)
from assay.store.repositories import evaluations as evaluation_rows
from assay.store.repositories import simulations as rows
from assay.store.tables import Connector, ProjectEval, Scenario

EVAL_NOT_FOUND = "Eval not found"
#: Where the evaluations of a project's eval runs are filed.
COLLECTION_PREFIX = "projects:"


def collection_of(project_id: str) -> str:
    return f"{COLLECTION_PREFIX}{project_id}"


class EvalFields(BaseModel):
    name: str | None = None
    connector_id: str | None = None
    scenario_ids: list[str] | None = None


class EvalView(BaseModel):
    id: str
    project_id: str
    name: str
    connector_id: str
    scenario_ids: list[str]
    created_at: datetime
    updated_at: datetime
    #: Filled when asked to expand.
    scenarios: list[ScenarioView] | None = None
    connector: ConnectorView | None = None


def eval_view(e: ProjectEval) -> EvalView:
    return EvalView(
        id=e.id,
        project_id=e.project_id,
        name=e.name,
        connector_id=e.connector_id,
        scenario_ids=list(e.scenario_ids),
        created_at=e.created_at,
        updated_at=e.updated_at,
    )


# -- evals ----------------------------------------------------------------------------------


async def _check_eval_refs(
    session: AsyncSession, project_id: str, connector_id: str | None, scenario_ids: list[str] | None
) -> None:
    """Seed order: the connector first, then each scenario."""
    if (
        connector_id is not None
        and await rows.get_row(session, Connector, project_id, connector_id) is None
    ):
        raise NotFound(CONNECTOR_NOT_FOUND)
    if scenario_ids is not None:
        await check_exist(session, Scenario, project_id, scenario_ids, SCENARIO_NOT_FOUND)


async def create_eval(
    container: Container, principal: Principal, project_ref: str, fields: EvalFields
) -> EvalView:
    """Store an eval.

    Raises:
        ValidationFailed: ``name``, ``connector_id`` or ``scenario_ids`` missing (in that order).
        NotFound: the project, the connector or a scenario does not exist for the caller.
    """
    require_role(principal, Role.MEMBER)
    async with container.sessions.begin() as session:
        project = await project_in(session, principal, project_ref)
        name = require_text(fields.name, "name")
        connector_id = require_text(fields.connector_id, "connector_id")
        scenario_ids = require_ids(fields.scenario_ids, "scenario_ids", required=True)
        assert name is not None and connector_id is not None and scenario_ids is not None
        now = datetime.now(UTC)
        await _check_eval_refs(session, project.id, connector_id, scenario_ids)
        row = ProjectEval(
            id=new_id(),
            org_id=principal.org_id,
            project_id=project.id,
            name=name,
            connector_id=connector_id,
            scenario_ids=scenario_ids,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        return eval_view(row)


async def _expanded(session: AsyncSession, row: ProjectEval) -> EvalView:
    view = eval_view(row)
    scenarios = await rows.get_many(session, Scenario, row.project_id, row.scenario_ids)
    view.scenarios = [scenario_view(scenarios[i]) for i in row.scenario_ids if i in scenarios]
    connector = await rows.get_row(session, Connector, row.project_id, row.connector_id)
    view.connector = view_of(connector) if connector is not None else None
    return view


async def get_eval(
    container: Container,
    principal: Principal,
    project_ref: str,
    eval_id: str,
    *,
    expand: bool = False,
) -> EvalView:
    async with container.sessions() as session:
        project = await project_in(session, principal, project_ref)
        row = await rows.require_row(session, ProjectEval, project.id, eval_id, EVAL_NOT_FOUND)
        return await _expanded(session, row) if expand else eval_view(row)


async def list_evals(
    container: Container, principal: Principal, project_ref: str
) -> list[EvalView]:
    async with container.sessions() as session:
        project = await project_in(session, principal, project_ref)
        return [eval_view(e) for e in await rows.list_rows(session, ProjectEval, project.id)]


async def update_eval(
    container: Container, principal: Principal, project_ref: str, eval_id: str, fields: EvalFields
) -> EvalView:
    """Change the given fields; ``scenario_ids`` may not become empty."""
    require_role(principal, Role.MEMBER)
    async with container.sessions.begin() as session:
        project = await project_in(session, principal, project_ref)
        given = fields.model_fields_set
        name = require_text(fields.name, "name", given="name" in given)
        connector_id = require_text(
            fields.connector_id, "connector_id", given="connector_id" in given
        )
        if "scenario_ids" in given and not fields.scenario_ids:
            raise ValidationFailed.for_field(("scenario_ids",), "cannot be empty", "empty")
        scenario_ids = require_ids(fields.scenario_ids, "scenario_ids")
        row = await rows.require_row(session, ProjectEval, project.id, eval_id, EVAL_NOT_FOUND)
        await _check_eval_refs(session, project.id, connector_id, scenario_ids)
        row.name = name or row.name
        row.connector_id = connector_id or row.connector_id
        if scenario_ids is not None:
            row.scenario_ids = scenario_ids
        row.updated_at = datetime.now(UTC)
        await session.flush()
        return eval_view(row)


async def delete_eval(
    container: Container, principal: Principal, project_ref: str, eval_id: str
) -> None:
    """Delete an eval and its runs (their evaluations; running ones stop)."""
    require_role(principal, Role.MEMBER)
    async with container.sessions.begin() as session:
        project = await project_in(session, principal, project_ref)
        row = await rows.require_row(session, ProjectEval, project.id, eval_id, EVAL_NOT_FOUND)
        conn = await session.connection()
        runs, _ = await evaluation_rows.list_evaluations(
            conn,
            principal.org_id,
            {"collection": collection_of(project.id), "eval_id": eval_id},
            limit=100_000,
            offset=0,
        )
        await evaluation_rows.delete_evaluations(conn, principal.org_id, [r.id for r in runs])
        await rows.delete_row(session, row)
