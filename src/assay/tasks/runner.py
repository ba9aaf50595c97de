"""The phases of one task in a sandbox: provision, run the oracle, verify.

Kept apart from the kind so that ``assay tasks check`` and the tests validate a dataset with
exactly the code that scores it. Hidden parts of a task (its setup script, its solution) are
written into the work directory only while they run, under dot-names the task's own files
cannot use, and removed afterwards.

A test verifier runs apart from the agent: in a fresh sandbox that gets a copy of the agent's
final work directory (``Sandbox.copy_into``, once nothing of the agent runs) and then the
verifier's files, which never enter a sandbox the agent ran in. Nothing the agent left
running can kill or rewrite the verifier, and nothing it left behind (a planted
``reward.txt`` it made read-only, a read-only work directory) survives the copy, which drops
modes other than the executable bit. A flag verifier runs no code: it reads ``answer.txt``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from assay.core.errors import SandboxError
from assay.sandbox.base import ExecResult, Sandbox, WorkTooLarge
from assay.tasks.format import Task

ANSWER_FILE = "answer.txt"
REWARD_FILE = "reward.txt"
_SETUP = ".assay-setup.sh"
_SOLUTION = ".assay-solution.sh"
#: Where a test verifier's files are put in its sandbox's work directory.
TESTS_DIR = ".assay-tests"
#: Makes the fresh sandbox a test verifier runs in, cleaned up when the block ends.
FreshSandbox = Callable[[], AbstractAsyncContextManager[Sandbox]]


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str
    #: The verifier's command, for ``test`` tasks.
    result: ExecResult | None = None


async def provision(
    sandbox: Sandbox, task: Task, env: Mapping[str, str], timeout: float
) -> ExecResult | None:
    """Copy the task's files in and run its setup; SandboxError when the setup fails."""
    for path, content in task.files.items():
        await sandbox.write_file(path, content)
    if task.setup is None:
        return None
    await sandbox.write_file(_SETUP, task.setup)
    result = await sandbox.exec(["sh", _SETUP], timeout=timeout, env=env)
    await sandbox.exec(["rm", "-f", _SETUP], timeout=timeout)
    if result.exit_code != 0:
        detail = "timed out" if result.timed_out else f"exit {result.exit_code}"
        raise SandboxError(f"the setup of task {task.name!r} failed ({detail})")
    return result


async def run_solution(
    sandbox: Sandbox, task: Task, env: Mapping[str, str], timeout: float
) -> ExecResult:
    """Run the task's reference solution (the ``oracle`` agent)."""
    if task.solution is None:
        raise SandboxError(f"task {task.name!r} has no solution for the oracle")
    await sandbox.write_file(_SOLUTION, task.solution)
    try:
        return await sandbox.exec(["sh", _SOLUTION], timeout=timeout, env=env)
    finally:
        await sandbox.exec(["rm", "-f", _SOLUTION], timeout=10)


async def verify(
    sandbox: Sandbox, task: Task, env: Mapping[str, str], fresh: FreshSandbox
) -> Verdict:
    """Decide the task: the flag in answer.txt, or the test script's exit status and reward.

    ``sandbox`` is the agent's; a test script runs in a sandbox from ``fresh`` over a copy of
    its work directory (see the module docstring). SandboxError when either sandbox fails.
    """
    verifier = task.verifier
    if verifier.type == "flag":
        try:
            answer = (await sandbox.read_file(ANSWER_FILE)).decode(errors="replace").strip()
        except (FileNotFoundError, IsADirectoryError):
            return Verdict(False, f"no {ANSWER_FILE} was written")
        if answer == verifier.flag:
            return Verdict(True, "the flag matches")
        return Verdict(False, f"{ANSWER_FILE} does not hold the expected flag")
    assert verifier.script is not None
    async with fresh() as apart:
        try:
            await sandbox.copy_into(apart, leave_out={TESTS_DIR, REWARD_FILE})
        except WorkTooLarge as exc:
            return Verdict(False, f"the agent's {exc.message}")
        for path, content in verifier.files.items():
            await apart.write_file(f"{TESTS_DIR}/{path}", content)
        await apart.write_file(f"{TESTS_DIR}/test.sh", verifier.script)
        result = await apart.exec(
            ["sh", f"{TESTS_DIR}/test.sh"], timeout=verifier.timeout_sec, env=env
        )
        return _test_verdict(result, await _reward(apart))


async def _reward(sandbox: Sandbox) -> str | None:
    try:
        return (await sandbox.read_file(REWARD_FILE)).decode(errors="replace").strip()
    except (FileNotFoundError, IsADirectoryError):
        return None


def _test_verdict(result: ExecResult, reward: str | None) -> Verdict:
    if result.timed_out:
        return Verdict(False, "the test script timed out", result)
    if result.exit_code != 0:
        return Verdict(False, f"the test script exited {result.exit_code}", result)
    if reward is not None and reward not in ("1", "1.0"):
        return Verdict(False, f"the test script wrote reward {reward[:20]!r}", result)
    return Verdict(True, "the test script passed", result)
