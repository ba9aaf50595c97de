"""Connectors, personas, scenarios and evals of a project (seed 004).

Every lookup is scoped to one project, which the caller has already resolved within the
caller's organization, so another tenant's rows are never reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.core.errors import NotFound
from assay.store.tables import Connector, Persona, ProjectEval, Scenario

Row = TypeVar("Row", Connector, Persona, Scenario, ProjectEval)


async def get_row(
    session: AsyncSession, model: type[Row], project_id: str, row_id: str
) -> Row | None:
    row = await session.get(model, row_id)
    if row is None or row.project_id != project_id:
        return None
    return row


async def require_row(
    session: AsyncSession, model: type[Row], project_id: str, row_id: str, missing: str
) -> Row:
    """The project's row, or NotFound with the dialect's message (``missing``)."""
    row = await get_row(session, model, project_id, row_id)
    if row is None:
        raise NotFound(missing)
    return row


async def list_rows(session: AsyncSession, model: type[Row], project_id: str) -> Sequence[Row]:
    rows = await session.scalars(
        select(model).where(model.project_id == project_id).order_by(model.created_at, model.id)
    )
    return rows.all()


async def get_many(
    session: AsyncSession, model: type[Row], project_id: str, row_ids: Sequence[str]
) -> dict[str, Row]:
    if not row_ids:
        return {}
    rows = await session.scalars(
        select(model).where(model.project_id == project_id, model.id.in_(list(row_ids)))
    )
    return {row.id: row for row in rows.all()}


async def evals_using_connector(
    session: AsyncSession, project_id: str, connector_id: str
) -> Sequence[ProjectEval]:
    rows = await session.scalars(
        select(ProjectEval)
        .where(ProjectEval.project_id == project_id, ProjectEval.connector_id == connector_id)
        .order_by(ProjectEval.created_at)
    )
    return rows.all()


async def evals_using_scenario(
    session: AsyncSession, project_id: str, scenario_id: str
) -> list[ProjectEval]:
    """Evals listing the scenario (JSON lists are filtered here, the same on every database)."""
    evals = await list_rows(session, ProjectEval, project_id)
    return [e for e in evals if scenario_id in e.scenario_ids]


async def scenarios_using_persona(
    session: AsyncSession, project_id: str, persona_id: str
) -> list[Scenario]:
    scenarios = await list_rows(session, Scenario, project_id)
    return [s for s in scenarios if persona_id in s.persona_ids]


async def delete_row(
    session: AsyncSession, row: Connector | Persona | Scenario | ProjectEval
) -> None:
    await session.delete(row)
    await session.flush()
