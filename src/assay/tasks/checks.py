"""Validating a dataset: every task must pass with its oracle and fail when nothing is done.

A task that passes doing nothing measures nothing; one that fails with its own reference
solution is broken. Both runs use real sandboxes of the given provider.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from assay.core.errors import SandboxError
from assay.sandbox import SandboxLimits, SandboxProvider, open_sandbox
from assay.tasks.format import Task
from assay.tasks.runner import Verdict, provision, run_solution, verify


@dataclass(frozen=True)
class TaskCheck:
    task: str
    oracle: Verdict
    nothing: Verdict

    @property
    def ok(self) -> bool:
        return self.oracle.passed and not self.nothing.passed


async def _run(
    provider: SandboxProvider, task: Task, oracle: bool, slots: asyncio.Semaphore, timeout: float
) -> Verdict:
    async with slots:
        try:
            async with open_sandbox(provider, SandboxLimits()) as sandbox:
                await provision(sandbox, task, {}, timeout)
                if oracle:
                    await run_solution(sandbox, task, {}, timeout)
                return await verify(
                    sandbox, task, {}, lambda: open_sandbox(provider, SandboxLimits())
                )
        except SandboxError as exc:
            return Verdict(False, f"sandbox error: {exc.message}")


async def check_tasks(
    provider: SandboxProvider, tasks: Sequence[Task], concurrency: int = 4, timeout: float = 120
) -> list[TaskCheck]:
    """Both runs of every task, in the tasks' order."""
    slots = asyncio.Semaphore(concurrency)
    async with asyncio.TaskGroup() as group:
        runs = [
            (
                group.create_task(_run(provider, t, True, slots, timeout)),
                group.create_task(_run(provider, t, False, slots, timeout)),
            )
            for t in tasks
        ]
    return [
        TaskCheck(t.name, oracle.result(), nothing.result())
        for t, (oracle, nothing) in zip(tasks, runs, strict=True)
    ]
