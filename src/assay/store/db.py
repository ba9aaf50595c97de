"""Engine and session factory. SQLite gets WAL and a busy timeout so readers never block the runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from assay.core.errors import ConfigurationError


def create_engine(database_url: str) -> AsyncEngine:
    """Build the async engine for ``database_url``; raises ConfigurationError for a missing driver."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if url.get_backend_name() == "postgresql":
        try:
            import asyncpg  # noqa: F401
        except ImportError as exc:
            raise ConfigurationError(
                "PostgreSQL needs its driver: pip install 'assay[postgres]'"
            ) from exc
        return create_async_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)
    raise ConfigurationError(
        f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql"
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
