"""Start-up skips Alembic only when the database is really at the newest revision."""

from __future__ import annotations

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
