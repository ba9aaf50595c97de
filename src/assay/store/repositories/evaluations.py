"""Evaluation rows: create with their items, read within a tenant, list, rename, delete, finish."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Label,
    Row,
    RowMapping,
    Table,
    Text,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.core.states import (
    ACTIVE_EVALUATION_STATUSES,
    TERMINAL_ITEM_STATES,
    EvaluationStatus,
    ItemState,
)
from assay.store.tables import Evaluation, Item, Organization
from assay.store.transitions import move_evaluations, queue_summarised_event

evaluations = cast(Table, Evaluation.__table__)
organizations = cast(Table, Organization.__table__)
items = cast(Table, Item.__table__)
_ACTIVE = [s.value for s in ACTIVE_EVALUATION_STATUSES]


async def insert_evaluation(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(evaluations).values(**values))


async def get_evaluation(
    conn: AsyncConnection, evaluation_id: str, org_id: str | None = None, *, spec: bool = True
) -> Row[Any] | None:
    """The row, or None; with ``org_id`` another tenant's evaluation is invisible.

    Without ``spec`` the row lacks that column, for a caller that holds the spec already: a
    data set of 100,000 cases is tens of megabytes once decoded.
    """
    columns = [c for c in evaluations.c if spec or c.name != "spec"]
    query = select(*columns).where(evaluations.c.id == evaluation_id)
    if org_id is not None:
        query = query.where(evaluations.c.org_id == org_id)
    return (await conn.execute(query)).first()


async def get_kind(conn: AsyncConnection, evaluation_id: str) -> str | None:
    """The evaluation's kind, or None when there is no such evaluation."""
    return await conn.scalar(select(evaluations.c.kind).where(evaluations.c.id == evaluation_id))


async def get_for_engine(
    conn: AsyncConnection, evaluation_id: str, item_fields: Sequence[str]
) -> Row[Any] | None:
    """The row with its spec's ``params`` stripped of ``item_fields``, in the database.

    Those params were copied onto the items when they were planned (``Kind.item_fields``):
    the database drops them before the spec is sent, so the engine never decodes a data set
    of 100,000 cases just to run or summarise its items.
    """
    query = select(*_columns_without(conn, item_fields)).where(evaluations.c.id == evaluation_id)
    return (await conn.execute(query)).first()


def _columns_without(conn: AsyncConnection, item_fields: Sequence[str]) -> list[Any]:
    """Every column of ``evaluations``, the spec's ``params`` stripped of ``item_fields``."""
    spec: Any = evaluations.c.spec
    for name in item_fields:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import ARRAY  # a local run never loads it

            spec = spec.op("#-")(literal(["params", name], ARRAY(Text)))
        else:
            spec = func.json_remove(spec, f"$.params.{name}")
    columns: list[Any] = [c for c in evaluations.c if c.name != "spec"]
    columns.append(type_coerce(spec, evaluations.c.spec.type).label("spec"))
    return columns


#: The columns of ``EvaluationProgress``: a status read decodes neither spec nor summary.
PROGRESS_COLUMNS = (
    evaluations.c.id,
    evaluations.c.workspace_id,
    evaluations.c.kind,
    evaluations.c.name,
    evaluations.c.status,
    evaluations.c.total_items,
    evaluations.c.error,
    evaluations.c.error_code,
    evaluations.c.created_at,
    evaluations.c.started_at,
    evaluations.c.completed_at,
)


def _state_counts() -> list[Label[int]]:
    """Each state's item count as a column of the evaluation's own row.

    A correlated count per state (one range of the (evaluation, state) index each): a read
    that wants the row and its counts takes one round trip, and decodes the row once.
    """
    return [
        select(func.count())
        .where(items.c.evaluation_id == evaluations.c.id, items.c.state == state.value)
        .scalar_subquery()
        .label(f"n_{state.value}")
        for state in ItemState
    ]


_COUNTS = _state_counts()
_ONE = (evaluations.c.id == bindparam("evaluation_id"), evaluations.c.org_id == bindparam("org_id"))
#: Built once, with bound parameters: a statement built per call also paid SQLAlchemy for
#: its cache key every time, and a status poll is read hundreds of times a second.
_PROGRESS = select(*PROGRESS_COLUMNS, *_COUNTS).where(*_ONE)
_WITH_COUNTS = select(evaluations, *_COUNTS).where(*_ONE)


def _counts(mapping: RowMapping) -> dict[str, int]:
    """The states the row's count columns hold items in."""
    found = {state.value: int(mapping[f"n_{state.value}"]) for state in ItemState}
    return {state: n for state, n in found.items() if n}


async def get_progress(
    conn: AsyncConnection, evaluation_id: str, org_id: str
) -> tuple[dict[str, Any], dict[str, int]] | None:
    """The ``PROGRESS_COLUMNS`` of an evaluation of ``org_id`` and its items per state, or None."""
    params = {"evaluation_id": evaluation_id, "org_id": org_id}
    row = (await conn.execute(_PROGRESS, params)).first()
    if row is None:
        return None
    mapping = row._mapping
    return {column.name: mapping[column.name] for column in PROGRESS_COLUMNS}, _counts(mapping)


async def get_with_counts(
    conn: AsyncConnection, evaluation_id: str, org_id: str, item_fields: Sequence[str] = ()
) -> tuple[Row[Any], dict[str, int]] | None:
    """The row of an evaluation of ``org_id`` and its items per state, or None.

    With ``item_fields`` the spec's params lack them, as ``get_for_engine`` reads it.
    """
    params = {"evaluation_id": evaluation_id, "org_id": org_id}
    query = (
        select(*_columns_without(conn, item_fields), *_COUNTS).where(*_ONE)
        if item_fields
        else _WITH_COUNTS
    )
    row = (await conn.execute(query, params)).first()
    return None if row is None else (row, _counts(row._mapping))


async def evaluation_progress(
    conn: AsyncConnection, evaluation_id: str, org_id: str
) -> Row[Any] | None:
    """Status, whether a summary exists, and the error: what a poller needs, without the spec."""
    query = select(
        evaluations.c.status,
        evaluations.c.summary.is_not(None).label("summarised"),
        evaluations.c.error,
    ).where(evaluations.c.id == evaluation_id, evaluations.c.org_id == org_id)
    return (await conn.execute(query)).first()


async def list_evaluations(
    conn: AsyncConnection,
    org_id: str,
    filters: dict[str, Any],
    limit: int,
    offset: int,
    newest_first: bool = True,
    sort_by: str = "created_at",
    kinds: Sequence[str] | None = None,
    workspace_id: str | None = None,
    text: str | None = None,
    created_from: datetime | None = None,
    created_before: datetime | None = None,
) -> tuple[list[Row[Any]], int]:
    """A page of an organization's evaluations; ``filters`` are column equalities, labels too.

    ``text`` matches a part of the name or of the id, ignoring case; ``created_from`` and
    ``created_before`` bound the creation time (from inclusive, before exclusive).
    """
    conditions = [evaluations.c.org_id == org_id]
    if text:
        needle = text.lower()
        conditions.append(
            func.lower(evaluations.c.name).contains(needle, autoescape=True)
            | evaluations.c.id.contains(needle, autoescape=True)
        )
    if created_from is not None:
        conditions.append(evaluations.c.created_at >= created_from)
    if created_before is not None:
        conditions.append(evaluations.c.created_at < created_before)
    if workspace_id is not None:
        conditions.append(evaluations.c.workspace_id == workspace_id)
    if kinds:
        conditions.append(evaluations.c.kind.in_(list(kinds)))
    for key, value in filters.items():
        if value is None:
            continue
        if key in evaluations.c:
            conditions.append(evaluations.c[key] == value)
        else:
            conditions.append(evaluations.c.labels[key].as_string() == str(value))
    column = evaluations.c[sort_by]
    order = (
        (column.desc(), evaluations.c.id.desc())
        if newest_first
        else (column.asc(), evaluations.c.id.asc())
    )
    rows = await conn.execute(
        select(evaluations).where(*conditions).order_by(*order).limit(limit).offset(offset)
    )
    total = await conn.scalar(select(func.count()).select_from(evaluations).where(*conditions))
    return list(rows.all()), int(total or 0)


async def update_evaluation(conn: AsyncConnection, evaluation_id: str, **values: Any) -> None:
    await conn.execute(
        update(evaluations).where(evaluations.c.id == evaluation_id).values(**values)
    )


async def delete_evaluations(
    conn: AsyncConnection, org_id: str, ids: Sequence[str], workspace_id: str | None = None
) -> int:
    conditions = [evaluations.c.org_id == org_id, evaluations.c.id.in_(list(ids))]
    if workspace_id is not None:
        conditions.append(evaluations.c.workspace_id == workspace_id)
    result = await conn.execute(delete(evaluations).where(*conditions))
    return int(result.rowcount)


async def finish_evaluation(
    conn: AsyncConnection, evaluation_id: str, summary: dict[str, Any], now: datetime
) -> bool:
    """Complete an active evaluation with its summary; a cancelled or failed one keeps its status.

    Returns True when this call made the evaluation terminal (so exactly one caller, among
    several workers, queues the completion webhook).
    """
    if await move_evaluations(
        conn, [evaluation_id], EvaluationStatus.COMPLETED, now, summary=summary
    ):
        return True
    written = await conn.execute(
        update(evaluations)
        .where(evaluations.c.id == evaluation_id, evaluations.c.summary.is_(None))
        .values(summary=summary, updated_at=now)
    )
    if written.rowcount:
        await queue_summarised_event(conn, evaluation_id, now)
    return False


async def stranded(conn: AsyncConnection, limit: int = 100) -> list[str]:
    """Evaluations left without a summary although none of their items is open.

    What a process killed between an evaluation's last outcome and its summary leaves behind;
    housekeeping finalizes them.
    """
    open_item = exists().where(
        items.c.evaluation_id == evaluations.c.id,
        items.c.state.not_in([s.value for s in TERMINAL_ITEM_STATES]),
    )
    rows = await conn.execute(
        select(evaluations.c.id)
        .where(evaluations.c.summary.is_(None), ~open_item)
        .where(
            evaluations.c.status.in_(
                [*_ACTIVE, EvaluationStatus.CANCELLED.value, EvaluationStatus.FAILED.value]
            )
        )
        .limit(limit)
    )
    return [row[0] for row in rows.all()]


async def lock_organization(conn: AsyncConnection, org_id: str) -> None:
    """Serialise quota checks of one organization until the transaction ends.

    PostgreSQL locks the organization's row; SQLite already serialises writers, and the
    caller counts after its own insert, which holds SQLite's write lock.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(
            select(organizations.c.id).where(organizations.c.id == org_id).with_for_update()
        )


async def count_active(conn: AsyncConnection, org_id: str) -> int:
    """The organization's evaluations that are pending, running or waiting for a reviewer."""
    total = await conn.scalar(
        select(func.count())
        .select_from(evaluations)
        .where(evaluations.c.org_id == org_id, evaluations.c.status.in_(_ACTIVE))
    )
    return int(total or 0)


async def count_created_since(conn: AsyncConnection, org_id: str, since: datetime) -> int:
    total = await conn.scalar(
        select(func.count())
        .select_from(evaluations)
        .where(evaluations.c.org_id == org_id, evaluations.c.created_at >= since)
    )
    return int(total or 0)


async def cancelled_among(conn: AsyncConnection, evaluation_ids: Sequence[str]) -> set[str]:
    """Which of these evaluations are no longer active (cancelled, failed or deleted)."""
    if not evaluation_ids:
        return set()
    rows = await conn.execute(
        select(evaluations.c.id).where(
            evaluations.c.id.in_(list(evaluation_ids)), evaluations.c.status.in_(_ACTIVE)
        )
    )
    return set(evaluation_ids) - {row[0] for row in rows.all()}
