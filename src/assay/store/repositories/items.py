"""The item queue: claim with a lease, renew, record once, reap expired leases.

Lease protocol (one owner per running item):

1. ``claim_items`` moves up to ``n`` queued items to ``agent_running`` with ``lease_owner``
   set, ``lease_expires_at = now + lease`` and ``attempts + 1``, in one statement (PostgreSQL
   skips rows another worker has locked; SQLite serialises writers).
2. The owner calls ``renew_leases`` well before expiry; one statement renews all its items.
3. ``record_outcomes`` writes terminal states only where the writer still owns the lease and
   the item is still working, so a stale worker can never overwrite a newer result and every
   item is counted once.
4. ``reap_expired`` returns items whose owner vanished to ``queued``, or, once they used
   ``max_attempts`` claims, ends them in ``infra_error``.

Hot paths use SQLAlchemy Core statements and ``executemany`` batches: the engine records
outcomes in batches to keep the per-item CPU cost small.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.core.ids import new_id
from assay.core.outcome import ItemRecord
from assay.core.spec import ItemPlan
from assay.core.states import TERMINAL_ITEM_STATES, WORKING_ITEM_STATES, ItemState
from assay.store.tables import Item

items = cast(Table, Item.__table__)
_WORKING = [s.value for s in WORKING_ITEM_STATES]
_TERMINAL = [s.value for s in TERMINAL_ITEM_STATES]


@dataclass(frozen=True)
class ClaimedItem:
    id: str
    evaluation_id: str
    seq: int
    input: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class FinishedItem:
    id: str
    evaluation_id: str
    state: ItemState
    outcome: dict[str, Any] | None
    error: dict[str, Any] | None


async def insert_items(
    conn: AsyncConnection,
    evaluation_id: str,
    plans: Sequence[ItemPlan],
    max_attempts: int,
    now: datetime,
) -> None:
    if not plans:
        return
    await conn.execute(
        insert(items),
        [
            {
                "id": new_id(),
                "evaluation_id": evaluation_id,
                "seq": seq,
                "input": plan.input,
                "state": ItemState.QUEUED.value,
                "attempts": 0,
                "max_attempts": max_attempts,
                "created_at": now,
            }
            for seq, plan in enumerate(plans)
        ],
    )


async def claim_items(
    conn: AsyncConnection, owner: str, n: int, lease_seconds: float, now: datetime
) -> list[ClaimedItem]:
    """Take up to ``n`` queued items, oldest evaluation first, in ``seq`` order.

    The read comes first so an idle poll never takes SQLite's write lock; the update
    re-checks the state, so two processes racing for one row cannot both win it.
    """
    candidates = (
        select(items.c.id)
        .where(items.c.state == ItemState.QUEUED.value)
        .order_by(items.c.created_at, items.c.evaluation_id, items.c.seq)
        .limit(n)
    )
    if conn.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list((await conn.execute(candidates)).scalars())
    if not ids:
        return []
    result = await conn.execute(
        update(items)
        .where(items.c.id.in_(ids), items.c.state == ItemState.QUEUED.value)
        .values(
            state=ItemState.AGENT_RUNNING.value,
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=items.c.attempts + 1,
            started_at=func.coalesce(items.c.started_at, now),
        )
        .returning(items.c.id, items.c.evaluation_id, items.c.seq, items.c.input, items.c.attempts)
    )
    claimed = [ClaimedItem(*row) for row in result.all()]
    claimed.sort(key=lambda c: (c.evaluation_id, c.seq))
    return claimed


async def release_items(conn: AsyncConnection, owner: str, item_ids: Sequence[str]) -> None:
    """Give unfinished items back to the queue on a clean shutdown; the attempt is not spent."""
    if not item_ids:
        return
    await conn.execute(
        update(items)
        .where(
            items.c.id.in_(list(item_ids)),
            items.c.lease_owner == owner,
            items.c.state.in_(_WORKING),
        )
        .values(
            state=ItemState.QUEUED.value,
            lease_owner=None,
            lease_expires_at=None,
            attempts=items.c.attempts - 1,
        )
    )


async def renew_leases(
    conn: AsyncConnection, owner: str, lease_seconds: float, now: datetime
) -> None:
    await conn.execute(
        update(items)
        .where(items.c.lease_owner == owner, items.c.state.in_(_WORKING))
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
    )


async def record_outcomes(
    conn: AsyncConnection, owner: str, finished: Sequence[FinishedItem], now: datetime
) -> None:
    """Write terminal states, only where ``owner`` still holds the lease (write-once)."""
    if not finished:
        return
    statement = (
        update(items)
        .where(
            items.c.id == bindparam("b_id"),
            items.c.lease_owner == owner,
            # executemany cannot expand IN (...), so the working states are spelled out.
            or_(*(items.c.state == state for state in _WORKING)),
        )
        .values(
            state=bindparam("b_state"),
            outcome=bindparam("b_outcome"),
            error=bindparam("b_error"),
            finished_at=now,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    await conn.execute(
        statement,
        [
            {"b_id": f.id, "b_state": f.state.value, "b_outcome": f.outcome, "b_error": f.error}
            for f in finished
        ],
    )


async def reap_expired(conn: AsyncConnection, now: datetime) -> set[str]:
    """Requeue items whose lease expired; end those out of attempts. Returns evaluations touched."""
    expired = (items.c.state.in_(_WORKING), items.c.lease_expires_at < now)
    exhausted = await conn.execute(
        update(items)
        .where(*expired, items.c.attempts >= items.c.max_attempts)
        .values(
            state=ItemState.INFRA_ERROR.value,
            error={
                "code": "lease_lost",
                "message": "the worker running this item stopped too many times",
            },
            finished_at=now,
            lease_owner=None,
            lease_expires_at=None,
        )
        .returning(items.c.evaluation_id)
    )
    touched = {row[0] for row in exhausted.all()}
    requeued = await conn.execute(
        update(items)
        .where(*expired)
        .values(state=ItemState.QUEUED.value, lease_owner=None, lease_expires_at=None)
        .returning(items.c.evaluation_id)
    )
    return touched | {row[0] for row in requeued.all()}


async def cancel_queued(conn: AsyncConnection, evaluation_id: str, now: datetime) -> None:
    await conn.execute(
        update(items)
        .where(items.c.evaluation_id == evaluation_id, items.c.state == ItemState.QUEUED.value)
        .values(
            state=ItemState.CANCELLED.value,
            error={"code": "cancelled", "message": "the evaluation was cancelled"},
            finished_at=now,
        )
    )


async def unfinished_evaluations(conn: AsyncConnection, evaluation_ids: Iterable[str]) -> set[str]:
    """The subset of ``evaluation_ids`` that still has an item in a non-terminal state."""
    ids = list(evaluation_ids)
    if not ids:
        return set()
    rows = await conn.execute(
        select(items.c.evaluation_id)
        .where(items.c.evaluation_id.in_(ids), items.c.state.not_in(_TERMINAL))
        .distinct()
    )
    return {row[0] for row in rows.all()}


async def item_records(conn: AsyncConnection, evaluation_id: str) -> list[ItemRecord]:
    rows = await conn.execute(
        select(items.c.seq, items.c.state, items.c.input, items.c.outcome, items.c.error)
        .where(items.c.evaluation_id == evaluation_id)
        .order_by(items.c.seq)
    )
    return [
        ItemRecord(seq=seq, state=state, input=input_, outcome=outcome, error=error)
        for seq, state, input_, outcome, error in rows.all()
    ]


async def count_finished(conn: AsyncConnection, evaluation_ids: Sequence[str]) -> int:
    if not evaluation_ids:
        return 0
    total = await conn.scalar(
        select(func.count()).where(
            items.c.evaluation_id.in_(list(evaluation_ids)), items.c.state.in_(_TERMINAL)
        )
    )
    return int(total or 0)


async def state_counts(conn: AsyncConnection, evaluation_id: str) -> dict[str, int]:
    rows = await conn.execute(
        select(items.c.state, func.count())
        .where(items.c.evaluation_id == evaluation_id)
        .group_by(items.c.state)
    )
    return {state: int(count) for state, count in rows.all()}
