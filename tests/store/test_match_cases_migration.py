"""Migration 0010: the items of a match evaluation planned before it get their cases."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine

from assay.core.ids import new_id
from assay.store.db import create_engine
from assay.store.migrate import alembic_config
from assay.store.tables import Evaluation, Item
from tests.store.rows import insert_tenant

CASES = [
    {"input": "2+2?", "expected_output": "4"},
    {"input": "capital of France?", "expected_output": "Paris"},
]


async def _migrate(engine: AsyncEngine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def run(connection: sa.Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def _match_evaluation_of_0009(engine: AsyncEngine) -> str:
    """A match evaluation whose items hold only their case's index, as planned before 0010."""
    now = datetime.now(UTC)
    evaluation = new_id()
    async with engine.begin() as conn:
        org, ws, project = await insert_tenant(conn, now)
        spec = {"kind": "match", "params": {"cases": CASES, "mode": "exact", "num_iterations": 2}}
        await conn.execute(
            Evaluation.__table__.insert().values(
                id=evaluation,
                org_id=org,
                workspace_id=ws,
                project_id=project,
                kind="match",
                spec=spec,
                status="running",
                total_items=4,
                created_at=now,
                updated_at=now,
            )
        )
        await conn.execute(
            Item.__table__.insert(),
            [
                {
                    "id": new_id(),
                    "evaluation_id": evaluation,
                    "seq": seq,
                    "input": {"case": seq // 2, "iteration": seq % 2 + 1},
                    "state": "queued",
                    "attempts": 0,
                    "max_attempts": 3,
                    "created_at": now,
                }
                for seq in range(4)
            ],
        )
    return evaluation


async def test_items_planned_before_0010_carry_their_cases_after_it(any_database_url: str):
    engine = create_engine(any_database_url)
    await _migrate(engine, "0009")
    evaluation = await _match_evaluation_of_0009(engine)
    await _migrate(engine, "head")
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(Item.input).where(Item.evaluation_id == evaluation).order_by(Item.seq)
        )
        inputs = [row[0] for row in rows.all()]
        spec = await conn.scalar(sa.select(Evaluation.spec).where(Evaluation.id == evaluation))
    await engine.dispose()
    assert inputs == [
        {"case": seq // 2, "iteration": seq % 2 + 1, **CASES[seq // 2]} for seq in range(4)
    ]
    assert spec["params"]["cases"] == CASES  # the spec is left as it was
