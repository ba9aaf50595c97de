"""Apply Alembic migrations programmatically (every process does it on start).

Alembic takes longer to import than a one-item ``assay run`` takes to run, so a database
already at the newest revision is recognised without it: the head is read from the
revision files themselves (the one revision no other names as its ``down_revision``) and
compared with ``alembic_version``. A new, empty database gets the tables straight from the
ORM metadata and is stamped at that head, which is several times faster than replaying every
migration (``tests/store/test_migrate.py`` proves both give the same schema). Anything else
(an older revision, files this parser does not understand) goes through Alembic as before.
The migrations write no rows today; one that does must have its rows written for a new
database too, since a new database never runs it.
"""

from __future__ import annotations

import asyncio
import fcntl
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r'^revision(?:: str)? = "([^"]+)"$', re.MULTILINE)
_DOWN = re.compile(r'^down_revision(?:: [^=]+)? = (?:"([^"]+)"|None)$', re.MULTILINE)


def head_revision() -> str | None:
    """The newest revision of the shipped migrations, or None when they do not say plainly."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text()
        revision, down = _REVISION.findall(source), _DOWN.findall(source)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        if down[0]:
            parents.add(down[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def at_head(engine: AsyncEngine) -> bool:
    """Whether the database is already at ``head_revision()``."""
    head = head_revision()
    if head is None:
        return False
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    except DBAPIError:  # no version table yet: a new database
        return False
    return [row[0] for row in rows] == [head]


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the newest revision; idempotent and safe on every start.

    Safe in several processes at once too (an API and workers started together on a new
    database): they migrate one after another, under a PostgreSQL advisory lock or a lock
    file beside the SQLite database, and the later ones find it at the newest revision.
    """
    if await at_head(engine):
        return
    async with _sqlite_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
        head = head_revision()
        if head is not None and await connection.run_sync(_is_empty):
            await connection.run_sync(_create_at, head)
            return
        await connection.run_sync(_alembic_upgrade)


def _is_empty(connection: Connection) -> bool:
    return not inspect(connection).get_table_names()


def _create_at(connection: Connection, head: str) -> None:
    """Create the newest schema from the ORM metadata and record it as ``head``.

    The caller found the database empty, under the migration lock: no table is looked up
    before it is created (two statements a table, a third of a new database's set-up).
    """
    from assay.store.tables import Base

    Base.metadata.create_all(connection, checkfirst=False)
    version = Table(
        "alembic_version",
        MetaData(),
        # As Alembic creates it, so that later migrations find what they expect.
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )
    version.create(connection)
    connection.execute(version.insert().values(version_num=head))


def _alembic_upgrade(connection: Connection) -> None:
    from alembic import command

    config = alembic_config(connection.engine.url.render_as_string(hide_password=False))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


#: The advisory lock key migrations hold (any constant; this one spells "assaymig").
_PG_LOCK = 0x61737361796D6967


@asynccontextmanager
async def _sqlite_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """An exclusive lock on ``<database>.migrate.lock`` for a file database; else nothing."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "a") as lock:
        # On a thread: another engine of this very process may hold it and needs the loop.
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
