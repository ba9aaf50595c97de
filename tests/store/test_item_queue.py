"""The lease protocol of the item queue, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from assay.core.ids import new_id
from assay.core.spec import ItemPlan
from assay.core.states import ItemState
from assay.store.db import create_engine
from assay.store.migrate import upgrade
from assay.store.repositories import evaluations, items
from assay.store.repositories.items import FinishedItem
from assay.store.tables import Evaluation, Item
from tests.store.rows import insert_tenant

LEASE = 30.0


@pytest.fixture
async def db(any_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(any_database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


async def _evaluation_with_items(db: AsyncEngine, n: int, max_attempts: int = 3) -> str:
    now = datetime.now(UTC)
    evaluation = new_id()
    async with db.begin() as conn:
        org, ws, project = await insert_tenant(conn, now)
        await evaluations.insert_evaluation(
            conn,
            {
                "id": evaluation,
                "org_id": org,
                "workspace_id": ws,
                "project_id": project,
                "kind": "accuracy",
                "spec": {},
                "status": "pending",
                "total_items": n,
                "created_at": now,
                "updated_at": now,
            },
        )
        await items.insert_items(
            conn, evaluation, [ItemPlan(input={"i": i}) for i in range(n)], max_attempts, now
        )
    return evaluation


async def _claim(db: AsyncEngine, owner: str, n: int, now: datetime | None = None):
    async with db.begin() as conn:
        return await items.claim_items(conn, owner, n, LEASE, now or datetime.now(UTC))


async def test_concurrent_claims_never_hand_one_item_to_two_owners(db: AsyncEngine):
    await _evaluation_with_items(db, 40)
    claimed: list[str] = []
    for _round in range(40):  # racing claimers may come back empty-handed; none takes a taken item
        batches = await asyncio.gather(*[_claim(db, f"worker-{i}", 7) for i in range(8)])
        claimed += [c.id for batch in batches for c in batch]
        if len(claimed) >= 40:
            break
    assert len(claimed) == len(set(claimed)) == 40


async def test_claims_follow_seq_order(db: AsyncEngine):
    await _evaluation_with_items(db, 5)
    first = await _claim(db, "w", 2)
    second = await _claim(db, "w", 10)
    assert [c.seq for c in first] == [0, 1] and [c.seq for c in second] == [2, 3, 4]
    assert all(c.attempts == 1 for c in first + second)


async def test_a_stale_owner_cannot_overwrite_the_outcome_of_the_new_owner(db: AsyncEngine):
    evaluation = await _evaluation_with_items(db, 1)
    (stale,) = await _claim(db, "stale", 1)
    later = datetime.now(UTC) + timedelta(seconds=LEASE + 1)
    async with db.begin() as conn:
        assert await items.reap_expired(conn, later) == {evaluation}
    (fresh,) = await _claim(db, "fresh", 1, later)
    assert fresh.id == stale.id and fresh.attempts == 2
    async with db.begin() as conn:
        await items.record_outcomes(
            conn,
            "fresh",
            [FinishedItem(fresh.id, evaluation, ItemState.PASSED, {"by": "fresh"}, None)],
            later,
        )
        await items.record_outcomes(
            conn,
            "stale",
            [FinishedItem(stale.id, evaluation, ItemState.FAILED, {"by": "stale"}, None)],
            later,
        )
    async with db.connect() as conn:
        row = (await conn.execute(select(Item.state, Item.outcome, Item.lease_owner))).one()
    assert (row.state, row.outcome, row.lease_owner) == ("passed", {"by": "fresh"}, None)


async def test_an_item_whose_workers_keep_dying_ends_in_infra_error(db: AsyncEngine):
    evaluation = await _evaluation_with_items(db, 1, max_attempts=2)
    now = datetime.now(UTC)
    for attempt in range(2):
        assert len(await _claim(db, f"doomed-{attempt}", 1, now)) == 1
        now += timedelta(seconds=LEASE + 1)
        async with db.begin() as conn:
            await items.reap_expired(conn, now)
    async with db.begin() as conn:
        assert await items.unfinished_evaluations(conn, [evaluation]) == set()
    async with db.connect() as conn:
        row = (await conn.execute(select(Item.state, Item.error))).one()
    assert row.state == "infra_error" and row.error["code"] == "lease_lost"


async def test_renewed_leases_are_not_reaped_and_released_items_keep_their_attempt(db: AsyncEngine):
    await _evaluation_with_items(db, 2)
    claimed = await _claim(db, "w", 2)
    later = datetime.now(UTC) + timedelta(seconds=LEASE - 1)
    async with db.begin() as conn:
        await items.renew_leases(conn, "w", LEASE, later)
        assert await items.reap_expired(conn, later + timedelta(seconds=2)) == set()
        await items.release_items(conn, "w", [claimed[0].id])
    (again,) = await _claim(db, "w2", 1)
    assert again.id == claimed[0].id and again.attempts == 1


async def test_unfinished_and_only_waiting_tell_the_evaluations_apart(db: AsyncEngine):
    running, waiting, done = [await _evaluation_with_items(db, 2) for _ in range(3)]
    async with db.begin() as conn:
        for evaluation, state in ((waiting, ItemState.WAITING), (done, ItemState.PASSED)):
            await conn.execute(
                Item.__table__.update().where(Item.evaluation_id == evaluation).values(state=state)
            )
        ids = {running, waiting, done}
        assert await items.unfinished_evaluations(conn, ids) == {running, waiting}
        assert await items.only_waiting(conn, ids) == {waiting}
        assert await items.unfinished_evaluations(conn, []) == set()


async def test_the_queue_is_read_off_its_indexes_however_many_items_it_holds(tmp_path):
    """Each claim and each batch of outcomes reads the queue; none may scan or sort the items.

    A scan or a sort costs in proportion to the evaluation: at 70,000 queued items a claim that
    sorted them took 21 ms, and every item of a large evaluation got slower. SQLite's plan of
    every statement the queue sends is checked: items are reached through an index on every
    column the statement constrains (the state too), never scanned, never sorted, and items
    named by id through their primary key (a claim of 20 ids once walked the state index
    through every queued item: 2.5 ms a claim with 3,000 queued).
    """
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'plans.db'}")
    await upgrade(engine)
    evaluation = await _evaluation_with_items(engine, 300)
    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE")) and not executemany:
            sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    claimed = await _claim(engine, "w", 20)
    async with engine.begin() as conn:
        await items.unfinished_evaluations(conn, [evaluation])
        await items.only_waiting(conn, [evaluation])
    event.remove(engine.sync_engine, "before_cursor_execute", capture)
    assert len(claimed) == 20 and len(sent) == 4
    async with engine.connect() as conn:
        for statement, parameters in sent:
            raw = await conn.get_raw_connection()
            cursor = raw.driver_connection._conn.execute(  # type: ignore[union-attr]
                f"EXPLAIN QUERY PLAN {statement}", parameters
            )
            plan = [row[3] for row in cursor.fetchall()]
            on_items = [step for step in plan if " items " in f"{step} "]
            assert on_items, (statement, plan)
            for step in on_items:
                assert "SCAN items" not in step and "TEMP B-TREE" not in step, (statement, plan)
                if "ix_items_evaluation_state" in step:
                    assert "state=?" in step, (statement, plan)
                if "items.id IN" in statement:
                    assert "(id=?)" in step, (statement, plan)
            assert not any("TEMP B-TREE" in step for step in plan), (statement, plan)
    await engine.dispose()


async def test_the_engine_reads_a_spec_without_the_params_its_items_carry(db: AsyncEngine):
    evaluation = await _evaluation_with_items(db, 1)
    cases = [{"input": "2+2?", "expected_output": "4"}] * 3
    spec = {"kind": "match", "params": {"mode": "exact", "cases": cases}}
    async with db.begin() as conn:
        await conn.execute(
            Evaluation.__table__.update().where(Evaluation.id == evaluation).values(spec=spec)
        )
    async with db.connect() as conn:
        stored = await evaluations.get_evaluation(conn, evaluation)
        engine = await evaluations.get_for_engine(conn, evaluation, ("cases",))
        untouched = await evaluations.get_for_engine(conn, evaluation, ())
    assert stored is not None and engine is not None and untouched is not None
    assert stored.spec == untouched.spec == spec
    assert engine.spec == {"kind": "match", "params": {"mode": "exact"}}
    assert engine.status == stored.status and engine.secrets_enc == stored.secrets_enc
