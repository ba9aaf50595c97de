"""The long-lived parts a service call needs: settings, database, secret box, engine."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from assay.core.spec import Limits
from assay.services.key_cache import KeyCache
from assay.settings import Settings
from assay.store.db import create_engine, in_memory, session_factory
from assay.store.migrate import upgrade
from assay.store.secrets import SecretBox, load_secret_box

if TYPE_CHECKING:
    from assay.engine.backends.celery import CeleryBackend
    from assay.engine.backends.inprocess import InProcessBackend
    from assay.engine.backends.process import EngineProcess
    from assay.engine.backends.threaded import EngineThread
    from assay.services.rate_limits import KeyRateLimiter
    from assay.webhooks.delivery import WebhookDispatcher


@dataclass
class Container:
    settings: Settings
    db: AsyncEngine
    secrets: SecretBox
    sessions: async_sessionmaker[AsyncSession] = field(init=False)
    #: Keys authenticated a moment ago (``services/key_cache.py``).
    known_keys: KeyCache = field(init=False, default_factory=KeyCache)
    #: The in-process backend, when this process runs items; with a broker, the Celery
    #: backend, which only publishes them; None for `serve --no-workers` without a broker.
    engine: InProcessBackend | EngineThread | EngineProcess | CeleryBackend | None = None
    #: Sends queued webhook events; runs beside the engine.
    webhooks: WebhookDispatcher | None = None
    _finished: dict[str, asyncio.Event] = field(init=False, default_factory=dict)
    _rate_limits: KeyRateLimiter | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.sessions = session_factory(self.db)

    @property
    def rate_limits(self) -> KeyRateLimiter:
        """Counts each API key's requests against ``settings.rate_limit``.

        Built on the first authenticated request: a command that serves no API (``assay
        run``) never loads the ``limits`` library.
        """
        if self._rate_limits is None:
            from assay.services.rate_limits import KeyRateLimiter

            self._rate_limits = KeyRateLimiter(
                self.settings.rate_limit, self.settings.rate_limit_storage
            )
        return self._rate_limits

    async def wait_for_change(self, evaluation_id: str, timeout: float) -> None:
        """Sleep until the local engine finishes this evaluation, or ``timeout`` passes.

        Callers re-check the database after waking: another process may have finished it.
        """
        event = self._finished.setdefault(evaluation_id, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self._finished.pop(evaluation_id, None)

    def _announce_finished(self, evaluation_ids: list[str]) -> None:
        self.notify_webhooks()
        for evaluation_id in evaluation_ids:
            event = self._finished.get(evaluation_id)
            if event is not None:
                event.set()

    def default_limits(self) -> Limits:
        """The server's limits for evaluations that do not set their own."""
        return Limits(
            item_timeout_s=self.settings.item_timeout, max_retries=self.settings.max_retries
        )

    def notify_work(self) -> None:
        """Tell a local engine that items were queued, so it claims them at once."""
        if self.engine is not None:
            self.engine.notify()

    def notify_webhooks(self) -> None:
        """Tell a local webhook sender that events were queued, so it sends them at once."""
        if self.webhooks is not None:
            self.webhooks.notify()

    @property
    def runs_items(self) -> bool:
        """Whether items run in this process (not with a broker: its workers run them)."""
        return self.engine is not None and self.settings.broker_url is None

    async def start_engine(
        self, *, deliver_webhooks: bool = True, apart_from_api: bool = False
    ) -> None:
        """Run items (or, with a broker, publish them), and send webhook events, here.

        A local one-user command (``assay run``, ``assay scan``) sends no webhooks: it polls
        for nothing it could have queued, and a server on the same database sends what is
        queued there. With ``apart_from_api`` (``assay serve``) the in-process engine runs
        where API requests never wait behind item work: in a child process or a thread of its
        own (``settings.engine``); not over an in-memory SQLite database, which another
        database engine could not see.
        """
        if deliver_webhooks:
            from assay.webhooks.delivery import WebhookDispatcher

            self.webhooks = WebhookDispatcher(self.settings, self.db, self.secrets)
            await self.webhooks.start()

        if self.settings.broker_url is not None:
            from assay.engine.backends.celery import CeleryBackend

            self.engine = CeleryBackend(self.settings, self.db)
        else:
            from assay.engine.backends.inprocess import InProcessBackend

            apart = apart_from_api and not in_memory(self.settings.database_url)
            if apart and self.settings.engine == "process":
                from assay.engine.backends.process import EngineProcess

                self.engine = EngineProcess(self.settings, on_finished=self._announce_finished)
            elif apart:
                from assay.engine.backends.threaded import EngineThread

                settings, secrets = self.settings, self.secrets
                self.engine = EngineThread(
                    lambda db, finished: InProcessBackend(settings, db, secrets, finished),
                    settings.database_url,
                    on_finished=self._announce_finished,
                )
            else:
                self.engine = InProcessBackend(
                    self.settings, self.db, self.secrets, on_finished=self._announce_finished
                )
        await self.engine.start()

    async def aclose(self) -> None:
        if self.engine is not None:
            await self.engine.stop()
            self.engine = None
        if self.webhooks is not None:
            await self.webhooks.stop()
            self.webhooks = None
        if self._rate_limits is not None:
            await self._rate_limits.aclose()
        await self.db.dispose()


async def open_container(settings: Settings, *, migrate: bool = True) -> Container:
    """Connect to the database (migrating it to the newest schema) and load the secret key."""
    db = create_engine(settings.database_url)
    if migrate:
        await upgrade(db)
    return Container(settings=settings, db=db, secrets=load_secret_box(settings))
