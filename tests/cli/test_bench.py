"""`assay bench run` as a newcomer runs it: a real process, real sandboxes, no key, no network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_commands import assay

pytestmark = pytest.mark.timeout(120)

TASKS = "base64-once,sudoers-audit,patch-negative-transfer"


def test_the_oracle_demo_passes_every_task_and_prints_the_analytics(tmp_path: Path):
    done = assay(tmp_path, "bench", "run", "--tasks", TASKS)
    assert done.returncode == 0, done.stderr
    assert "passed 3" in done.stdout
    assert "100% [44%, 100%] of 3" in done.stdout
    assert "cleanup failures 0" in done.stdout


def test_the_react_demo_on_the_scripted_model_solves_only_what_it_can(tmp_path: Path):
    done = assay(tmp_path, "bench", "run", "--agent", "react", "--tasks", TASKS, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "completed"
    states = {t["task"]: t["state"] for t in result["summary"]["tasks"]}
    assert states == {
        "base64-once": "passed",
        "sudoers-audit": "failed",
        "patch-negative-transfer": "failed",
    }
    assert result["summary"]["usage"]["input_tokens"] > 0


def test_a_dataset_folder_runs_and_a_broken_one_is_refused_naming_the_task(tmp_path: Path):
    task = tmp_path / "tasks" / "hello-flag"
    (task / "solution").mkdir(parents=True)
    (task / "instruction.md").write_text("Write hello to answer.txt.\n")
    (task / "task.toml").write_text('[verifier]\ntype = "flag"\nflag = "hello"\n')
    (task / "solution" / "solve.sh").write_text("printf hello > answer.txt\n")
    done = assay(tmp_path, "bench", "run", "--dataset", str(tmp_path / "tasks"), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["overall"]["passed"] == 1

    (task / "task.toml").write_text('[verifier]\ntype = "flag"\n')
    broken = assay(tmp_path, "bench", "run", "--dataset", str(tmp_path / "tasks"))
    assert broken.returncode == 2
    assert "hello-flag" in broken.stderr


def test_tasks_check_finds_a_task_that_passes_doing_nothing(tmp_path: Path):
    root = tmp_path / "tasks"
    for name, flag_file in (("sound", False), ("free-pass", True)):
        task = root / name
        (task / "solution").mkdir(parents=True)
        (task / "instruction.md").write_text("Write ok to answer.txt.\n")
        (task / "task.toml").write_text('[verifier]\ntype = "flag"\nflag = "ok"\n')
        (task / "solution" / "solve.sh").write_text("printf ok > answer.txt\n")
        if flag_file:
            (task / "environment").mkdir()
            (task / "environment" / "answer.txt").write_text("ok")
    done = assay(tmp_path, "tasks", "check", str(root))
    assert done.returncode == 1, done.stderr
    assert "1 of 2 tasks are broken" in done.stdout
    assert "free-pass" in done.stdout
    (root / "free-pass" / "environment" / "answer.txt").unlink()
    fixed = assay(tmp_path, "tasks", "check", str(root))
    assert fixed.returncode == 0 and "all 2 tasks are sound" in fixed.stdout
    alone = assay(tmp_path, "tasks", "check", str(root / "sound"))
    assert alone.returncode == 0 and "the task is sound" in alone.stdout, alone.stdout
    (tmp_path / "empty").mkdir()
    empty = assay(tmp_path, "tasks", "check", str(tmp_path / "empty"))
    assert empty.returncode == 2 and "holds no task" in empty.stderr, empty.stdout
