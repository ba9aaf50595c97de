"""The item queue: claim with a lease, report phases, record once, suspend, resume, reap.

Lease protocol (one owner per working item):

1. ``claim_items`` moves up to ``n`` queued items to ``claiming`` with ``lease_owner`` set,
   ``lease_expires_at = now + lease`` and ``attempts + 1``, in one statement (PostgreSQL
   skips rows another worker has locked; SQLite serialises writers).
2. The owner calls ``renew_leases`` well before expiry; one statement renews all its items.
   Phases (``set_phases``) and saved state (``save_state``) are written only by the owner.
3. ``record_outcomes`` writes terminal states and ``suspend_items`` waiting ones only where
   the writer still owns the lease and the item is still working, so a stale worker can
   never overwrite a newer result and every item is counted once. A suspended item gives up
   its lease; ``resume_items`` puts it back in the queue with its saved state.
4. ``reap_expired`` returns items whose owner vanished to ``queued``, or, once they used
   ``max_attempts`` claims since their last suspension, ends them in ``infra_error``.

Every move is built by ``store/transitions.item_move``, which allows only the moves of the
table in ``core/states.py``. Hot paths use SQLAlchemy Core statements and ``executemany``
batches: the engine records outcomes and phases in batches to keep the per-item cost small.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from assay.core.ids import new_id
from assay.core.outcome import ItemRecord
from assay.core.spec import ItemPlan
from assay.core.states import TERMINAL_ITEM_STATES, WORKING_ITEM_STATES, ItemState
from assay.store.tables import Evaluation, Item
from assay.store.transitions import item_move
from assay.store.unindexed import unindexed

items = cast(Table, Item.__table__)
evaluations = cast(Table, Evaluation.__table__)
_WORKING = [s.value for s in WORKING_ITEM_STATES]
_TERMINAL = [s.value for s in TERMINAL_ITEM_STATES]
_OPEN = [s.value for s in ItemState if s not in TERMINAL_ITEM_STATES]
_RETURNED = (
    items.c.id,
    items.c.evaluation_id,
    items.c.seq,
    items.c.input,
    items.c.attempts,
    items.c.saved_state,
)


@dataclass(frozen=True)
class ClaimedItem:
    id: str
    evaluation_id: str
    seq: int
    input: dict[str, Any]
    attempts: int
    #: What the item saved in an earlier run (it was suspended, or checkpointed itself).
    saved_state: dict[str, Any] | None = None


@dataclass(frozen=True)
class FinishedItem:
    id: str
    evaluation_id: str
    state: ItemState
    outcome: dict[str, Any] | None
    error: dict[str, Any] | None


@dataclass(frozen=True)
class SuspendedItem:
    id: str
    evaluation_id: str
    saved_state: dict[str, Any]
    waiting_for: str
    resume_after: datetime | None
    #: A webhook event to queue once the item waits (``Suspend.announce``).
    announce: dict[str, Any] | None = None


async def insert_items(
    conn: AsyncConnection,
    evaluation_id: str,
    plans: Sequence[ItemPlan],
    max_attempts: int,
    now: datetime,
    first_seq: int = 0,
) -> None:
    """Insert ``plans`` as queued items numbered from ``first_seq`` (callers insert in batches)."""
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
                "attempt_base": 0,
                "max_attempts": max_attempts,
                "created_at": now,
            }
            for seq, plan in enumerate(plans, start=first_seq)
        ],
    )


#: Claiming, built once (building a statement costs more than running it on SQLite): the
#: next queued items in order, read off ``ix_items_queue``, then the move of those still queued.
_NEXT_QUEUED = (
    select(items.c.id)
    .where(items.c.state == ItemState.QUEUED.value)
    .order_by(items.c.created_at, items.c.evaluation_id, items.c.seq)
    .limit(bindparam("n"))
)
_NEXT_QUEUED_LOCKED = _NEXT_QUEUED.with_for_update(skip_locked=True)
_CLAIM = item_move(
    ItemState.CLAIMING,
    items.c.id.in_(bindparam("ids", expanding=True)),
    keyed=True,
    lease_owner=bindparam("owner"),
    lease_expires_at=bindparam("expires", type_=items.c.lease_expires_at.type),
    attempts=items.c.attempts + 1,
    started_at=func.coalesce(items.c.started_at, bindparam("now", type_=items.c.started_at.type)),
).returning(*_RETURNED)


async def _claim(
    conn: AsyncConnection, owner: str, ids: Sequence[str], lease_seconds: float, now: datetime
) -> list[ClaimedItem]:
    expires = now + timedelta(seconds=lease_seconds)
    result = await conn.execute(
        _CLAIM, {"ids": list(ids), "owner": owner, "expires": expires, "now": now}
    )
    return [ClaimedItem(*row) for row in result.all()]


async def claim_items(
    conn: AsyncConnection, owner: str, n: int, lease_seconds: float, now: datetime
) -> list[ClaimedItem]:
    """Take up to ``n`` queued items, oldest evaluation first, in ``seq`` order.

    The read comes first so an idle poll never takes SQLite's write lock; the update
    re-checks the state, so two processes racing for one row cannot both win it.
    """
    candidates = _NEXT_QUEUED_LOCKED if conn.dialect.name == "postgresql" else _NEXT_QUEUED
    ids = list((await conn.execute(candidates, {"n": n})).scalars())
    if not ids:
        return []
    claimed = await _claim(conn, owner, ids, lease_seconds, now)
    claimed.sort(key=lambda c: (c.evaluation_id, c.seq))
    return claimed


async def claim_items_by_id(
    conn: AsyncConnection, owner: str, item_ids: Sequence[str], lease_seconds: float, now: datetime
) -> list[ClaimedItem]:
    """Take those of ``item_ids`` that are queued (a broker message's batch), in one update.

    The others (finished, running elsewhere, waiting) are left alone: a redelivered message
    claims nothing.
    """
    return await _claim(conn, owner, item_ids, lease_seconds, now)


async def release_items(conn: AsyncConnection, owner: str, item_ids: Sequence[str]) -> None:
    """Give unfinished items back to the queue on a clean shutdown; the attempt is not spent."""
    if not item_ids:
        return
    await conn.execute(
        item_move(
            ItemState.QUEUED,
            items.c.id.in_(list(item_ids)),
            items.c.lease_owner == owner,
            unindexed(items.c.state).in_(_WORKING),
            keyed=True,
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


async def set_phases(
    conn: AsyncConnection, owner: str, phases: Iterable[tuple[str, ItemState]]
) -> None:
    """Store the phase each item reported last; items no longer ours are left alone."""
    by_phase: dict[ItemState, list[str]] = {}
    for item_id, phase in phases:
        by_phase.setdefault(phase, []).append(item_id)
    for phase, item_ids in by_phase.items():
        await conn.execute(
            item_move(phase, items.c.id == bindparam("b_id"), items.c.lease_owner == owner),
            [{"b_id": item_id} for item_id in item_ids],
        )


async def save_state(
    conn: AsyncConnection, owner: str, item_id: str, state: dict[str, Any]
) -> bool:
    """Keep what a running item saved, for its next run; False if the lease is no longer ours."""
    result = await conn.execute(
        update(items)
        .where(items.c.id == item_id, items.c.lease_owner == owner, items.c.state.in_(_WORKING))
        .values(saved_state=state)
    )
    return bool(result.rowcount)


async def record_outcomes(
    conn: AsyncConnection, owner: str, finished: Sequence[FinishedItem], now: datetime
) -> None:
    """Write terminal states, only where ``owner`` still holds the lease (write-once)."""
    if not finished:
        return
    statement = item_move(
        TERMINAL_ITEM_STATES,
        items.c.id == bindparam("b_id"),
        items.c.lease_owner == owner,
        state=bindparam("b_state"),
        outcome=bindparam("b_outcome"),
        error=bindparam("b_error"),
        finished_at=now,
        lease_owner=None,
        lease_expires_at=None,
    )
    await conn.execute(
        statement,
        [
            {"b_id": f.id, "b_state": f.state.value, "b_outcome": f.outcome, "b_error": f.error}
            for f in finished
        ],
    )


async def suspend_items(
    conn: AsyncConnection, owner: str, suspended: Sequence[SuspendedItem], now: datetime
) -> None:
    """Park items until their event, keeping their saved state; they give up their lease."""
    for item in suspended:
        await conn.execute(
            item_move(
                ItemState.WAITING,
                items.c.id == item.id,
                items.c.lease_owner == owner,
                saved_state=item.saved_state,
                waiting_for=item.waiting_for,
                waiting_since=now,
                resume_after=item.resume_after,
                lease_owner=None,
                lease_expires_at=None,
                attempt_base=items.c.attempts,
            )
        )


async def resume_items(conn: AsyncConnection, item_ids: Sequence[str]) -> set[str]:
    """Put waiting items back in the queue; returns the evaluations of those that moved."""
    if not item_ids:
        return set()
    result = await conn.execute(
        item_move(
            ItemState.QUEUED,
            items.c.id.in_(list(item_ids)),
            items.c.state == ItemState.WAITING.value,
            waiting_for=None,
            waiting_since=None,
            resume_after=None,
        ).returning(items.c.evaluation_id)
    )
    return {row[0] for row in result.all()}


async def due_waits(conn: AsyncConnection, now: datetime, limit: int = 500) -> list[str]:
    """Waiting items whose wait deadline passed."""
    rows = await conn.execute(
        select(items.c.id)
        .where(items.c.state == ItemState.WAITING.value, items.c.resume_after <= now)
        .limit(limit)
    )
    return [row[0] for row in rows.all()]


async def waiting_item(conn: AsyncConnection, item_id: str) -> tuple[str, int] | None:
    """The evaluation and attempt count of an item, if it is waiting."""
    row = (
        await conn.execute(
            select(items.c.evaluation_id, items.c.attempts).where(
                items.c.id == item_id, items.c.state == ItemState.WAITING.value
            )
        )
    ).first()
    return (row[0], int(row[1])) if row is not None else None


async def reap_expired(conn: AsyncConnection, now: datetime) -> set[str]:
    """Requeue items whose lease expired; end those out of attempts. Returns evaluations touched."""
    expired = (items.c.state.in_(_WORKING), items.c.lease_expires_at < now)
    exhausted = await conn.execute(
        item_move(
            ItemState.INFRA_ERROR,
            *expired,
            items.c.attempts - items.c.attempt_base >= items.c.max_attempts,
            error={
                "code": "lease_lost",
                "message": "the worker running this item stopped too many times",
            },
            finished_at=now,
            lease_owner=None,
            lease_expires_at=None,
        ).returning(items.c.evaluation_id)
    )
    touched = {row[0] for row in exhausted.all()}
    requeued = await conn.execute(
        item_move(ItemState.QUEUED, *expired, lease_owner=None, lease_expires_at=None).returning(
            items.c.evaluation_id
        )
    )
    return touched | {row[0] for row in requeued.all()}


async def cancel_open_items(
    conn: AsyncConnection, evaluation_id: str, now: datetime, message: str
) -> None:
    """Cancel the items no worker holds (queued or waiting); working ones stop on their own."""
    await conn.execute(
        item_move(
            ItemState.CANCELLED,
            items.c.evaluation_id == evaluation_id,
            items.c.state.in_([ItemState.QUEUED.value, ItemState.WAITING.value]),
            error={"code": "cancelled", "message": message},
            finished_at=now,
        )
    )


async def unfinished_evaluations(conn: AsyncConnection, evaluation_ids: Iterable[str]) -> set[str]:
    """The subset of ``evaluation_ids`` that still has an item in a non-terminal state."""
    return await _having(conn, _UNFINISHED, evaluation_ids)


def _has_item(states: Sequence[str]) -> Any:
    """Whether the evaluation of the outer query has an item in one of ``states``.

    An existence test on the (evaluation, state) index stops at the first such item: it
    costs the same for ten items or a hundred thousand, where reading the distinct states of
    an evaluation's unfinished items cost a scan of all of them on every batch of outcomes.
    """
    return exists().where(items.c.evaluation_id == evaluations.c.id, items.c.state.in_(states))


def _among(*tests: Any) -> Any:
    """The evaluations among the bound ``ids`` that pass ``tests``; built once per query."""
    return select(evaluations.c.id).where(
        evaluations.c.id.in_(bindparam("ids", expanding=True)), *tests
    )


_UNFINISHED = _among(_has_item(_OPEN))
_ONLY_WAITING = _among(
    _has_item([ItemState.WAITING.value]),
    ~_has_item([state for state in _OPEN if state != ItemState.WAITING.value]),
)


async def _having(conn: AsyncConnection, query: Any, evaluation_ids: Iterable[str]) -> set[str]:
    ids = list(evaluation_ids)
    if not ids:
        return set()
    rows = await conn.execute(query, {"ids": ids})
    return {row[0] for row in rows.all()}


async def item_records(conn: AsyncConnection, evaluation_id: str) -> AsyncIterator[ItemRecord]:
    """Every item of an evaluation in ``seq`` order, as its kind summarises it: no traces.

    Rows are fetched a thousand at a time and each trace dropped as its row is read, so a
    summary that keeps tallies (``Kind.start_summary``) holds one chunk of items at a time,
    not a hundred thousand outcomes (no kind summarises traces).
    """
    result = await conn.stream(
        select(
            items.c.seq,
            items.c.state,
            items.c.input,
            items.c.outcome,
            items.c.error,
            items.c.saved_state,
        )
        .where(items.c.evaluation_id == evaluation_id)
        .order_by(items.c.seq)
        .execution_options(yield_per=1000)
    )
    async for seq, state, input_, outcome, error, saved in result:
        if outcome is not None:
            outcome = {**outcome, "trace": {}}
        yield ItemRecord(
            seq=seq, state=state, input=input_, outcome=outcome, error=error, saved_state=saved
        )


async def count_finished(conn: AsyncConnection, evaluation_ids: Sequence[str]) -> int:
    if not evaluation_ids:
        return 0
    total = await conn.scalar(
        select(func.count()).where(
            items.c.evaluation_id.in_(list(evaluation_ids)), items.c.state.in_(_TERMINAL)
        )
    )
    return int(total or 0)


async def only_waiting(conn: AsyncConnection, evaluation_ids: Iterable[str]) -> set[str]:
    """The subset of ``evaluation_ids`` whose unfinished items are all waiting (at least one)."""
    return await _having(conn, _ONLY_WAITING, evaluation_ids)


_LISTED = (
    items.c.id,
    items.c.seq,
    items.c.state,
    items.c.attempts,
    items.c.waiting_for,
    items.c.waiting_since,
    items.c.resume_after,
    items.c.error,
    items.c.started_at,
    items.c.finished_at,
)


async def list_items(
    conn: AsyncConnection, evaluation_id: str, limit: int, offset: int
) -> tuple[list[Any], int]:
    """A page of an evaluation's items in ``seq`` order (without inputs and outcomes)."""
    rows = await conn.execute(
        select(*_LISTED)
        .where(items.c.evaluation_id == evaluation_id)
        .order_by(items.c.seq)
        .limit(limit)
        .offset(offset)
    )
    return list(rows.all()), await count_items(conn, evaluation_id)


async def get_listed_item(conn: AsyncConnection, evaluation_id: str, item_id: str) -> Any:
    """One item as ``list_items`` shows it, or None when the evaluation has no such item."""
    query = select(*_LISTED).where(items.c.id == item_id, items.c.evaluation_id == evaluation_id)
    return (await conn.execute(query)).first()


async def count_items(conn: AsyncConnection, evaluation_id: str) -> int:
    """How many items the evaluation has (counted on the index, rows unread)."""
    total = await conn.scalar(
        select(func.count()).select_from(items).where(items.c.evaluation_id == evaluation_id)
    )
    return int(total or 0)
