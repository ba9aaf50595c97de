"""Start-up skips Alembic only when the database is really at the newest revision."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from assay.store.db import create_engine
from assay.store.migrate import MIGRATIONS, alembic_config, at_head, head_revision, upgrade
from tests.factories import fresh_postgres_database


def test_the_head_read_from_the_files_is_alembics_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert head_revision() == script.get_current_head()
    assert (MIGRATIONS / "versions").is_dir()


async def test_a_new_database_is_migrated_and_then_recognised_at_head(tmp_path: Path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/a.db")
    try:
        assert not await at_head(engine), "no version table yet"
        await upgrade(engine)
        assert await at_head(engine)

        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0007'"))
        assert not await at_head(engine), "an older database is not taken for the newest"
    finally:
        await engine.dispose()


async def test_processes_starting_at_once_on_a_new_database_all_migrate_it(
    any_database_url: str,
):
    """Workers started together (compose, Kubernetes) must not race to create the tables."""
    engines = [create_engine(any_database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(engine) for engine in engines))
        assert all([await at_head(engine) for engine in engines])
    finally:
        for engine in engines:
            await engine.dispose()


def _schema(connection: Connection) -> dict[str, object]:
    """Everything the inspector reports about every table, in a comparable form.

    On SQLite a column's declared length is left out: SQLite never enforces it, and migration
    0002 widened ``evaluations.id`` (and the columns pointing at it) on PostgreSQL only.
    """
    inspector = inspect(connection)
    sqlite = connection.dialect.name == "sqlite"

    def type_of(column: Any) -> str:
        declared = str(column["type"])
        return re.sub(r"^VARCHAR\(\d+\)$", "VARCHAR", declared) if sqlite else declared

    def unordered(entries: list[dict[str, Any]]) -> list[str]:
        return sorted(repr(sorted(entry.items())) for entry in entries)

    return {
        table: {
            "columns": {
                column["name"]: (
                    type_of(column),
                    column["nullable"],
                    column.get("default"),
                )
                for column in inspector.get_columns(table)
            },
            "primary key": inspector.get_pk_constraint(table),
            "foreign keys": unordered(inspector.get_foreign_keys(table)),
            "indexes": unordered(inspector.get_indexes(table)),
            "unique": unordered(inspector.get_unique_constraints(table)),
            "checks": unordered(inspector.get_check_constraints(table)),
        }
        for table in sorted(inspector.get_table_names())
    }


async def test_a_new_database_created_from_the_metadata_is_the_migrated_schema(
    any_database_url: str, tmp_path: Path
):
    """The fast path for a new database builds exactly what replaying the migrations builds."""
    created = create_engine(any_database_url)
    migrated_url = (
        f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
        if any_database_url.startswith("sqlite")
        else None
    )
    async with contextlib.AsyncExitStack() as stack:
        if migrated_url is None:
            migrated_url = await stack.enter_async_context(fresh_postgres_database())
        migrated = create_engine(migrated_url)
        stack.push_async_callback(migrated.dispose)
        stack.push_async_callback(created.dispose)

        def replay_migrations(connection: Connection) -> None:
            config = alembic_config(str(migrated_url))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

        async with migrated.begin() as conn:
            await conn.run_sync(replay_migrations)
        await upgrade(created)

        async with created.connect() as a, migrated.connect() as b:
            created_schema, migrated_schema = await a.run_sync(_schema), await b.run_sync(_schema)
            revisions = [
                await conn.run_sync(
                    lambda sync: MigrationContext.configure(sync).get_current_heads()
                )
                for conn in (a, b)
            ]
        assert "items" in created_schema
        assert created_schema == migrated_schema
        assert revisions == [(head_revision(),), (head_revision(),)]
