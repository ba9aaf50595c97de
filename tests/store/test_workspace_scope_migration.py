"""Migration 0005: agents and harnesses that existed before it become organization-wide."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine

from assay.core.principal import Role
from assay.store.db import create_engine
from assay.store.migrate import alembic_config
from assay.store.tables import JSONType, UTCDateTime
from tests.factories import make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM

BEFORE = "0004"


async def _migrate(engine: AsyncEngine, revision: str, *, down: bool = False) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def run(connection: sa.Connection) -> None:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def _rows_before_0005(engine: AsyncEngine, llm_url: str) -> None:
    """An organization with one agent and one harness, in the 0004 schema (no workspace)."""
    now = datetime.now(UTC)
    organizations = sa.table(
        "organizations", *(sa.column(c) for c in ("id", "slug", "name")), _at("created_at")
    )
    agents = sa.table(
        "agents",
        *(sa.column(c) for c in ("org_id", "id", "kind")),
        sa.column("config", JSONType),
        _at("created_at"),
        _at("updated_at"),
    )
    harnesses = sa.table(
        "harnesses",
        *(sa.column(c) for c in ("org_id", "id", "name")),
        sa.column("probes", JSONType),
        _at("created_at"),
    )
    async with engine.begin() as conn:
        await conn.execute(
            organizations.insert().values(id="org-1", slug="acme", name="acme", created_at=now)
        )
        await conn.execute(
            agents.insert().values(
                org_id="org-1",
                id="old-agent",
                kind="openai-chat",
                config={"base_url": llm_url, "model": "m"},
                created_at=now,
                updated_at=now,
            )
        )
        await conn.execute(
            harnesses.insert().values(
                org_id="org-1", id="old-harness", name="old", probes=[], created_at=now
            )
        )


def _at(name: str) -> sa.ColumnClause[datetime]:
    return sa.column(name, UTCDateTime())


async def test_existing_agents_and_harnesses_become_organization_wide(
    tmp_path: Path, fake_llm: FakeLLM, any_database_url: str
):
    engine = create_engine(any_database_url)
    try:
        await _migrate(engine, BEFORE)
        await _rows_before_0005(engine, fake_llm.url)
    finally:
        await engine.dispose()

    settings = make_settings(tmp_path, database_url=any_database_url, fake_llm=fake_llm)
    with serve_assay(settings, run_workers=False) as assay:
        scoped = await assay.key("acme", Role.ADMIN, workspace="ws1")
        async with assay.client(scoped) as ws1, assay.client(await assay.key("acme")) as admin:
            agent = await ws1.get("/v1/agents/old-agent")
            harness = await ws1.get("/v1/harnesses/old-harness")
            refused = await ws1.delete("/v1/agents/old-agent")
            deleted = await admin.delete("/v1/harnesses/old-harness")

    assert agent.status_code == 200 and agent.json()["workspace"] is None, agent.text
    assert harness.status_code == 200 and harness.json()["workspace"] is None, harness.text
    assert refused.status_code == 403, refused.text
    assert deleted.status_code == 204, deleted.text


async def test_the_migration_downgrades_and_keeps_the_rows(
    fake_llm: FakeLLM, any_database_url: str
):
    engine = create_engine(any_database_url)
    try:
        await _migrate(engine, BEFORE)
        await _rows_before_0005(engine, fake_llm.url)
        await _migrate(engine, "head")
        await _migrate(engine, BEFORE, down=True)
        async with engine.connect() as conn:
            columns = await conn.run_sync(
                lambda c: [col["name"] for col in sa.inspect(c).get_columns("agents")]
            )
            count = await conn.scalar(sa.text("SELECT count(*) FROM agents"))
    finally:
        await engine.dispose()
    assert "workspace_id" not in columns and count == 1
