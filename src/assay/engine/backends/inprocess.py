"""The in-process engine: one asyncio loop claims, runs and records items.

Three loops share one TaskGroup with the item tasks:

- **claim**: while worker slots are free, claim queued items (in batches, so a busy engine
  does not query per item) and start a task for each.
- **write**: finished items are written in batches (one transaction for many outcomes), then
  evaluations whose items all ended are summarised.
- **housekeeping**: renew this engine's leases, reap leases other engines lost, and stop the
  items of evaluations that were cancelled.

Nothing lives only in memory: an outcome not yet written when the process dies is lost with
its lease, and the item runs again elsewhere; an outcome is written only while its lease is
held, so it is counted once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from assay.core.errors import AssayError
from assay.core.outcome import ItemError
from assay.core.redaction import Redactor
from assay.core.spec import EvaluationSpec
from assay.core.states import ItemState
from assay.engine.classify import INVALID_API_KEY
from assay.engine.finalize import finalize_finished
from assay.engine.limits import Limits
from assay.engine.runner import run_item
from assay.engine.runtime import EvaluationRuntime, ProviderPool, build_runtime
from assay.settings import Settings
from assay.store.repositories import evaluations as evaluation_rows
from assay.store.repositories import events as event_rows
from assay.store.repositories import items as item_rows
from assay.store.repositories.items import ClaimedItem, FinishedItem
from assay.store.secrets import SecretBox
from assay.webhooks.outbox import record_terminal_event

log = logging.getLogger(__name__)

#: Most outcomes written in one transaction.
WRITE_BATCH = 500


def _now() -> datetime:
    return datetime.now(UTC)


class InProcessEngine:
    def __init__(
        self,
        settings: Settings,
        db: AsyncEngine,
        secrets: SecretBox,
        on_finished: Callable[[list[str]], Any] | None = None,
    ) -> None:
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._settings = settings
        self._db = db
        self._secrets = secrets
        self._on_finished = on_finished
        self._pool = ProviderPool(settings)
        self._limits = Limits()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._item_evaluation: dict[str, str] = {}
        self._cancelled_items: set[str] = set()
        self._runtimes: dict[str, EvaluationRuntime] = {}
        self._runtime_locks: dict[str, asyncio.Lock] = {}
        self._finished: asyncio.Queue[FinishedItem] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._stopping = False
        self._main: asyncio.Task[None] | None = None
        self._group: asyncio.TaskGroup | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        self._main = asyncio.create_task(self._run(), name="assay-engine")
        self._main.add_done_callback(_log_crash)

    def notify(self) -> None:
        """New work was queued: claim now instead of at the next poll."""
        self._wake.set()

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming, let running items finish for ``grace`` seconds, requeue the rest."""
        if self._main is None:
            return
        self._stopping = True
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                while self._tasks:
                    await asyncio.sleep(0.05)
        leftover = list(self._tasks)
        for task in list(self._tasks.values()):
            task.cancel()
        while self._tasks:
            await asyncio.sleep(0.01)
        await self._flush()
        async with self._db.begin() as conn:
            await item_rows.release_items(conn, self.owner, leftover)
        self._main.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._main
        for runtime in self._runtimes.values():
            await runtime.aclose()
        self._runtimes.clear()
        await self._pool.aclose()
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
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.poll_interval)

    async def _claim_free_slots(self) -> bool:
        """Claim for free slots; True when every slot was filled (there may be more)."""
        free = self._settings.workers - len(self._tasks)
        # A busy engine claims in batches of a tenth of its slots: fewer queries per item.
        batch = 1 if not self._tasks else max(1, self._settings.workers // 10)
        if free < batch:
            return False
        claimed = await self._claim(free)
        for item in claimed:
            self._start_item(item)
        return bool(claimed) and len(claimed) == free

    async def _claim(self, n: int) -> list[ClaimedItem]:
        now = _now()
        async with self._db.begin() as conn:
            claimed = await item_rows.claim_items(
                conn, self.owner, n, self._settings.lease_seconds, now
            )
            if claimed:
                await evaluation_rows.mark_running(
                    conn, sorted({c.evaluation_id for c in claimed}), now
                )
        return claimed

    def _start_item(self, item: ClaimedItem) -> None:
        assert self._group is not None
        self._item_evaluation[item.id] = item.evaluation_id
        self._tasks[item.id] = self._group.create_task(self._run_one(item))

    async def _run_one(self, item: ClaimedItem) -> None:
        try:
            runtime = await self._runtime(item.evaluation_id)
            if runtime is None:
                finished = _ended(
                    item, ItemState.CANCELLED, "cancelled", "the evaluation is no longer active"
                )
            else:
                async with self._evaluation_slot(item.evaluation_id, runtime):
                    finished = await run_item(
                        item, runtime, self._event_log(item, runtime.redactor)
                    )
                if finished.error is not None and finished.error["code"] == INVALID_API_KEY:
                    await self._fail_evaluation(
                        item.evaluation_id,
                        f"the provider rejected the API key: {finished.error['message']}",
                        INVALID_API_KEY,
                    )
        except asyncio.CancelledError:
            if item.id not in self._cancelled_items:
                raise  # shutdown: stop() gives the item back to the queue
            finished = _ended(
                item, ItemState.CANCELLED, "cancelled", "the evaluation was cancelled"
            )
        except Exception as exc:  # noqa: BLE001 - the runtime could not be built: the evaluation cannot run
            message = exc.message if isinstance(exc, AssayError) else f"{type(exc).__name__}: {exc}"
            finished = _ended(item, ItemState.INFRA_ERROR, "configuration_error", message)
            await self._fail_evaluation(item.evaluation_id, message, "configuration_error")
        finally:
            self._tasks.pop(item.id, None)
            self._item_evaluation.pop(item.id, None)
            self._cancelled_items.discard(item.id)
            self._wake.set()
        self._finished.put_nowait(finished)

    def _evaluation_slot(
        self, evaluation_id: str, runtime: EvaluationRuntime
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """Kinds that must run one item at a time (performance) queue here, in seq order."""
        limit = runtime.kind.max_concurrency or runtime.spec.limits.max_concurrency
        if limit is None:
            return contextlib.nullcontext()
        return self._limits.acquire("evaluation", evaluation_id, limit)

    async def _runtime(self, evaluation_id: str) -> EvaluationRuntime | None:
        """The evaluation's runtime, built once however many of its items arrive together.

        None when the evaluation is no longer active. Raises what building it raised.
        """
        runtime = self._runtimes.get(evaluation_id)
        if runtime is not None:
            return runtime
        async with self._runtime_locks.setdefault(evaluation_id, asyncio.Lock()):
            runtime = self._runtimes.get(evaluation_id)
            if runtime is not None:
                return runtime
            async with self._db.connect() as conn:
                row = await evaluation_rows.get_evaluation(conn, evaluation_id)
            if row is None or row.status not in ("pending", "running"):
                return None
            spec = EvaluationSpec.model_validate(row.spec)
            runtime = build_runtime(
                spec, self._secrets.open(row.secrets_enc), self._pool, self._limits, self._settings
            )
            self._runtimes[evaluation_id] = runtime
            return runtime

    def _event_log(
        self, item: ClaimedItem, redactor: Redactor
    ) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
        """Store an item's steps one by one, in order, as it records them (secrets blanked)."""
        counter = itertools.count()

        async def log(kind: str, payload: dict[str, Any]) -> None:
            async with self._db.begin() as conn:
                await event_rows.insert_event(
                    conn,
                    evaluation_id=item.evaluation_id,
                    item_id=item.id,
                    attempt=item.attempts,
                    seq=next(counter),
                    kind=kind,
                    payload=redactor.redact(payload),
                    now=_now(),
                )

        return log

    async def _fail_evaluation(self, evaluation_id: str, message: str, code: str) -> None:
        """Fail the evaluation (once), cancel its queued items and queue its webhook event.

        Its running items stop at the next housekeeping round, as for a cancellation.
        """
        now = _now()
        async with self._db.begin() as conn:
            failed = await evaluation_rows.fail_evaluation(
                conn, evaluation_id, message, now, error_code=code
            )
            await item_rows.cancel_queued(conn, evaluation_id, now)
            if failed:
                await record_terminal_event(conn, evaluation_id, now)
        if failed:
            log.warning("evaluation %s failed: %s", evaluation_id, message)
            self._notify_finished([evaluation_id])

    # -- writing ------------------------------------------------------------------------

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._finished.get()]
            while True:
                try:
                    await self._flush(batch)
                    break
                except Exception:  # keep the batch: its leases are still ours, nothing is lost
                    log.exception("writing %d outcomes failed; retrying", len(batch))
                    await asyncio.sleep(1.0)

    async def _flush(self, batch: list[FinishedItem] | None = None) -> None:
        batch = batch or []
        while not self._finished.empty() and len(batch) < WRITE_BATCH:
            batch.append(self._finished.get_nowait())
        if not batch:
            return
        async with self._db.begin() as conn:
            await item_rows.record_outcomes(conn, self.owner, batch, _now())
        await self._finalize({f.evaluation_id for f in batch})

    async def _finalize(self, evaluation_ids: set[str]) -> None:
        result = await finalize_finished(self._db, evaluation_ids)
        for evaluation_id in result.done:
            runtime = self._runtimes.pop(evaluation_id, None)
            self._runtime_locks.pop(evaluation_id, None)
            if runtime is not None:
                await runtime.aclose()
            self._limits.forget("evaluation", evaluation_id)
        if result.completed:
            self._notify_finished(result.completed)

    def _notify_finished(self, evaluation_ids: list[str]) -> None:
        if self._on_finished is not None:
            self._on_finished(evaluation_ids)

    # -- housekeeping ---------------------------------------------------------------------

    async def _housekeeping_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last_renew = last_reap = 0.0
        while True:
            await asyncio.sleep(self._settings.poll_interval)
            try:
                last_renew, last_reap = await self._housekeeping(loop.time(), last_renew, last_reap)
            except Exception:
                log.exception("housekeeping failed; retrying")

    async def _housekeeping(
        self, now: float, last_renew: float, last_reap: float
    ) -> tuple[float, float]:
        """Stop cancelled work, renew our leases, reap lost ones; returns the new timestamps."""
        lease = self._settings.lease_seconds
        await self._stop_cancelled()
        if self._tasks and now - last_renew >= lease / 3:
            async with self._db.begin() as conn:
                await item_rows.renew_leases(conn, self.owner, lease, _now())
            last_renew = now
        if now - last_reap >= min(lease / 2, 5.0):
            async with self._db.begin() as conn:
                touched = await item_rows.reap_expired(conn, _now())
            last_reap = now
            if touched:
                self._wake.set()
                await self._finalize(touched)
        return last_renew, last_reap

    async def _stop_cancelled(self) -> None:
        running = sorted(set(self._item_evaluation.values()))
        if not running:
            return
        async with self._db.connect() as conn:
            stopped = await evaluation_rows.cancelled_among(conn, running)
        for item_id, evaluation_id in list(self._item_evaluation.items()):
            if evaluation_id in stopped and item_id not in self._cancelled_items:
                self._cancelled_items.add(item_id)
                self._tasks[item_id].cancel()


def _log_crash(task: asyncio.Task[None]) -> None:
    """An engine loop that dies must say so: items would otherwise wait without a word."""
    if not task.cancelled() and task.exception() is not None:
        log.critical("the engine stopped on an error", exc_info=task.exception())


def _ended(item: ClaimedItem, state: ItemState, code: str, message: str) -> FinishedItem:
    error = ItemError(code=code, message=message, attempt=item.attempts)
    return FinishedItem(item.id, item.evaluation_id, state, None, error.model_dump())
