"""`assay tasks import`: Harbor task folders written here become sound Assay tasks.

The converted tasks are then checked the way `assay tasks check` does, in real bwrap
sandboxes: each passes with its (rewritten) solution and fails when nothing is done.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.sandbox import get_provider
from assay.sandbox.base import SandboxPolicy
from assay.tasks.checks import check_tasks
from assay.tasks.format import load_tasks
from assay.tasks.harbor import NOTES_FILE, parse_dockerfile, rewrite_paths
from tests.cli.test_commands import assay

pytestmark = pytest.mark.timeout(120)

TASK_TOML = """\
version = "1.0"

[metadata]
author_name = "Someone"
difficulty = "easy"
category = "file-operations"
tags = ["csv", "bash"]

[verifier]
timeout_sec = 45.0

[agent]
timeout_sec = 240.0

[environment]
build_timeout_sec = 600.0
cpus = 1
memory_mb = 2048
"""
DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
RUN pip install --no-cache-dir \\
    pandas
COPY data/ /app/data/
COPY notes.txt logo.png ./
COPY secret.key /root/secret.key
"""
# Bash-only syntax ([[ ]], arrays) in both scripts: Assay runs them with sh, so they must be
# handed to bash.
SOLVE = """\
#!/bin/bash
set -euo pipefail
cols=( $(head -n1 /app/data/sales.csv | tr ',' ' ') )
[[ ${#cols[@]} -eq 3 ]]
tail -n +2 /app/data/sales.csv | cut -d, -f3 | awk '{s += $1} END {print s}' > /app/total.txt
"""
TEST_SH = """\
#!/bin/bash
mkdir -p /logs/verifier
if [[ -f /app/notes.txt ]] && python3 /tests/test_outputs.py; then
  echo 1 > /logs/verifier/reward.txt
else
  echo 0 > /logs/verifier/reward.txt
fi
"""
TEST_PY = """\
from pathlib import Path

assert Path("/app/total.txt").read_text().strip() == "60", "wrong total"
"""


def _harbor_task(root: Path, name: str) -> Path:
    task = root / name
    (task / "environment" / "data").mkdir(parents=True)
    (task / "solution").mkdir()
    (task / "tests").mkdir()
    (task / "task.toml").write_text(TASK_TOML)
    (task / "instruction.md").write_text(
        "Sum the third column of /app/data/sales.csv into /app/total.txt.\n"
    )
    (task / "environment" / "Dockerfile").write_text(DOCKERFILE)
    (task / "environment" / "data" / "sales.csv").write_text("id,item,amount\n1,a,10\n2,b,50\n")
    (task / "environment" / "notes.txt").write_text("amounts are in euros\n")
    (task / "environment" / "secret.key").write_text("not for the work directory\n")
    (task / "environment" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    (task / "solution" / "solve.sh").write_text(SOLVE)
    (task / "tests" / "test.sh").write_text(TEST_SH)
    (task / "tests" / "test_outputs.py").write_text(TEST_PY)
    return task


async def test_imported_harbor_tasks_pass_with_their_solution_and_fail_doing_nothing(
    tmp_path: Path,
):
    harbor = tmp_path / "harbor"
    _harbor_task(harbor, "Sum_Sales")
    _harbor_task(harbor, "sum-sales-again")
    (harbor / "not-a-task").mkdir()

    done = assay(tmp_path, "tasks", "import", str(harbor), "--into", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sum_sales" in done.stdout and "sum-sales-again" in done.stdout

    tasks = load_tasks(tmp_path / "out")
    assert [t.name for t in tasks] == ["sum-sales-again", "sum_sales"]
    task = tasks[1]
    assert task.capability == "file-operations"
    assert task.difficulty == "easy"
    assert task.agent_timeout_sec == 240.0
    assert task.verifier.type == "test" and task.verifier.timeout_sec == 45.0
    assert task.instruction == "Sum the third column of data/sales.csv into total.txt.\n"
    # Only what the Dockerfile copies into its WORKDIR, at its place there; text only.
    assert set(task.files) == {"data/sales.csv", "notes.txt"}
    assert task.verifier.script is not None and "reward.txt" in task.verifier.script
    assert "/logs/verifier" not in task.verifier.script
    assert task.verifier.files["test_outputs.py"].count('Path("total.txt")') == 1

    notes = (tmp_path / "out" / "sum_sales" / NOTES_FILE).read_text()
    for expected in (
        "RUN pip install",
        "python:3.12-slim",
        "secret.key /root/secret.key: outside /app",
        "environment/logo.png: not UTF-8",
        "memory_mb = 2048",
        "tags",
    ):
        assert expected in notes, expected

    provider = get_provider("bwrap", SandboxPolicy(root_dir=tmp_path / "sandboxes"))
    checks = await check_tasks(provider, tasks, concurrency=2)
    for check in checks:
        assert check.oracle.passed, (check.task, check.oracle)
        assert not check.nothing.passed, (check.task, check.nothing)
        assert check.nothing.reason == "the test script wrote reward '0'"


def test_a_task_that_would_overwrite_or_is_incomplete_is_refused_naming_it(tmp_path: Path):
    harbor = tmp_path / "harbor"
    _harbor_task(harbor, "sum-sales")
    (harbor / "sum-sales" / "tests" / "test.sh").unlink()
    _harbor_task(harbor, "fine")
    out = tmp_path / "out"
    (out / "fine").mkdir(parents=True)

    done = assay(tmp_path, "tasks", "import", str(harbor), "--into", str(out))
    assert done.returncode == 1
    assert "tests/test.sh" in done.stdout
    assert "exists already" in done.stdout
    assert list((out / "fine").iterdir()) == []

    empty = assay(tmp_path, "tasks", "import", str(out / "fine"))
    assert empty.returncode == 2
    assert "no task.toml" in empty.stderr


def test_paths_and_dockerfiles_convert_as_documented():
    assert rewrite_paths("cd /app && cat /app/x /tests/t.py /apple /x/app/y", "/app") == (
        "cd . && cat x .assay-tests/t.py /apple /x/app/y"
    )
    assert rewrite_paths("echo 1 > /logs/verifier/reward.txt", "/srv/task") == (
        "echo 1 > reward.txt"
    )
    docker = parse_dockerfile(
        "FROM x\nWORKDIR /srv\nWORKDIR task\nCOPY --chown=1:1 a b /srv/task/in/\n"
    )
    assert docker.workdir == "/srv/task"
    assert docker.copies == [("a", "/srv/task/in/"), ("b", "/srv/task/in/")]
