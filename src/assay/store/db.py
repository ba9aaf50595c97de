"""Engine and session factory. SQLite gets WAL and a busy timeout so readers never block the runner.

Every engine translates a unique-key or foreign-key violation into ``Conflict`` (409) where
the driver reports it, so a race that slips past a service's "does it exist?" check (twenty
creates of one id at once, a parent deleted while a child is written) is a clean 409 on
every route, never a 500. Other integrity errors (NOT NULL, CHECK) are bugs and stay loud.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from assay.core.errors import ConfigurationError, Conflict

#: SQLSTATEs (PostgreSQL) and extended result codes (SQLite) of a key that is taken or gone.
_PG_CONFLICTS = {"23505": "already exists", "23503": "refers to a missing or still-referenced row"}
_SQLITE_CONFLICTS = {
    "SQLITE_CONSTRAINT_UNIQUE": "already exists",
    "SQLITE_CONSTRAINT_PRIMARYKEY": "already exists",
    "SQLITE_CONSTRAINT_FOREIGNKEY": "refers to a missing or still-referenced row",
}


def in_memory(database_url: str) -> bool:
    """Whether the database lives in one engine's memory (a second engine would see another)."""
    url = make_url(database_url)
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_engine(database_url: str) -> AsyncEngine:
    """Build the async engine for ``database_url``; raises ConfigurationError for a missing driver."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "handle_error", _key_conflicts)
        return engine
    if url.get_backend_name() == "postgresql":
        if url.get_driver_name() != "asyncpg":
            # SQLAlchemy would load psycopg, a sync driver Assay neither needs nor installs.
            raise ConfigurationError(
                f"database URL {url.render_as_string(hide_password=True)!r}: Assay talks to "
                "PostgreSQL through asyncpg; write it as postgresql+asyncpg://..."
            )
        try:
            import asyncpg  # noqa: F401
        except ImportError as exc:
            raise ConfigurationError(
                "PostgreSQL needs its driver: pip install 'assay[postgres]'"
            ) from exc
        engine = create_async_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)
        event.listen(engine.sync_engine, "handle_error", _key_conflicts)
        return engine
    raise ConfigurationError(
        f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql"
    )


def _conflict_reason(orig: BaseException | None) -> str | None:
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _PG_CONFLICTS:
        return _PG_CONFLICTS[sqlstate]
    return _SQLITE_CONFLICTS.get(getattr(orig, "sqlite_errorname", ""))


def _table(context: ExceptionContext) -> str:
    statement = (context.statement or "").split()
    for keyword in ("INTO", "UPDATE", "FROM"):
        if keyword in statement[:-1]:
            return statement[statement.index(keyword) + 1].strip('"')
    return "database"


def _key_conflicts(context: ExceptionContext) -> BaseException | None:
    """The ``handle_error`` hook: a taken or missing key becomes a Conflict naming the table."""
    if not isinstance(context.sqlalchemy_exception, IntegrityError):
        return None
    reason = _conflict_reason(context.original_exception)
    if reason is None:
        return None
    return Conflict(
        f"{_table(context)}: a row with this key {reason}; a concurrent request probably "
        "changed it first (retry to see the current state)"
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
