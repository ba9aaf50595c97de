"""Every shipped task passes with its reference solution and fails when the agent does nothing.

Each run is a real bwrap sandbox: provision (files, setup), the agent (the oracle's solution,
or nothing), then the task's own verifier.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.sandbox import SandboxPolicy, get_provider
from assay.tasks.checks import check_tasks
from assay.tasks.format import builtin_tasks

pytestmark = pytest.mark.timeout(120)


async def test_every_task_passes_with_the_oracle_and_fails_doing_nothing(tmp_path: Path):
    tasks = builtin_tasks("security")
    assert len(tasks) >= 25
    provider = get_provider("bwrap", SandboxPolicy(root_dir=tmp_path))
    checks = await check_tasks(provider, tasks, concurrency=8)
    assert {c.task: c.oracle.reason for c in checks if not c.oracle.passed} == {}
    assert [c.task for c in checks if c.nothing.passed] == []
    assert list(tmp_path.iterdir()) == []


def test_the_shipped_tasks_cover_capabilities_and_difficulties():
    tasks = builtin_tasks("security")
    assert len({t.capability for t in tasks}) >= 6
    assert {t.difficulty.value for t in tasks} == {"easy", "medium", "hard"}
    assert all(t.solution for t in tasks)
    assert len({t.name for t in tasks}) == len(tasks)
