"""Task folders load as documented, and a broken one is refused naming the task and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.core.errors import ValidationFailed
from assay.tasks.format import builtin_tasks, load_task, load_tasks


def _folder(root: Path, name: str, toml: str, **files: str) -> Path:
    folder = root / name
    (folder / "environment").mkdir(parents=True)
    (folder / "task.toml").write_text(toml)
    (folder / "instruction.md").write_text("Do it.\n")
    for path, content in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return folder


def test_a_harbor_style_folder_loads(tmp_path: Path):
    folder = _folder(
        tmp_path,
        "fix-it",
        '[metadata]\ncategory = "vuln-patch"\ndifficulty = "hard"\n[agent]\ntimeout_sec = 90\n',
        **{
            "tests/test.sh": "test -f done\n",
            "tests/helper.py": "x = 1\n",
            "solution/solve.sh": "touch done\n",
            "environment/src/a.py": "print(1)\n",
        },
    )
    task = load_task(folder)
    assert task.capability == "vuln-patch"
    assert task.difficulty == "hard"
    assert task.verifier.type == "test"
    assert task.verifier.script == "test -f done\n"
    assert task.verifier.files == {"helper.py": "x = 1\n"}
    assert task.files == {"src/a.py": "print(1)\n"}
    assert task.agent_timeout_sec == 90


def test_bytecode_caches_beside_a_tasks_python_files_are_not_part_of_it(tmp_path: Path):
    """pip compiles the shipped tasks' .py files on install: their caches are binary."""
    folder = _folder(
        tmp_path,
        "cached",
        "[metadata]\n",
        **{"tests/test.sh": "true\n", "environment/app.py": "print(1)\n"},
    )
    for part in ("environment", "tests"):
        cache = folder / part / "__pycache__"
        cache.mkdir()
        (cache / "app.cpython-311.pyc").write_bytes(b"\xa7\r\r\n\x00\xff binary")
    task = load_task(folder)
    assert task.files == {"app.py": "print(1)\n"}
    assert task.verifier.files == {}


def test_a_flag_task_without_its_flag_is_refused_naming_it(tmp_path: Path):
    _folder(tmp_path, "no-flag", '[verifier]\ntype = "flag"\n')
    with pytest.raises(ValidationFailed) as caught:
        load_tasks(tmp_path)
    assert caught.value.errors[0]["loc"][:2] == ["no-flag", "verifier"]
    assert "flag" in caught.value.errors[0]["msg"]


def test_a_missing_instruction_is_named(tmp_path: Path):
    folder = _folder(tmp_path, "bare", '[verifier]\ntype = "flag"\nflag = "x"\n')
    (folder / "instruction.md").unlink()
    with pytest.raises(ValidationFailed, match="bare: missing instruction.md"):
        load_task(folder)


def test_an_unknown_builtin_dataset_names_the_field():
    with pytest.raises(ValidationFailed) as caught:
        builtin_tasks("nope")
    assert caught.value.errors[0]["loc"] == ["dataset"]
