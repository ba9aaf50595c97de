"""A backend on its own event loop in its own thread, so API requests never queue behind items.

One loop for both made a status read wait behind every item callback ready before it: with
ten trust scans running, one ``assay serve`` answered a poll in seconds. On their own loop
the engine's callbacks and the API's interleave at the interpreter's thread switch interval
(5 ms) instead. The engine gets its own database engine, since an async engine's connections
belong to the loop that opened them.

The API side talks to the engine through three thread-safe doors only: ``notify`` (work was
queued), ``stop``, and the ``on_finished`` callback, which is handed back to the API's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from assay.engine.backends.base import ExecutionBackend
from assay.store.db import create_engine

MakeBackend = Callable[[AsyncEngine, Callable[[list[str]], Any]], ExecutionBackend]
"""Builds the backend inside the engine's loop from its database engine and finish callback."""


class EngineThread:
    """Runs the backend ``make`` builds on a private loop; an ``ExecutionBackend`` itself."""

    def __init__(
        self,
        make: MakeBackend,
        database_url: str,
        on_finished: Callable[[list[str]], Any] | None = None,
    ) -> None:
        self._make = make
        self._database_url = database_url
        self._on_finished = on_finished
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="assay-engine", daemon=True
        )
        self._backend: ExecutionBackend | None = None
        self._db: AsyncEngine | None = None

    async def start(self) -> None:
        api_loop = asyncio.get_running_loop()

        def finished(evaluation_ids: list[str]) -> None:
            if self._on_finished is not None:
                api_loop.call_soon_threadsafe(self._on_finished, evaluation_ids)

        async def start_here() -> None:
            self._db = create_engine(self._database_url)
            self._backend = self._make(self._db, finished)
            await self._backend.start()

        self._thread.start()
        await self._call(start_here())

    def notify(self) -> None:
        backend = self._backend
        if backend is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(backend.notify)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop the backend on its loop, then the loop and its thread; safe to call twice."""
        backend, db = self._backend, self._db
        self._backend = None

        async def stop_here() -> None:
            assert backend is not None and db is not None
            await backend.stop(grace)
            await db.dispose()

        try:
            if backend is not None and db is not None:
                await self._call(stop_here())
        finally:
            if self._thread.is_alive():  # also when starting failed half-way
                self._loop.call_soon_threadsafe(self._loop.stop)
                await asyncio.to_thread(self._thread.join)
            if not self._loop.is_closed():
                self._loop.close()

    async def _call(self, work: Any) -> None:
        done: Future[None] = asyncio.run_coroutine_threadsafe(work, self._loop)
        await asyncio.wrap_future(done)
