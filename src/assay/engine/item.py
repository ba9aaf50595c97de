"""The one item function: claim, run, record and finalize, the same for every backend.

:class:`ItemRunner` holds what items share in one process (the provider pool, the named
limits, each evaluation's runtime) and runs an item from its claim to its recorded outcome:

- ``claim`` / ``claim_one`` take queued items with a lease (``store/repositories/items.py``);
- ``run`` builds or reuses the evaluation's runtime, runs the kind under the item's deadline
  with its phases, saved state, events and resources, and classifies how it ended;
- ``record`` writes outcomes and suspensions while the lease is held and, in the same
  transaction, settles the evaluations touched: finalized once their last item ended,
  ``waiting_verification`` while only waiting items are left;
- ``process`` is the three in a row for one item id: what a distributed worker calls.

The failure policies live here once: a provider rejecting the key fails the whole evaluation
(every other item would be refused the same way), a runtime that cannot be built fails it
with ``configuration_error``, exhausted retries end an item in ``infra_error`` (``classify``),
and a lost lease puts it back in the queue (``housekeeping.py``). Backends only schedule:
the in-process backend runs many ``run`` calls in one loop and batches their ``record``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from assay.core.errors import AssayError
from assay.core.outcome import ItemError, RecordedEvent, Suspend
from assay.core.spec import EvaluationSpec, ItemPlan
from assay.core.states import EvaluationStatus, ItemState
from assay.engine.classify import INVALID_API_KEY, classify
from assay.engine.finalize import Finalized, engine_row, settle
from assay.engine.limits import Limits
from assay.engine.resources import ItemResources
from assay.engine.runtime import EvaluationRuntime, ProviderPool, build_runtime
from assay.kinds.base import ItemContext
from assay.settings import Settings
from assay.store.repositories import evaluations as evaluation_rows
from assay.store.repositories import events as event_rows
from assay.store.repositories import items as item_rows
from assay.store.repositories.items import ClaimedItem, FinishedItem, SuspendedItem
from assay.store.secrets import SecretBox
from assay.store.transitions import move_evaluations, queue_wait_event

log = logging.getLogger(__name__)

#: A phase is stored once it lasted this long (seconds); shorter ones are never written.
PHASE_VISIBLE_AFTER = 0.25

#: How a run of an item ended: terminal, or waiting for an event.
ItemResult = FinishedItem | SuspendedItem


def _now() -> datetime:
    return datetime.now(UTC)


def new_owner() -> str:
    """A lease owner id unique to this process and runner."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ItemRunner:
    def __init__(
        self,
        settings: Settings,
        db: AsyncEngine,
        secrets: SecretBox,
        on_finished: Callable[[list[str]], Any] | None = None,
    ) -> None:
        self.owner = new_owner()
        self.settings = settings
        self.db = db
        self._secrets = secrets
        self._on_finished = on_finished
        self._pool = ProviderPool(settings)
        self._limits = Limits()
        self._runtimes: dict[str, EvaluationRuntime] = {}
        self._runtime_locks: dict[str, asyncio.Lock] = {}
        #: Phases reported and not stored yet, with when they were reported (monotonic).
        self._phases: dict[str, tuple[ItemState, float]] = {}
        #: Items whose evaluation stopped: their cancellation is an outcome, not a shutdown.
        self._cancelled: set[str] = set()
        #: Items this runner holds (claimed, waiting for a slot, or running) -> their
        #: evaluation: their leases are renewed, and they are cancelled with it.
        self.running: dict[str, str] = {}

    # -- claiming ----------------------------------------------------------------------

    async def claim(self, n: int) -> list[ClaimedItem]:
        """Take up to ``n`` queued items and mark their evaluations running."""
        now = _now()
        async with self.db.begin() as conn:
            claimed = await item_rows.claim_items(
                conn, self.owner, n, self.settings.lease_seconds, now
            )
            await self._start_evaluations(conn, {c.evaluation_id for c in claimed}, now)
        self.running.update((c.id, c.evaluation_id) for c in claimed)
        return claimed

    async def claim_one(self, item_id: str) -> ClaimedItem | None:
        """Take one queued item by id; None when it is not queued any more (a no-op)."""
        claimed = await self.claim_ids([item_id])
        return claimed[0] if claimed else None

    async def claim_ids(self, item_ids: Sequence[str]) -> list[ClaimedItem]:
        """Take the queued ones of ``item_ids`` (a broker message's batch) in one transaction."""
        now = _now()
        async with self.db.begin() as conn:
            claimed = await item_rows.claim_items_by_id(
                conn, self.owner, item_ids, self.settings.lease_seconds, now
            )
            await self._start_evaluations(conn, {c.evaluation_id for c in claimed}, now)
        return claimed

    @staticmethod
    async def _start_evaluations(conn: Any, evaluation_ids: set[str], now: datetime) -> None:
        if evaluation_ids:
            ids = sorted(evaluation_ids)
            await move_evaluations(conn, ids, EvaluationStatus.RUNNING, now)

    # -- running -----------------------------------------------------------------------

    async def run(self, item: ClaimedItem) -> ItemResult:
        """Run a claimed item once; cancellation by ``stop_cancelled`` is an outcome.

        A cancellation for any other reason (shutdown) propagates: the caller gives the item
        back to the queue.
        """
        self.running[item.id] = item.evaluation_id
        try:
            runtime = await self._runtime(item.evaluation_id)
            if runtime is None:
                return _ended(
                    item, ItemState.CANCELLED, "cancelled", "the evaluation is not active"
                )
            async with self._evaluation_slot(item.evaluation_id, runtime):
                result = await self._execute(item, runtime)
            if isinstance(result, FinishedItem) and _error_code(result) == INVALID_API_KEY:
                assert result.error is not None
                message = f"the provider rejected the API key: {result.error['message']}"
                await self.fail_evaluation(item.evaluation_id, message, INVALID_API_KEY)
            return result
        except asyncio.CancelledError:
            if item.id not in self._cancelled:
                raise
            return _ended(item, ItemState.CANCELLED, "cancelled", "the evaluation was cancelled")
        except Exception as exc:  # noqa: BLE001 - the runtime could not be built: nothing can run
            message = exc.message if isinstance(exc, AssayError) else f"{type(exc).__name__}: {exc}"
            await self.fail_evaluation(item.evaluation_id, message, "configuration_error")
            return _ended(item, ItemState.INFRA_ERROR, "configuration_error", message)
        finally:
            self.running.pop(item.id, None)
            self._cancelled.discard(item.id)

    async def _execute(self, item: ClaimedItem, runtime: EvaluationRuntime) -> ItemResult:
        """The kind's run under the item's deadline, its resources released however it ends."""
        resources = ItemResources(item.id)
        ctx = await self._context(item, runtime, resources)
        try:
            if not runtime.kind.reports_phases:
                await ctx.phase(ItemState.AGENT_RUNNING)
            async with asyncio.timeout(runtime.spec.limits.item_timeout_s):
                ran = await runtime.kind.run_item(ItemPlan(input=item.input), ctx)
        except Exception as exc:  # noqa: BLE001 - every failure becomes data on the item
            state, error = classify(exc, item.attempts)
            error_data = runtime.redactor.redact(error.model_dump())
            return FinishedItem(item.id, item.evaluation_id, state, None, error_data)
        finally:
            if resources.held:  # shielding costs a task: most items hold nothing
                await asyncio.shield(resources.close())
        if isinstance(ran, Suspend):
            return SuspendedItem(
                item.id,
                item.evaluation_id,
                runtime.redactor.redact(ran.state),
                ran.waiting_for,
                ran.resume_after,
                runtime.redactor.redact(ran.announce),
            )
        state = ItemState.FAILED if ran.passed is False else ItemState.PASSED
        outcome = runtime.redactor.redact(ran.model_dump(mode="json"))
        return FinishedItem(item.id, item.evaluation_id, state, outcome, None)

    async def _context(
        self, item: ClaimedItem, runtime: EvaluationRuntime, resources: ItemResources
    ) -> ItemContext:
        events: list[RecordedEvent] = []
        if item.saved_state is not None:
            async with self.db.connect() as conn:
                events = await event_rows.recorded_events(conn, item.id)

        async def phase(state: ItemState) -> None:
            if item.id in self.running:
                self._phases[item.id] = (state, time.monotonic())

        async def save(state: dict[str, Any]) -> None:
            async with self.db.begin() as conn:
                await item_rows.save_state(
                    conn, self.owner, item.id, runtime.redactor.redact(state)
                )

        return ItemContext(
            evaluation_id=item.evaluation_id,
            item_id=item.id,
            seq=item.seq,
            attempt=item.attempts,
            spec=runtime.spec,
            target=runtime.target_handle,
            judge=runtime.judge,
            cost=runtime.cost,
            params=runtime.params,
            llm=runtime.llm,
            log=self._event_log(item, runtime),
            phase=phase,
            save=save,
            saved_state=item.saved_state,
            events=events,
            resources=resources,
            secrets=runtime.task_secrets,
            sandbox_provider=runtime.sandbox_provider,
        )

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
            async with self.db.connect() as conn:
                row = await engine_row(conn, evaluation_id)
            if row is None or not EvaluationStatus(row.status).is_active:
                return None
            spec = EvaluationSpec.model_validate(row.spec)
            runtime = build_runtime(
                spec, self._secrets.open(row.secrets_enc), self._pool, self._limits, self.settings
            )
            self._runtimes[evaluation_id] = runtime
            return runtime

    def _event_log(
        self, item: ClaimedItem, runtime: EvaluationRuntime
    ) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
        """Store an item's steps one by one, in order, as it records them (secrets blanked)."""
        counter = itertools.count()

        async def write(kind: str, payload: dict[str, Any]) -> None:
            async with self.db.begin() as conn:
                await event_rows.insert_event(
                    conn,
                    evaluation_id=item.evaluation_id,
                    item_id=item.id,
                    attempt=item.attempts,
                    seq=next(counter),
                    kind=kind,
                    payload=runtime.redactor.redact(payload),
                    now=_now(),
                )

        return write

    # -- recording ---------------------------------------------------------------------

    async def record(self, results: Sequence[ItemResult]) -> None:
        """Write outcomes and suspensions in one transaction, then settle their evaluations.

        Only results whose lease this runner still holds are written: a stale result (the
        lease was lost and the item ran elsewhere) changes nothing.
        """
        if not results:
            return
        now = _now()
        finished = [r for r in results if isinstance(r, FinishedItem)]
        suspended = [r for r in results if isinstance(r, SuspendedItem)]
        async with self.db.begin() as conn:
            await item_rows.record_outcomes(conn, self.owner, finished, now)
            await item_rows.suspend_items(conn, self.owner, suspended, now)
            for parked in suspended:
                if parked.announce is not None:
                    await queue_wait_event(conn, parked.id, parked.announce, now)
            settled = await settle(conn, {r.evaluation_id for r in results})
        for result in results:
            self._phases.pop(result.id, None)
        await self._settled(settled)

    async def settle(self, evaluation_ids: set[str]) -> None:
        """Finalize the evaluations whose items all ended; park those left only waiting."""
        async with self.db.begin() as conn:
            settled = await settle(conn, evaluation_ids)
        await self._settled(settled)

    async def _settled(self, result: Finalized) -> None:
        for evaluation_id in result.done:
            await self._forget(evaluation_id)
        if result.completed:
            self._announce(result.completed)

    async def process(self, item_id: str) -> bool:
        """Claim, run and record one item by id: a distributed worker's whole task.

        Returns False (and does nothing) when the item is not queued: it finished, another
        worker holds it, or it waits. A redelivered message is therefore harmless.
        """
        claimed = await self.claim_one(item_id)
        if claimed is None:
            return False
        await self.record([await self.run(claimed)])
        return True

    async def fail_evaluation(self, evaluation_id: str, message: str, code: str) -> None:
        """Fail the evaluation (once) and cancel its open items; running ones stop soon.

        Its running items are cancelled at the next ``stop_cancelled``, as for a user's cancel.
        """
        now = _now()
        async with self.db.begin() as conn:
            failed = await move_evaluations(
                conn, [evaluation_id], EvaluationStatus.FAILED, now, error=message, error_code=code
            )
            await item_rows.cancel_open_items(conn, evaluation_id, now, "the evaluation failed")
        if failed:
            log.warning("evaluation %s failed: %s", evaluation_id, message)
            self._announce(failed)

    # -- what housekeeping needs -------------------------------------------------------

    async def flush_phases(self) -> None:
        """Store, in one transaction, the phases held for ``PHASE_VISIBLE_AFTER`` or longer.

        A shorter phase is replaced by the next one (or the outcome) before it is stored:
        most items of a fast evaluation never cost a phase write.
        """
        now = time.monotonic()
        due = {
            item_id: state
            for item_id, (state, since) in self._phases.items()
            if now - since >= PHASE_VISIBLE_AFTER
        }
        if not due:
            return
        for item_id in due:
            del self._phases[item_id]
        async with self.db.begin() as conn:
            await item_rows.set_phases(conn, self.owner, due.items())

    async def stop_cancelled(self) -> list[str]:
        """Running items whose evaluation is no longer active; the caller cancels their tasks."""
        evaluations = sorted(set(self.running.values()))
        if not evaluations:
            return []
        async with self.db.connect() as conn:
            stopped = await evaluation_rows.cancelled_among(conn, evaluations)
        doomed = [
            item_id
            for item_id, evaluation_id in self.running.items()
            if evaluation_id in stopped and item_id not in self._cancelled
        ]
        self._cancelled.update(doomed)
        return doomed

    def cancelled(self, item: ClaimedItem) -> ItemResult:
        """The outcome of a claimed item that never started because its evaluation stopped."""
        self.running.pop(item.id, None)
        self._cancelled.discard(item.id)
        return _ended(item, ItemState.CANCELLED, "cancelled", "the evaluation was cancelled")

    async def release(self, item_ids: Sequence[str]) -> None:
        """Give items back to the queue (a clean shutdown); their attempt is not spent."""
        for item_id in item_ids:
            self.running.pop(item_id, None)
        async with self.db.begin() as conn:
            await item_rows.release_items(conn, self.owner, item_ids)

    async def _forget(self, evaluation_id: str) -> None:
        runtime = self._runtimes.pop(evaluation_id, None)
        self._runtime_locks.pop(evaluation_id, None)
        if runtime is not None:
            await runtime.aclose()
        self._limits.forget("evaluation", evaluation_id)

    def _announce(self, evaluation_ids: list[str]) -> None:
        if self._on_finished is not None:
            self._on_finished(evaluation_ids)

    async def aclose(self) -> None:
        for runtime in self._runtimes.values():
            await runtime.aclose()
        self._runtimes.clear()
        await self._pool.aclose()


def _error_code(result: FinishedItem) -> str | None:
    return None if result.error is None else str(result.error.get("code"))


def _ended(item: ClaimedItem, state: ItemState, code: str, message: str) -> FinishedItem:
    error = ItemError(code=code, message=message, attempt=item.attempts)
    return FinishedItem(item.id, item.evaluation_id, state, None, error.model_dump())
