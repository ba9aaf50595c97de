"""The Celery backend: the server publishes item ids, `assay worker` processes run them.

The database stays the source of truth; a message only names an item. A worker's task calls
the one item function (``ItemRunner``): the claim by id decides whether the item runs, so a
redelivered or duplicated message for a finished, running or waiting item does nothing.

- **Server side** (:class:`CeleryBackend`): ``notify`` (an evaluation was created, a wait was
  answered) publishes the queued items this process has not published recently, in messages
  of ``broker_batch_size`` ids: one message, one claim transaction and one acknowledgement
  per batch rather than per item, which is most of what a message costs.
- **Worker side** (:class:`WorkerRuntime`): one asyncio loop per worker process, in its own
  thread, holds the runner (its provider pool and evaluation runtimes) and housekeeping
  (phases, cancellations, lease renewal, reaping, timers, stranded evaluations). Celery's
  ``threads`` pool runs ``slots(settings)`` tasks at once (``ASSAY_WORKERS`` items in all);
  each hands its batch to that loop, whose items run concurrently, and waits. Items
  re-queued after a run (a reaped lease, an answered wait) are published at once; every
  item queued for ``broker_sweep_seconds`` is published again (a lost message).
- Messages are acknowledged after the item is recorded (``acks_late``) and given back when
  the worker dies (``reject_on_worker_lost``); each slot prefetches one message. An item holds
  its slot at most ``broker_task_time_limit`` seconds, below Redis's visibility timeout.
  A waiting item holds no slot: its run ends with the suspension, and the event that
  resumes it publishes it again.

``celery`` is imported only by this module, which only a configured broker loads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import Future
from typing import Any

from celery import Celery
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine

from assay.core.outcome import ItemError
from assay.core.states import ItemState
from assay.engine.housekeeping import Housekeeping
from assay.engine.item import ItemResult, ItemRunner
from assay.metrics import REGISTRY
from assay.settings import Settings, get_settings
from assay.store.repositories import queue as queue_rows
from assay.store.repositories.items import ClaimedItem, FinishedItem

log = logging.getLogger(__name__)

ITEMS_RUNNING = Gauge("assay_worker_items_running", "Items this worker runs now", registry=REGISTRY)
ITEMS_FINISHED = Counter(
    "assay_worker_items_finished",
    "Item runs this worker ended, by the state they ended in (waiting: suspended)",
    ["state"],
    registry=REGISTRY,
)
CLAIM_SECONDS = Histogram(
    "assay_worker_claim_seconds",
    "Time to claim a message's items by id once it arrived",
    registry=REGISTRY,
)
MESSAGES_SKIPPED = Counter(
    "assay_worker_messages_skipped",
    "Item ids in messages whose item was not queued any more (finished, running elsewhere, "
    "waiting)",
    registry=REGISTRY,
)

TASK_NAME = "assay.run_items"
#: Opens what the worker's loop needs: the runner, and how to close it (and what it opened).
OpenRunner = Callable[[], Awaitable[tuple[ItemRunner, Callable[[], Awaitable[None]]]]]
#: Most results written in one transaction.
WRITE_BATCH = 500
#: Most ids read (and published) by one dispatch.
DISPATCH_BATCH = 10_000


def make_app(settings: Settings) -> Celery:
    """A Celery app for ``settings``' broker and queue, with the item task registered."""
    if settings.broker_url is None:
        raise ValueError("broker_url is not set")
    app = Celery("assay", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.broker_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": settings.broker_visibility_timeout},
        # The threads pool cannot kill a task: the runtime enforces this limit itself.
        task_time_limit=settings.broker_task_time_limit,
    )
    app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)(run_items)
    return app


def slots(settings: Settings) -> int:
    """Celery tasks one worker runs at once: enough batches for ``settings.workers`` items."""
    return max(1, math.ceil(settings.workers / settings.broker_batch_size))


def run_items(item_ids: list[str]) -> int:
    """The Celery task: run a batch of items in this process's loop; how many were queued."""
    return WorkerRuntime.current().process(item_ids)


# -- publishing ---------------------------------------------------------------------------


class Publisher:
    """Publishes queued item ids, skipping those this process published within ``window``.

    An item is known by its id and claim count: one run and queued again (a resumed wait, a
    reaped lease) is new work, published at once.
    """

    def __init__(self, app: Celery, db: AsyncEngine, queue: str, window: float, batch: int) -> None:
        self._app = app
        self._db = db
        self._queue = queue
        self._window = window
        self._batch = batch
        self._sent: dict[tuple[str, int], float] = {}

    @classmethod
    def for_settings(cls, app: Celery, db: AsyncEngine, settings: Settings) -> Publisher:
        return cls(
            app,
            db,
            settings.broker_queue,
            settings.broker_sweep_seconds,
            settings.broker_batch_size,
        )

    async def publish_queued(self, *, requeued_only: bool) -> int:
        """Publish the queued items (or only the re-queued ones) not sent lately; how many."""
        async with self._db.connect() as conn:
            queued = await queue_rows.queued_ids(
                conn, requeued_only=requeued_only, limit=DISPATCH_BATCH
            )
        now = time.monotonic()
        self._sent = {k: t for k, t in self._sent.items() if now - t < self._window}
        fresh = [k for k in queued if k not in self._sent]
        if fresh:
            await asyncio.to_thread(self.send, [item_id for item_id, _ in fresh])
            self._sent.update(dict.fromkeys(fresh, now))
        return len(fresh)

    def send(self, item_ids: Sequence[str]) -> None:
        """Publish the ids, ``batch`` to a message (blocking: call it in a thread from a loop)."""
        with self._app.producer_or_acquire() as producer:
            for start in range(0, len(item_ids), self._batch):
                batch = list(item_ids[start : start + self._batch])
                self._app.send_task(TASK_NAME, args=[batch], queue=self._queue, producer=producer)


class CeleryBackend:
    """The server's side: publishes queued items when told there is new work.

    It runs no items; `assay worker` processes do.
    """

    def __init__(self, settings: Settings, db: AsyncEngine) -> None:
        self.app = make_app(settings)
        self._publisher = Publisher.for_settings(self.app, db, settings)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._publish_loop(), name="assay-publish")

    def notify(self) -> None:
        self._wake.set()

    async def stop(self, grace: float = 5.0) -> None:  # noqa: ARG002 - no item runs here
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _publish_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._publisher.publish_queued(requeued_only=False)
            except Exception:  # the broker or database is down: workers' sweeps catch up
                log.exception("publishing queued items failed; workers' sweeps will retry")


# -- the worker's loop ----------------------------------------------------------------------


class WorkerRuntime:
    """One worker process's asyncio loop, runner and housekeeping, shared by its Celery slots."""

    _current: WorkerRuntime | None = None
    _current_lock = threading.Lock()

    def __init__(
        self,
        settings: Settings,
        open_runner: OpenRunner,
        app: Celery | None = None,
    ) -> None:
        self.settings = settings
        self.app = app or make_app(settings)
        self._open_runner = open_runner
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="assay-loop")
        self._runner: ItemRunner | None = None
        self._close: Callable[[], Awaitable[None]] | None = None
        self._publisher: Publisher | None = None
        self._runs: dict[str, asyncio.Task[Any]] = {}
        self._background: asyncio.Task[None] | None = None
        #: Results waiting to be written, each with the future its task awaits.
        self._results: asyncio.Queue[tuple[ItemResult, asyncio.Future[None]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    @classmethod
    def current(cls) -> WorkerRuntime:
        """This process's runtime; started from the environment's settings on first use."""
        with cls._current_lock:
            if cls._current is None:
                runtime = cls(get_settings(), container_runner(get_settings()))
                runtime.start()
            assert cls._current is not None
            return cls._current

    def start(self) -> None:
        """Start the loop thread, open the runner and begin housekeeping."""
        self._thread.start()
        self._call(self._open())
        WorkerRuntime._current = self

    def stop(self) -> None:
        """Stop housekeeping, give back unfinished items, close the runner and the loop."""
        try:
            self._call(self._shutdown())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            if WorkerRuntime._current is self:
                WorkerRuntime._current = None

    def process(self, item_ids: list[str]) -> int:
        """Run a batch of items (from a Celery slot's thread); blocks until all are recorded."""
        return int(self._call(self._process(item_ids)))

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result()

    @property
    def runner(self) -> ItemRunner:
        assert self._runner is not None
        return self._runner

    async def _open(self) -> None:
        self._runner, self._close = await self._open_runner()
        housekeeping = Housekeeping(self._runner)
        await housekeeping.sweep()
        publisher = Publisher.for_settings(self.app, self._runner.db, self.settings)
        self._publisher = publisher
        self._background = asyncio.create_task(self._housekeeping_loop(housekeeping, publisher))
        self._writer = asyncio.create_task(self._write_loop())

    async def _process(self, item_ids: list[str]) -> int:
        with CLAIM_SECONDS.time():
            claimed = await self.runner.claim_ids(item_ids)
        MESSAGES_SKIPPED.inc(len(item_ids) - len(claimed))
        await asyncio.gather(*(self._run_claimed(item) for item in claimed))
        return len(claimed)

    async def _run_claimed(self, claimed: ClaimedItem) -> None:
        ITEMS_RUNNING.inc()
        try:
            await self._run_and_record(claimed)
        finally:
            ITEMS_RUNNING.dec()

    async def _run_and_record(self, claimed: ClaimedItem) -> None:
        runner = self.runner
        log.info("running item %s of evaluation %s", claimed.id, claimed.evaluation_id)
        run = asyncio.create_task(runner.run(claimed))
        self._runs[claimed.id] = run
        result: ItemResult
        try:
            async with asyncio.timeout(self.settings.broker_task_time_limit):
                result = await run
        except TimeoutError:
            limit = self.settings.broker_task_time_limit
            error = ItemError(
                code="task_time_limit",
                message=f"the item ran longer than broker_task_time_limit ({limit:g} s)",
                attempt=claimed.attempts,
            )
            result = FinishedItem(
                claimed.id, claimed.evaluation_id, ItemState.TIMED_OUT, None, error.model_dump()
            )
        finally:
            self._runs.pop(claimed.id, None)
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._results.put_nowait((result, written))
        await written
        ended = result.state if isinstance(result, FinishedItem) else ItemState.WAITING
        ITEMS_FINISHED.labels(ended.value).inc()
        log.info("item %s ended %s", claimed.id, ended.value)

    async def _write_loop(self) -> None:
        """Write the results of all slots in batches: one transaction for many outcomes.

        A task's message is acknowledged only once its result is written.
        """
        while True:
            batch = [await self._results.get()]
            while not self._results.empty() and len(batch) < WRITE_BATCH:
                batch.append(self._results.get_nowait())
            while True:
                try:
                    await self.runner.record([result for result, _ in batch])
                    break
                except Exception:  # keep the batch: its leases are still ours, nothing is lost
                    log.exception("writing %d results failed; retrying", len(batch))
                    await asyncio.sleep(1.0)
            for _, written in batch:
                if not written.done():
                    written.set_result(None)

    async def _housekeeping_loop(self, housekeeping: Housekeeping, publisher: Publisher) -> None:
        loop = asyncio.get_running_loop()
        last_sweep = float("-inf")  # items queued before this worker started go out at once
        while True:
            await asyncio.sleep(self.settings.poll_interval)
            try:
                done = await housekeeping.round(loop.time())
                for item_id in done.cancel:
                    run = self._runs.get(item_id)
                    if run is not None:
                        run.cancel()
                if done.requeued:
                    await publisher.publish_queued(requeued_only=True)
                if loop.time() - last_sweep >= self.settings.broker_sweep_seconds:
                    await publisher.publish_queued(requeued_only=False)
                    last_sweep = loop.time()
            except Exception:
                log.exception("housekeeping failed; retrying")

    async def _shutdown(self) -> None:
        for task in (self._background, self._writer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._runner is None:
            return
        unwritten = []
        while not self._results.empty():
            unwritten.append(self._results.get_nowait()[0])
        await self._runner.record(unwritten)
        leftover = list(self._runs)
        for run in self._runs.values():
            run.cancel()
        await self._runner.release(leftover)
        if leftover and self._publisher is not None:
            # Back in the queue: tell the other workers now, not at their next sweep.
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._publisher.send, leftover)
        if self._close is not None:
            await self._close()


def container_runner(settings: Settings) -> OpenRunner:
    """Open a container (database, secrets, webhooks) and a runner on it, for ``current``."""

    async def open_runner() -> tuple[ItemRunner, Callable[[], Awaitable[None]]]:
        from assay.services.container import open_container
        from assay.webhooks.delivery import WebhookDispatcher

        container = await open_container(settings)
        webhooks = WebhookDispatcher(settings, container.db, container.secrets)
        await webhooks.start()
        runner = ItemRunner(
            settings, container.db, container.secrets, on_finished=lambda _: webhooks.notify()
        )

        async def close() -> None:
            await runner.aclose()
            await webhooks.stop()
            await container.aclose()

        return runner, close

    return open_runner
