"""Rows of the task benchmarks' workspace resources: datasets, runtimes, sandbox secrets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.store.tables import BenchDataset, BenchRuntime, BenchSecret

Row = TypeVar("Row", BenchDataset, BenchRuntime, BenchSecret)
Model = type[BenchDataset] | type[BenchRuntime] | type[BenchSecret]


async def list_rows(session: AsyncSession, model: type[Row], workspace_id: str) -> list[Row]:
    """The workspace's rows of ``model``, by name (and version), oldest first among equals."""
    query = select(model).where(model.workspace_id == workspace_id)
    rows = await session.scalars(query.order_by(model.name, model.created_at))
    return list(rows.all())


async def get_row(
    session: AsyncSession, model: type[Row], workspace_id: str, row_id: str
) -> Row | None:
    row: Row | None = await session.scalar(
        select(model).where(model.workspace_id == workspace_id, model.id == row_id)
    )
    return row


async def get_rows(
    session: AsyncSession, model: type[Row], workspace_id: str, row_ids: Sequence[str]
) -> list[Row]:
    rows = await session.scalars(
        select(model).where(model.workspace_id == workspace_id, model.id.in_(list(row_ids)))
    )
    return list(rows.all())


async def name_taken(
    session: AsyncSession, model: type[Row], workspace_id: str, **names: Any
) -> bool:
    query = select(model.id).where(model.workspace_id == workspace_id)
    for column, value in names.items():
        query = query.where(getattr(model, column) == value)
    return (await session.scalar(query)) is not None


async def delete_row(session: AsyncSession, model: Model, workspace_id: str, row_id: str) -> bool:
    result = await session.execute(
        delete(model).where(model.workspace_id == workspace_id, model.id == row_id)
    )
    return bool(getattr(result, "rowcount", 0))
