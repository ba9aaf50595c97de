"""Every status move of evaluations and items goes through the two functions here.

:func:`move_evaluations` checks the move against the table in ``core/states.py`` in its WHERE
clause (so two processes racing to move one row cannot both win) and, when the move is
terminal, writes the webhook outbox event in the same transaction: an event exists exactly
when its status change committed. :func:`item_move` builds the UPDATE for an item move the
same way; the item repository runs it (in batches on the hot path).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, Update, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.core.states import EvaluationStatus, ItemState, evaluation_sources, item_sources
from assay.store.repositories import webhooks as webhook_rows
from assay.store.tables import Evaluation, Item
from assay.store.unindexed import unindexed

evaluations = cast(Table, Evaluation.__table__)
items = cast(Table, Item.__table__)
#: What a webhook's event is made of: every column but the spec (it may hold a whole data
#: set) and the sealed secrets.
_EVENT_ROW = select(*(c for c in evaluations.c if c.name not in ("spec", "secrets_enc")))

#: A label of evaluations whose terminal webhook is their kind's own, built from the summary
#: (``summary["webhook_event"]``): sent on completion, and on cancellation or failure once the
#: summary exists, never replaced by the generic event.
KIND_EVENT_LABEL = "kind_webhook_event"

#: Terminal status -> webhook event name.
EVENTS: dict[EvaluationStatus, str] = {
    EvaluationStatus.COMPLETED: "evaluation.completed",
    EvaluationStatus.FAILED: "evaluation.failed",
    EvaluationStatus.CANCELLED: "evaluation.cancelled",
}


async def move_evaluations(
    conn: AsyncConnection,
    evaluation_ids: Sequence[str],
    new: EvaluationStatus,
    now: datetime,
    **values: Any,
) -> list[str]:
    """Move each evaluation to ``new`` where the table allows it; returns the ids moved.

    An evaluation already in a status that cannot move to ``new`` (another process finished
    it, a user cancelled it) is left as it is. Terminal moves set ``completed_at`` and queue
    the webhook event of each evaluation moved.
    """
    if not evaluation_ids:
        return []
    statement = _evaluation_move(new, tuple(sorted(values)))
    result = await conn.execute(statement, {"ids": list(evaluation_ids), "now": now, **values})
    moved = [row[0] for row in result.all()]
    if new.is_terminal:
        for evaluation_id in moved:
            await _queue_terminal_event(conn, evaluation_id, now)
    return moved


@functools.cache
def _evaluation_move(new: EvaluationStatus, value_names: tuple[str, ...]) -> Update:
    """The UPDATE of ``move_evaluations``, built once per move: its values are bound.

    Building an SQLAlchemy statement costs more than running it on SQLite, and the engine
    moves evaluations to ``running`` on every claim.
    """
    now = bindparam("now", type_=evaluations.c.updated_at.type)
    values: dict[str, Any] = {
        name: bindparam(name, type_=evaluations.c[name].type) for name in value_names
    }
    if new.is_terminal:
        values.setdefault("completed_at", now)
    if new is EvaluationStatus.RUNNING:
        values.setdefault("started_at", func.coalesce(evaluations.c.started_at, now))
    sources = [s.value for s in evaluation_sources(new)]
    return (
        update(evaluations)
        .where(
            evaluations.c.id.in_(bindparam("ids", expanding=True)),
            evaluations.c.status.in_(sources),
        )
        .values(status=new.value, updated_at=now, **values)
        .returning(evaluations.c.id)
    )


def item_move(
    new: ItemState | Iterable[ItemState],
    *conditions: ColumnElement[bool],
    keyed: bool = False,
    **values: Any,
) -> Update:
    """The UPDATE moving items to ``new``, only from the states the table allows.

    ``new`` may be several states (a batch of outcomes whose state is bound per row): the
    statement then allows only the sources all of them share. With one state, ``state`` is
    set to it; with several, the caller binds ``state`` in ``values``. The sources are
    spelled as equalities because executemany cannot expand ``IN``. ``keyed`` says the
    conditions pick the rows by id: their state is then checked on those rows, never searched
    in a state index (``store/unindexed.py``).
    """
    targets = {new} if isinstance(new, ItemState) else set(new)
    sources = frozenset.intersection(*(item_sources(t) for t in targets))
    if isinstance(new, ItemState):
        values.setdefault("state", new.value)
    state = unindexed(items.c.state) if keyed else items.c.state
    return (
        update(items)
        .where(*conditions, or_(*(state == s.value for s in sorted(sources))))
        .values(**values)
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def evaluation_payload(row: Row[Any]) -> dict[str, Any]:
    """The evaluation as a webhook shows it: identity, status, times, and the summary's scores.

    Only the summary's scalar fields (scores, rates) and its ``counts`` are included, so a
    payload stays small whatever the kind; the full results are one GET away.
    """
    payload: dict[str, Any] = {
        "id": row.id,
        "kind": row.kind,
        "name": row.name,
        "status": row.status,
        "agent_id": row.agent_id,
        "created_at": _iso(row.created_at),
        "started_at": _iso(row.started_at),
        "completed_at": _iso(row.completed_at),
    }
    if row.status == EvaluationStatus.FAILED.value:
        payload["error"] = {"code": row.error_code, "message": row.error}
    summary = row.summary or {}
    for key, value in summary.items():
        if value is None or isinstance(value, bool | int | float | str):
            payload.setdefault(key, value)
    if isinstance(summary.get("counts"), dict):
        payload["counts"] = summary["counts"]
    return payload


async def _queue_terminal_event(conn: AsyncConnection, evaluation_id: str, now: datetime) -> None:
    """Queue the event of the evaluation's terminal status, if it has a webhook URL.

    A kind whose summary holds ``webhook_event`` (``{"event", "payload", "id_field"}``) sends
    that payload, with the evaluation's id under ``id_field``, instead of the generic one
    (the checkpointed kind's ``checkpoints_completed``). An evaluation labelled
    :data:`KIND_EVENT_LABEL` that has no summary yet (cancelled while it ran) sends nothing
    now: :func:`queue_summarised_event` sends the kind's event when the summary is written.
    """
    row = (await conn.execute(_EVENT_ROW.where(evaluations.c.id == evaluation_id))).first()
    if row is None or not row.webhook_url:
        return
    event = EVENTS.get(EvaluationStatus(row.status))
    if event is None:
        return
    payload: dict[str, Any] = {"event": event, "evaluation": evaluation_payload(row)}
    custom = (row.summary or {}).get("webhook_event")
    if isinstance(custom, dict):
        event = str(custom["event"])
        payload = {str(custom["id_field"]): row.id, **custom["payload"]}
    elif (row.labels or {}).get(KIND_EVENT_LABEL):
        return
    await _queue(conn, row, event, payload, now)


async def queue_summarised_event(conn: AsyncConnection, evaluation_id: str, now: datetime) -> None:
    """The kind's own terminal event of an evaluation summarised after it ended.

    Only for evaluations labelled :data:`KIND_EVENT_LABEL` (cancelled or failed before their
    summary existed); the others got their generic event when they ended.
    """
    row = (await conn.execute(_EVENT_ROW.where(evaluations.c.id == evaluation_id))).first()
    if row is not None and (row.labels or {}).get(KIND_EVENT_LABEL):
        await _queue_terminal_event(conn, evaluation_id, now)


async def queue_wait_event(
    conn: AsyncConnection, item_id: str, announce: dict[str, Any], now: datetime
) -> None:
    """Queue a suspended item's ``announce`` event, if it is now waiting and has a webhook.

    Called in the transaction that parks the item, so the event exists exactly when the
    wait does (a stale result whose item did not move sends nothing).
    """
    query = (
        select(evaluations)
        .join(items, items.c.evaluation_id == evaluations.c.id)
        .where(items.c.id == item_id, items.c.state == ItemState.WAITING.value)
    )
    row = (await conn.execute(query)).first()
    if row is None or not row.webhook_url:
        return
    await _queue(conn, row, str(announce["event"]), announce, now)


async def _queue(
    conn: AsyncConnection, row: Row[Any], event: str, payload: dict[str, Any], now: datetime
) -> None:
    await webhook_rows.insert_delivery(
        conn,
        {
            "id": f"whd-{uuid.uuid4()}",
            "evaluation_id": row.id,
            "org_id": row.org_id,
            "event": event,
            "url": row.webhook_url,
            "payload": payload,
            "status": webhook_rows.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
