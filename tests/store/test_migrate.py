"""Start-up skips Alembic only when the database is really at the newest revision."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text

from assay.store.db import create_engine
from assay.store.migrate import MIGRATIONS, alembic_config, at_head, head_revision, upgrade


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
