"""The in-process backend: one asyncio loop schedules the item function for many items.

Three loops share one TaskGroup with the item tasks:

- **claim**: while worker slots are free, start items, and claim queued ones in batches
  (``CLAIM_BATCH_MIN`` at least), a few ahead of the free slots (``PREFETCH``): a slot that
  frees starts the next item at once, without a query, so even an engine of ten slots on a
  fast model claims ten items per transaction instead of one. Claimed items are leased like
  running ones (renewed, reaped if the process dies, given back at stop).
- **write**: results are recorded in batches (``ItemRunner.record``: one transaction for
  many outcomes, then the evaluations they finished are settled); the loop lingers a moment
  after the first result so that a fast stream of results shares a transaction.
- **housekeeping**: phases, cancellations, leases, reaping, timers, stranded evaluations
  (``engine/housekeeping.py``).

Nothing lives only in memory: a result not yet written when the process dies is lost with
its lease, and the item runs again elsewhere; a result is written only while its lease is
held, so it is counted once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from assay.engine.housekeeping import Housekeeping
from assay.engine.item import ItemResult, ItemRunner
from assay.settings import Settings
from assay.store.repositories.items import ClaimedItem
from assay.store.secrets import SecretBox

log = logging.getLogger(__name__)

#: Most results written in one transaction.
WRITE_BATCH = 500
#: How long the write loop waits after a first result for others to join its transaction.
WRITE_LINGER = 0.02
#: Most items claimed ahead of the free slots (never more than the slots themselves).
PREFETCH = 50
#: Fewest items a busy engine claims at once (fewer when its buffer is smaller).
CLAIM_BATCH_MIN = 10


class InProcessBackend:
    def __init__(
        self,
        settings: Settings,
        db: AsyncEngine,
        secrets: SecretBox,
        on_finished: Callable[[list[str]], Any] | None = None,
    ) -> None:
        self._settings = settings
        self.runner = ItemRunner(settings, db, secrets, on_finished=on_finished)
        self._housekeeping = Housekeeping(self.runner)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        #: Claimed, leased and waiting for a free slot.
        self._ready: deque[ClaimedItem] = deque()
        self._prefetch = min(PREFETCH, settings.workers)
        #: Results to write; None (put by ``stop``) ends the write loop once all before it
        #: are written.
        self._results: asyncio.Queue[ItemResult | None] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._stopping = False
        #: Set by ``stop``: ends the housekeeping loop's wait between rounds at once.
        self._stopped = asyncio.Event()
        self._main: asyncio.Task[None] | None = None
        self._group: asyncio.TaskGroup | None = None

    @property
    def owner(self) -> str:
        return self.runner.owner

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        await self._housekeeping.sweep()
        self._main = asyncio.create_task(self._run(), name="assay-engine")
        self._main.add_done_callback(_log_crash)

    def notify(self) -> None:
        self._wake.set()

    async def stop(self, grace: float = 5.0) -> None:
        if self._main is None:
            return
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        self._cancel(await self.runner.stop_cancelled())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                while self._tasks:
                    await asyncio.sleep(0.05)
        leftover = [*self._tasks, *(item.id for item in self._ready)]
        self._ready.clear()
        for task in list(self._tasks.values()):
            task.cancel()
        while self._tasks:
            await asyncio.sleep(0.01)
        # The loops end on their own (none is cut off in the middle of a query, which would
        # leave a database connection behind); cancelling is the fallback.
        self._results.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._main), timeout=grace + 5.0)
        except TimeoutError:
            self._main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._main
        await self.runner.release(leftover)
        await self.runner.aclose()
        self._main = None

    async def _run(self) -> None:
        async with asyncio.TaskGroup() as group:
            self._group = group
            group.create_task(self._claim_loop())
            group.create_task(self._write_loop())
            group.create_task(self._housekeeping_loop())

    # -- claiming and running -------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while not self._stopping:
            try:
                claimed = await self._claim_free_slots()
            except Exception:  # a database hiccup must not stop the engine
                log.exception("claiming items failed; retrying")
                await asyncio.sleep(1.0)
                continue
            if claimed:
                continue
            self._wake.clear()
            # asyncio.timeout, not wait_for: this wait ends once per finished item, and
            # wait_for wraps the wait in a task of its own each time.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.poll_interval):
                    await self._wake.wait()

    async def _claim_free_slots(self) -> bool:
        """Fill free slots from the claimed items, then claim; True when there may be more."""
        free = self._settings.workers - len(self._tasks)
        while free and self._ready:
            self._start_item(self._ready.popleft())
            free -= 1
        wanted = free + self._prefetch - len(self._ready)
        # A busy engine claims in batches of a tenth of its slots and buffer, and at least
        # CLAIM_BATCH_MIN (or its whole buffer): ten slots on a fast model would otherwise
        # claim two items per transaction.
        batch = (
            1
            if not self._tasks
            else max(
                min(CLAIM_BATCH_MIN, self._prefetch),
                (self._settings.workers + self._prefetch) // 10,
            )
        )
        if wanted < batch:
            return False
        claimed = await self.runner.claim(wanted)
        if self._stopping:  # stop() began while claiming: give them back, run nothing new
            await self.runner.release([item.id for item in claimed])
            return False
        for item in claimed[:free]:
            self._start_item(item)
        self._ready.extend(claimed[free:])
        return bool(claimed) and len(claimed) == wanted

    def _start_item(self, item: ClaimedItem) -> None:
        assert self._group is not None
        self._tasks[item.id] = self._group.create_task(self._run_one(item))

    async def _run_one(self, item: ClaimedItem) -> None:
        try:
            result = await self.runner.run(item)
        finally:
            self._tasks.pop(item.id, None)
            if self._ready and not self._stopping:  # the freed slot takes the next at once
                self._start_item(self._ready.popleft())
            self._wake.set()
        self._results.put_nowait(result)

    def _cancel(self, item_ids: list[str]) -> None:
        doomed = set(item_ids)
        for item_id in doomed:
            task = self._tasks.get(item_id)
            if task is not None:
                task.cancel()
        waiting = [item for item in self._ready if item.id in doomed]
        for item in waiting:  # never started: cancelled without running
            self._ready.remove(item)
            self._results.put_nowait(self.runner.cancelled(item))

    # -- writing ------------------------------------------------------------------------

    async def _write_loop(self) -> None:
        """Write results in batches until ``stop`` queues None behind the last of them."""
        ending = False
        while not ending:
            first = await self._results.get()
            batch = [] if first is None else [first]
            ending = first is None
            # Linger only while items run: no other result can join the batch otherwise (the
            # last item of every run would wait for nothing).
            if not ending and self._tasks and self._results.qsize() < WRITE_BATCH:
                await asyncio.sleep(WRITE_LINGER)
            while not ending and not self._results.empty() and len(batch) < WRITE_BATCH:
                result = self._results.get_nowait()
                ending = result is None
                if result is not None:
                    batch.append(result)
            while batch:
                try:
                    await self.runner.record(batch)
                    break
                except Exception:  # keep the batch: its leases are still ours, nothing is lost
                    log.exception("writing %d results failed; retrying", len(batch))
                    await asyncio.sleep(1.0)

    # -- housekeeping ---------------------------------------------------------------------

    async def _housekeeping_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), self._settings.poll_interval)
            if self._stopping:
                return
            try:
                done = await self._housekeeping.round(loop.time())
            except Exception:
                log.exception("housekeeping failed; retrying")
                continue
            self._cancel(done.cancel)
            if done.requeued:
                self._wake.set()


def _log_crash(task: asyncio.Task[None]) -> None:
    """An engine loop that dies must say so: items would otherwise wait without a word."""
    if not task.cancelled() and task.exception() is not None:
        log.critical("the engine stopped on an error", exc_info=task.exception())
