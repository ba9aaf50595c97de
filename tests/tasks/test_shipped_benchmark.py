"""Every shipped task passes with its reference solution and fails when the agent does nothing.

Each run is a real bwrap sandbox: provision (files, setup), the agent (the oracle's solution,
or nothing), then the task's own verifier.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from assay.sandbox import SandboxLimits, SandboxPolicy, get_provider, open_sandbox
from assay.tasks.format import Task, builtin_tasks
from assay.tasks.runner import Verdict, provision, run_solution, verify

pytestmark = pytest.mark.timeout(120)


async def _run(
    task: Task, policy: SandboxPolicy, oracle: bool, slots: asyncio.Semaphore
) -> Verdict:
    async with slots, open_sandbox(get_provider("bwrap", policy), SandboxLimits()) as sandbox:
        await provision(sandbox, task, {}, timeout=30)
        if oracle:
            await run_solution(sandbox, task, {}, timeout=30)
        return await verify(sandbox, task, {})


async def test_every_task_passes_with_the_oracle_and_fails_doing_nothing(tmp_path: Path):
    tasks = builtin_tasks("security")
    assert len(tasks) >= 25
    policy = SandboxPolicy(root_dir=tmp_path)
    slots = asyncio.Semaphore(8)
    async with asyncio.TaskGroup() as group:
        oracle = [group.create_task(_run(t, policy, True, slots)) for t in tasks]
        nothing = [group.create_task(_run(t, policy, False, slots)) for t in tasks]
    broken = {
        t.name: v.result().reason
        for t, v in zip(tasks, oracle, strict=True)
        if not v.result().passed
    }
    free = [t.name for t, v in zip(tasks, nothing, strict=True) if v.result().passed]
    assert broken == {}
    assert free == []
    assert list(tmp_path.iterdir()) == []


def test_the_shipped_tasks_cover_capabilities_and_difficulties():
    tasks = builtin_tasks("security")
    assert len({t.capability for t in tasks}) >= 6
    assert {t.difficulty.value for t in tasks} == {"easy", "medium", "hard"}
    assert all(t.solution for t in tasks)
    assert len({t.name for t in tasks}) == len(tasks)
