"""A kind for engine tests, installed as a plugin: it walks its phases as its params say.

It can sleep in any phase (so a test can kill the process there), end in any terminal state,
suspend until an event and continue from its saved state, hold a resource that leaves marker
files on acquire and release, and take its time to summarise (so a kill can land between the
last outcome and the summary).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from assay.core.errors import ProviderUnavailable, TargetError
from assay.core.outcome import ItemRecord, Outcome, Score, Suspend
from assay.core.spec import EvaluationSpec, ItemPlan
from assay.core.states import PHASES, ItemState
from assay.kinds.base import ItemContext, Kind

Ending = Literal["passed", "failed", "errored", "timed_out", "infra_error"]


class LifecycleParams(BaseModel):
    items: int = 1
    #: Where to sleep ``sleep_s`` on the first attempt: ``claiming`` (before the first phase)
    #: or phase names.
    sleep_in: list[str] = []
    sleep_s: float = 0.0
    end: Ending = "passed"
    #: Suspend on the first run until an event (or ``wait_s`` passes, then fail).
    suspend: bool = False
    wait_s: float | None = None
    #: Directory where the resource leaves ``<item>.acquired`` / ``<item>.released``.
    resource_dir: str | None = None
    resource_fails: bool = False
    #: Summarising sleeps ``summarise_sleep_s`` while this file exists (and says so by
    #: creating ``<file>.started``).
    slow_summary_file: str | None = None
    summarise_sleep_s: float = 0.0
    #: While this file exists, the first attempt blocks its event loop (``time.sleep``) in
    #: ``agent_running`` and says so by creating ``<file>.started``: a kind that forgot to
    #: await.
    blocking_file: str | None = None


@asynccontextmanager
async def marker_resource(directory: Path, item_id: str, fails: bool) -> AsyncIterator[str]:
    (directory / f"{item_id}.acquired").touch()
    try:
        yield item_id
    finally:
        (directory / f"{item_id}.released").touch()
        if fails:
            raise RuntimeError("the resource could not be released")


class LifecycleKind(Kind[LifecycleParams]):
    name = "test/lifecycle"
    Params = LifecycleParams
    reports_phases = True
    client_events = frozenset({"continue"})

    def plan(self, spec: EvaluationSpec) -> list[ItemPlan]:
        params = self.validate_params(spec.params)
        return [ItemPlan(input={"n": n}) for n in range(params.items)]

    async def run_item(self, item: ItemPlan, ctx: ItemContext) -> Outcome | Suspend:
        params = self.item_params(ctx)
        if params.resource_dir is not None:
            directory = Path(params.resource_dir)
            await ctx.resources.enter(
                marker_resource(directory, ctx.item_id, params.resource_fails)
            )
        if params.suspend and ctx.saved_state is None:
            await ctx.log("step", {"done": "first half"})
            deadline = (
                datetime.now(UTC) + timedelta(seconds=params.wait_s) if params.wait_s else None
            )
            return Suspend(waiting_for="a test event", state={"half": 1}, resume_after=deadline)
        await self._pause(params, ctx, "claiming")
        for phase in PHASES:
            await ctx.phase(phase)
            await self._pause(params, ctx, phase.value)
        return self._end(params, ctx)

    @staticmethod
    async def _pause(params: LifecycleParams, ctx: ItemContext, where: str) -> None:
        if where in params.sleep_in and ctx.attempt == 1:
            await asyncio.sleep(params.sleep_s)
        blocking = Path(params.blocking_file) if params.blocking_file else None
        if where == "agent_running" and blocking is not None and ctx.attempt == 1:
            blocking.with_suffix(".started").touch()
            while blocking.exists():
                time.sleep(0.05)

    @staticmethod
    def _end(params: LifecycleParams, ctx: ItemContext) -> Outcome:
        events = [{"kind": e.kind, "payload": e.payload} for e in ctx.events]
        if any(e["kind"] == "timer" for e in events):
            return Outcome(passed=False, trace={"reason": "verification timed out"})
        if params.end == "errored":
            raise TargetError("the agent gave up")
        if params.end == "infra_error":
            raise ProviderUnavailable("the provider is down")
        if params.end == "timed_out":
            raise TimeoutError
        passed = params.end == "passed"
        return Outcome(
            passed=passed,
            scores=[Score(name="lifecycle", value=1.0 if passed else 0.0, passed=passed)],
            trace={"saved_state": ctx.saved_state, "events": events, "attempt": ctx.attempt},
        )

    def summarise(self, spec: EvaluationSpec, items: Sequence[ItemRecord]) -> dict[str, Any]:
        params = self.validate_params(spec.params)
        slow = Path(params.slow_summary_file) if params.slow_summary_file else None
        if slow is not None and slow.exists():
            slow.with_suffix(".started").touch()
            time.sleep(params.summarise_sleep_s)  # blocks like a heavy summary would
        states = [ItemState(i.state) for i in items]
        return {
            "counts": {state.value: states.count(state) for state in set(states)}
            | {"total": len(items)}
        }
