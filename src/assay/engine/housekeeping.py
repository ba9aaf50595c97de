"""What a process running items does between items, whatever its backend.

Each round stores reported phases and finds the running items to cancel; on slower clocks it
renews this runner's leases (a third of the lease time), reaps leases other processes lost,
resumes waits whose deadline passed, finalizes evaluations left without a summary by a
process killed between their last outcome and their summary, and removes the sandbox work
directories and control groups of processes that died without cleaning them
(``sandbox/orphans.py``). Nothing is stranded: every active evaluation with no open item is
finalized at the next round of any process.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from assay.engine.item import ItemRunner
from assay.engine.waits import resume_due
from assay.sandbox.orphans import sweep_orphans
from assay.store.repositories import evaluations as evaluation_rows
from assay.store.repositories import items as item_rows

log = logging.getLogger(__name__)


@dataclass
class Round:
    #: Running items whose evaluation stopped: the backend cancels them.
    cancel: list[str]
    #: Items went back to the queue: the backend should claim now.
    requeued: bool


class Housekeeping:
    def __init__(self, runner: ItemRunner) -> None:
        self._runner = runner
        self._last_renew = self._last_sweep = float("-inf")

    async def round(self, clock: float) -> Round:
        """One round at monotonic time ``clock``; database errors propagate to the caller."""
        runner = self._runner
        await runner.flush_phases()
        cancel = await runner.stop_cancelled()
        lease = runner.settings.lease_seconds
        if runner.running and clock - self._last_renew >= lease / 3:
            async with runner.db.begin() as conn:
                await item_rows.renew_leases(conn, runner.owner, lease, datetime.now(UTC))
            self._last_renew = clock
        requeued = False
        if clock - self._last_sweep >= min(lease / 2, 5.0):
            requeued = await self.sweep()
            self._last_sweep = clock
        return Round(cancel=cancel, requeued=requeued)

    async def sweep(self) -> bool:
        """Reap lost leases, resume due waits, finalize stranded evaluations, sweep sandboxes.

        Returns True when items went back to the queue. Called on start too, so a restart
        settles what the last process left.
        """
        runner = self._runner
        swept = await asyncio.to_thread(sweep_orphans, runner.settings.sandbox_policy)
        if swept.work_dirs or swept.cgroups:
            log.info(
                "removed %d sandbox work directories and %d control groups of dead processes",
                swept.work_dirs,
                swept.cgroups,
            )
        async with runner.db.begin() as conn:
            touched = await item_rows.reap_expired(conn, datetime.now(UTC))
        resumed = await resume_due(runner.db)
        async with runner.db.connect() as conn:
            stranded = await evaluation_rows.stranded(conn)
        await runner.settle(touched | set(stranded))
        return bool(touched) or resumed > 0
