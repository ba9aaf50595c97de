"""Evaluations: create (plan + store + enqueue), read, list, rename, delete, cancel, wait."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from assay.core.errors import EvaluationNotFound, InvalidTransition, NotFound, QuotaExceeded
from assay.core.evaluation import EvaluationPage, EvaluationProgress, EvaluationView, ReasonCount
from assay.core.ids import new_id
from assay.core.principal import Principal, Role
from assay.core.spec import EvaluationSpec
from assay.core.states import EvaluationStatus, ItemState, check_evaluation_move
from assay.engine.planner import plan_evaluation
from assay.kinds._registry import get_kind
from assay.services.access import can_see, require_role
from assay.services.container import Container
from assay.store.repositories import evaluations as evaluation_rows
from assay.store.repositories import item_errors, tenancy
from assay.store.repositories import items as item_rows
from assay.store.tables import Project
from assay.store.transitions import move_evaluations

#: Items inserted per statement: a 100,000-case data set never builds all its rows at once.
ITEM_INSERT_BATCH = 2000


def view_from_row(
    row: Row[Any],
    item_counts: dict[str, int] | None = None,
    infra_errors: list[ReasonCount] | None = None,
    spec: EvaluationSpec | None = None,
) -> EvaluationView:
    """The view of ``row``; ``spec`` is the row's spec when the caller has it already."""
    return EvaluationView(
        id=row.id,
        org_id=row.org_id,
        workspace_id=row.workspace_id,
        project_id=row.project_id,
        kind=row.kind,
        name=row.name,
        collection=row.collection,
        agent_id=row.agent_id,
        spec=spec if spec is not None else EvaluationSpec.model_validate(row.spec),
        labels=row.labels or {},
        status=EvaluationStatus(row.status),
        total_items=row.total_items,
        summary=row.summary,
        error=row.error,
        error_code=row.error_code,
        webhook_url=row.webhook_url,
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        completed_at=row.completed_at,
        item_counts=item_counts or {},
        infra_errors=infra_errors or [],
    )


async def _visible_row(
    conn: AsyncConnection, principal: Principal, evaluation_id: str, *, spec: bool = True
) -> Row[Any]:
    """The row if the caller may see it: same organization, and same workspace for a scoped key."""
    row = await evaluation_rows.get_evaluation(conn, evaluation_id, principal.org_id, spec=spec)
    if row is None or not can_see(principal, row.workspace_id):
        raise EvaluationNotFound(f"evaluation {evaluation_id!r} not found")
    return row


async def _check_quotas(
    conn: AsyncConnection, container: Container, org_id: str, now: datetime
) -> None:
    """Raise QuotaExceeded when the organization is over a limit, counting the new evaluation.

    Called after the new row is inserted, with the organization locked, so two creations
    racing each other are counted one after the other.
    """
    settings = container.settings
    concurrent = settings.quota_concurrent_evaluations
    if concurrent and await evaluation_rows.count_active(conn, org_id) > concurrent:
        raise QuotaExceeded(
            f"the organization already has {concurrent} evaluations pending or running "
            "(ASSAY_QUOTA_CONCURRENT_EVALUATIONS); wait for one to finish or cancel one",
            retry_after=30,
        )
    daily = settings.quota_daily_evaluations
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if daily and await evaluation_rows.count_created_since(conn, org_id, midnight) > daily:
        reset = midnight + timedelta(days=1)
        raise QuotaExceeded(
            f"the organization created {daily} evaluations today (ASSAY_QUOTA_DAILY_EVALUATIONS); "
            f"the quota resets at {reset.isoformat()}",
            retry_after=max(1, int((reset - now).total_seconds())),
        )


async def create_evaluation(
    container: Container,
    principal: Principal,
    spec: EvaluationSpec,
    *,
    secrets: dict[str, Any] | None = None,
    collection: str = "native",
    labels: dict[str, Any] | None = None,
    webhook_url: str | None = None,
    evaluation_id: str | None = None,
    enforce_quotas: bool = False,
    project_id: str | None = None,
) -> EvaluationView:
    """Validate, plan and store an evaluation with its items in one transaction, then enqueue.

    ``evaluation_id`` is the id to store it under (a new uuid when None). With
    ``enforce_quotas`` (API callers) the organization's quotas apply. ``project_id`` files it
    in that project (already resolved within the caller's organization); by default it goes
    to the ``default`` project of the caller's workspace.

    Raises:
        ValidationFailed: a field is wrong (naming it), before anything is written.
        QuotaExceeded: the organization is at a quota; nothing is written.
    """
    require_role(principal, Role.MEMBER)
    view = await _store(
        container,
        principal,
        spec,
        evaluation_id or new_id(),
        secrets=secrets,
        collection=collection,
        labels=labels,
        webhook_url=webhook_url,
        enforce_quotas=enforce_quotas,
        project_id=project_id,
    )
    container.notify_work()
    return view


async def _store(
    container: Container,
    principal: Principal,
    spec: EvaluationSpec,
    evaluation_id: str,
    *,
    secrets: dict[str, Any] | None,
    collection: str,
    labels: dict[str, Any] | None,
    webhook_url: str | None,
    enforce_quotas: bool,
    project_id: str | None,
) -> EvaluationView:
    """Plan the evaluation, write it with its items in one transaction, and read it back.

    It is read back before the commit, so the view is the evaluation as created (``pending``)
    whatever an engine does the moment it is committed.
    """
    spec, plans = plan_evaluation(spec, container.settings.judge_model, container.default_limits())
    now = datetime.now(UTC)
    async with container.sessions.begin() as session:
        project = await project_for(session, principal, project_id)
        conn = await session.connection()
        if enforce_quotas:
            await evaluation_rows.lock_organization(conn, principal.org_id)
        await evaluation_rows.insert_evaluation(
            conn,
            {
                "id": evaluation_id,
                "org_id": principal.org_id,
                "workspace_id": project.workspace_id,
                "project_id": project.id,
                "kind": spec.kind,
                "name": spec.name,
                "collection": collection,
                "agent_id": spec.target.agent_id,
                "spec": spec.model_dump(mode="json"),
                "labels": labels or {},
                "status": EvaluationStatus.PENDING.value,
                "total_items": len(plans),
                "webhook_url": webhook_url,
                "secrets_enc": container.secrets.seal(secrets or {}),
                "created_at": now,
                "updated_at": now,
            },
        )
        if enforce_quotas:
            await _check_quotas(conn, container, principal.org_id, now)
        for start in range(0, len(plans), ITEM_INSERT_BATCH):
            await item_rows.insert_items(
                conn,
                evaluation_id,
                plans[start : start + ITEM_INSERT_BATCH],
                spec.limits.max_attempts,
                now,
                first_seq=start,
            )
        del plans  # 100,000 of them are tens of megabytes: freed before the view is read
        # The spec as stored is the one at hand: read back, a data set would be decoded and
        # validated twice more.
        row = await _visible_row(conn, principal, evaluation_id, spec=False)
        return view_from_row(row, spec=spec)


async def project_for(
    session: AsyncSession, principal: Principal, project_id: str | None
) -> Project:
    """The project an evaluation is filed in: the given one, or the workspace's default."""
    if project_id is not None:
        project = await session.get(Project, project_id)
        if (
            project is None
            or project.org_id != principal.org_id
            or not can_see(principal, project.workspace_id)
        ):
            raise NotFound(f"project {project_id!r} not found")
        return project
    if principal.workspace_id is not None:
        workspace = await tenancy.get_workspace_by_id(session, principal.workspace_id)
        if workspace is None:
            raise NotFound("the key's workspace no longer exists")
    else:
        workspace = await tenancy.ensure_workspace(session, principal.org_id, tenancy.DEFAULT_SLUG)
    return await tenancy.ensure_project(session, workspace, tenancy.DEFAULT_SLUG)


async def get_evaluation(
    container: Container,
    principal: Principal,
    evaluation_id: str,
    *,
    with_counts: bool = False,
    without_item_fields: bool = False,
) -> EvaluationView:
    """One evaluation of the caller's organization; another tenant's is NotFound.

    ``without_item_fields`` (with counts) leaves out of the spec's params what its kind copies
    onto the items (``Kind.item_fields``, a data set's cases): for a caller that reports the
    result, not the data set.
    """
    async with container.db.connect() as conn:
        if not with_counts:
            return view_from_row(await _visible_row(conn, principal, evaluation_id))
        item_fields: tuple[str, ...] = ()
        if without_item_fields:
            kind = await evaluation_rows.get_kind(conn, evaluation_id)
            item_fields = get_kind(kind).item_fields if kind is not None else ()
        found = await evaluation_rows.get_with_counts(
            conn, evaluation_id, principal.org_id, item_fields
        )
        if found is None or not can_see(principal, found[0].workspace_id):
            raise EvaluationNotFound(f"evaluation {evaluation_id!r} not found")
        row, counts = found
        reasons = await _infra_reasons(conn, evaluation_id, counts)
    return view_from_row(row, counts, reasons)


async def _infra_reasons(
    conn: AsyncConnection, evaluation_id: str, counts: dict[str, int] | None
) -> list[ReasonCount] | None:
    """The grouped reasons of the infra errors the counts show; no query when there are none."""
    if not counts or not counts.get(ItemState.INFRA_ERROR.value):
        return None
    return await item_errors.infra_error_reasons(conn, evaluation_id)


async def get_progress(
    container: Container, principal: Principal, evaluation_id: str
) -> EvaluationProgress:
    """Where one evaluation stands, with its item counts: the cheap read status routes poll."""
    async with container.db.connect() as conn:
        found = await evaluation_rows.get_progress(conn, evaluation_id, principal.org_id)
        if found is None or not can_see(principal, found[0]["workspace_id"]):
            raise EvaluationNotFound(f"evaluation {evaluation_id!r} not found")
        row, counts = found
        reasons = await _infra_reasons(conn, evaluation_id, counts)
    return EvaluationProgress(**row, item_counts=counts, infra_errors=reasons or [])


async def list_evaluations(
    container: Container,
    principal: Principal,
    *,
    limit: int,
    offset: int,
    filters: dict[str, Any] | None = None,
    kinds: Sequence[str] | None = None,
    newest_first: bool = True,
    sort_by: str = "created_at",
    text: str | None = None,
    created_from: datetime | None = None,
    created_before: datetime | None = None,
) -> EvaluationPage:
    """A page of the caller's evaluations; see the repository for what each filter matches."""
    async with container.db.connect() as conn:
        rows, total = await evaluation_rows.list_evaluations(
            conn,
            principal.org_id,
            filters or {},
            limit,
            offset,
            newest_first=newest_first,
            sort_by=sort_by,
            kinds=kinds,
            workspace_id=principal.workspace_id,
            text=text,
            created_from=created_from,
            created_before=created_before,
        )
    return EvaluationPage(items=[view_from_row(r) for r in rows], total=total)


async def rename_evaluation(
    container: Container, principal: Principal, evaluation_id: str, name: str
) -> EvaluationView:
    require_role(principal, Role.MEMBER)
    await get_evaluation(container, principal, evaluation_id)
    async with container.db.begin() as conn:
        await evaluation_rows.update_evaluation(
            conn, evaluation_id, name=name, updated_at=datetime.now(UTC)
        )
    return await get_evaluation(container, principal, evaluation_id)


async def delete_evaluations(
    container: Container, principal: Principal, evaluation_ids: Sequence[str]
) -> int:
    """Delete evaluations with their items; ids of other tenants are ignored. Returns how many."""
    require_role(principal, Role.MEMBER)
    async with container.db.begin() as conn:
        return await evaluation_rows.delete_evaluations(
            conn, principal.org_id, evaluation_ids, workspace_id=principal.workspace_id
        )


async def cancel_evaluation(
    container: Container,
    principal: Principal,
    evaluation_id: str,
    *,
    reason: str = "the evaluation was cancelled",
) -> EvaluationView:
    """Stop queued and waiting items now and running ones within a poll interval.

    Finished items are kept. ``reason`` is stored on the items it stops (``assay run`` says it
    was interrupted). Raises InvalidTransition when the evaluation already ended.
    """
    require_role(principal, Role.MEMBER)
    now = datetime.now(UTC)
    async with container.db.begin() as conn:
        row = await _visible_row(conn, principal, evaluation_id)
        check_evaluation_move(EvaluationStatus(row.status), EvaluationStatus.CANCELLED)
        moved = await move_evaluations(conn, [evaluation_id], EvaluationStatus.CANCELLED, now)
        if not moved:
            raise InvalidTransition("the evaluation ended while it was being cancelled")
        await item_rows.cancel_open_items(conn, evaluation_id, now, reason)
    container.notify_webhooks()
    return await get_evaluation(container, principal, evaluation_id, with_counts=True)


async def is_finished(container: Container, principal: Principal, evaluation_id: str) -> bool:
    """True once the evaluation is terminal and summarised (or failed); a cheap query to poll."""
    async with container.db.connect() as conn:
        row = await evaluation_rows.evaluation_progress(conn, evaluation_id, principal.org_id)
    if row is None:
        raise EvaluationNotFound(f"evaluation {evaluation_id!r} not found")
    status = EvaluationStatus(row.status)
    return status.is_terminal and (bool(row.summarised) or status is EvaluationStatus.FAILED)


async def finished_items(container: Container, evaluation_ids: Sequence[str]) -> int:
    """Items in a terminal state across these evaluations, for progress bars."""
    async with container.db.connect() as conn:
        return await item_rows.count_finished(conn, evaluation_ids)


async def wait_for_evaluation(
    container: Container, principal: Principal, evaluation_id: str, timeout: float | None = None
) -> EvaluationView:
    """Poll until the evaluation is terminal and summarised, with growing intervals.

    Raises TimeoutError after ``timeout`` seconds. A cancelled evaluation is returned once
    its running items have stopped and its summary is written.
    """
    delay = 0.02
    async with asyncio.timeout(timeout):
        while not await is_finished(container, principal, evaluation_id):
            await container.wait_for_change(evaluation_id, delay)
            delay = min(delay * 1.5, 0.5)
    return await get_evaluation(container, principal, evaluation_id, with_counts=True)
