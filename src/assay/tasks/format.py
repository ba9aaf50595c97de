"""The task folder format, and loading tasks from folders or JSON.

A task is a folder (close to Harbor's and Terminal-Bench's, so their tasks convert easily)::

    my-task/
      instruction.md        what the agent is told (required)
      task.toml             metadata (required), see below
      environment/          files copied into the sandbox's work directory before setup
      setup.sh              run in the sandbox after the copy (optional); removed before the agent
      solution/solve.sh     the reference solution, run by the ``oracle`` agent (optional)
      tests/test.sh         the verifier of ``type = "test"``: exit status 0 passes

``task.toml``::

    [metadata]
    capability = "forensics"      # a tag; Harbor's ``category`` is read too
    difficulty = "medium"         # easy | medium | hard
    [verifier]
    type = "flag"                 # "flag": answer.txt must equal ``flag``; "test": tests/test.sh
    flag = "ASSAY{...}"
    timeout_sec = 60
    [agent]
    timeout_sec = 300             # the agent's own time (the evaluation's task_timeout_sec wins)

The agent answers a ``flag`` task by writing the flag to ``answer.txt`` in its work directory
(the ``react`` agent's ``submit`` tool does it). A ``test`` verifier also passes when it
writes ``1`` to ``reward.txt`` and exits 0; a ``0`` there fails it. The tests and the solution
are copied in only when they run, so the agent never sees them. Files are text (UTF-8).
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from assay.core.errors import ValidationFailed

#: Largest file of a task, and largest task, in bytes (tasks travel inside item inputs).
MAX_FILE_BYTES = 256 * 1024
MAX_TASK_BYTES = 1024 * 1024
_NAME = r"^[a-z0-9][a-z0-9._-]{0,99}$"


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Verifier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["flag", "test"] = Field(
        description=(
            "`flag`: the agent's answer.txt must equal `flag`; `test`: the test script decides."
        )
    )
    flag: str | None = Field(default=None, min_length=1, max_length=500)
    script: str | None = Field(
        default=None,
        max_length=MAX_FILE_BYTES,
        description="The test script (tests/test.sh), run with sh in the work directory.",
    )
    files: dict[str, str] = Field(
        default_factory=dict, description="Other files of tests/, beside the script."
    )
    timeout_sec: float = Field(default=60.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _complete(self) -> Verifier:
        if self.type == "flag" and self.flag is None:
            raise ValueError("a flag verifier needs `flag`")
        if self.type == "test" and self.script is None:
            raise ValueError("a test verifier needs `script` (tests/test.sh)")
        return self


class Task(BaseModel):
    """One task as it travels in an item's input: everything needed to run it, as text."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)
    instruction: str = Field(min_length=1, max_length=MAX_FILE_BYTES)
    capability: str = Field(default="general", min_length=1, max_length=64)
    difficulty: Difficulty = Difficulty.MEDIUM
    files: dict[str, str] = Field(
        default_factory=dict,
        description="The environment: work-directory-relative path -> content.",
    )
    setup: str | None = Field(default=None, max_length=MAX_FILE_BYTES)
    solution: str | None = Field(
        default=None,
        max_length=MAX_FILE_BYTES,
        description="The reference solution (solution/solve.sh), run by the oracle.",
    )
    verifier: Verifier
    agent_timeout_sec: float | None = Field(default=None, gt=0, le=86400)

    @model_validator(mode="after")
    def _bounded(self) -> Task:
        for path, content in self.files.items():
            parts = Path(path).parts
            if not path or Path(path).is_absolute() or ".." in parts or parts[0].startswith("."):
                raise ValueError(f"file path {path!r} must be relative, without '..' or a dot")
            if len(content.encode()) > MAX_FILE_BYTES:
                raise ValueError(f"file {path!r} is over {MAX_FILE_BYTES} bytes")
        if len(self.model_dump_json()) > MAX_TASK_BYTES:
            raise ValueError(f"the task is over {MAX_TASK_BYTES} bytes")
        return self


def _text(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValidationFailed.for_field(("task", path.name), f"is over {MAX_FILE_BYTES} bytes")
    try:
        return path.read_text()
    except UnicodeDecodeError:
        raise ValidationFailed.for_field(("task", path.name), "is not UTF-8 text") from None


def _tree(root: Path) -> dict[str, str]:
    """The folder's files, without Python's bytecode caches.

    A task's ``.py`` files get ``__pycache__`` beside them wherever Python compiles them
    (pip does, installing the shipped tasks); they are binary and never part of the task.
    """
    if not root.is_dir():
        return {}
    return {
        str(p.relative_to(root)): _text(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink() and "__pycache__" not in p.relative_to(root).parts
    }


def load_task(folder: Path) -> Task:
    """Read one task folder; ValidationFailed names the task and the broken field."""
    name = folder.name
    try:
        meta = tomllib.loads(_text(folder / "task.toml"))
        instruction = _text(folder / "instruction.md")
    except FileNotFoundError as exc:
        raise ValidationFailed.for_field((name,), f"missing {Path(exc.filename).name}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed.for_field((name, "task.toml"), str(exc)) from None
    metadata = meta.get("metadata", {})
    verifier = dict(meta.get("verifier", {}))
    tests = _tree(folder / "tests")
    if "test.sh" in tests:
        verifier.setdefault("type", "test")
        verifier["script"] = tests.pop("test.sh")
        verifier["files"] = tests
    solution = folder / "solution" / "solve.sh"
    setup = folder / "setup.sh"
    try:
        return Task.model_validate(
            {
                "name": name,
                "instruction": instruction,
                "capability": metadata.get("capability", metadata.get("category", "general")),
                "difficulty": metadata.get("difficulty", "medium"),
                "files": _tree(folder / "environment"),
                "setup": _text(setup) if setup.is_file() else None,
                "solution": _text(solution) if solution.is_file() else None,
                "verifier": verifier,
                "agent_timeout_sec": meta.get("agent", {}).get("timeout_sec"),
            }
        )
    except PydanticValidationError as exc:
        raise ValidationFailed.from_pydantic(exc, prefix=(name,)) from None


def load_tasks(root: Path) -> list[Task]:
    """Every task folder directly under ``root`` (a folder with a task.toml), by name."""
    folders = sorted(p for p in root.iterdir() if (p / "task.toml").is_file())
    return [load_task(folder) for folder in folders]


#: Datasets shipped with Assay, by name.
BUILTIN_DATASETS = {"security": Path(__file__).parent / "security"}


def builtin_tasks(name: str) -> list[Task]:
    """The tasks of a shipped dataset; ValidationFailed (loc ``dataset``) for an unknown name."""
    root = BUILTIN_DATASETS.get(name)
    if root is None:
        known = ", ".join(sorted(BUILTIN_DATASETS))
        raise ValidationFailed.for_field(("dataset",), f"unknown dataset {name!r}; known: {known}")
    return load_tasks(root)
