"""Converting Harbor task folders into Assay's task format (``assay tasks import``).

A Harbor task is a folder with ``instruction.md``, ``task.toml`` (``[metadata]`` difficulty,
category, tags; ``[verifier]`` and ``[agent]`` ``timeout_sec``; ``[environment]`` resources),
``environment/`` (a Dockerfile and its build context), ``solution/solve.sh`` and
``tests/test.sh``, which writes a reward to ``/logs/verifier/reward.txt``. Assay runs tasks
in a sandbox over the host's ``/usr`` without building images, so the converter:

- carries the files the Dockerfile copies into its ``WORKDIR`` (``COPY``/``ADD`` of the
  build context) into ``environment/``, at their place under the work directory; with no
  Dockerfile, the whole build context; ``RUN`` steps and the base image are listed in the
  notes, not run (the host must have what they install);
- rewrites absolute paths in the instruction, the solution and the tests: the ``WORKDIR``
  (``/app`` unless the Dockerfile says otherwise) and ``/logs/verifier`` become the work
  directory (relative paths: Assay runs every script in it), ``/tests`` becomes the folder
  where Assay puts the verifier's files;
- runs a script whose first line asks for bash through bash (Assay runs scripts with sh);
- keeps category (as the capability), difficulty and the two timeouts; everything it drops
  or cannot carry (binary or oversized files, resources, ``reward.json``, files of
  ``solution/`` beside ``solve.sh``) is written to ``import-notes.txt`` in the task folder
  and returned, so the user knows what to check (``assay tasks check`` then runs each task
  with its solution and with an agent doing nothing).
"""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from assay.core.errors import ValidationFailed
from assay.tasks.format import MAX_FILE_BYTES, Difficulty, load_task
from assay.tasks.runner import TESTS_DIR

NOTES_FILE = "import-notes.txt"
DEFAULT_WORKDIR = "/app"
_NOT_CONTEXT = {"Dockerfile", "docker-compose.yaml", "docker-compose.yml", ".dockerignore"}
_BASH = re.compile(r"^#!.*\bbash\b")
_NETWORK = re.compile(r"\b(apt-get|apt|apk|pip3?|uv|curl|wget|npm)\s+(install|add|-)", re.I)
_HEREDOC = "ASSAY_HARBOR_SCRIPT"


@dataclass
class Imported:
    """One Harbor task's conversion: where it went, or why it could not be converted."""

    source: str
    name: str
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def task_name(folder: Path) -> str:
    """The folder's name as an Assay task name (lower case, ``[a-z0-9._-]``)."""
    name = re.sub(r"[^a-z0-9._-]+", "-", folder.name.lower()).strip("-._")
    return name[:100] or "task"


def _paths(workdir: str) -> list[tuple[re.Pattern[str], str]]:
    """Absolute Harbor paths -> paths relative to Assay's work directory."""
    rewrites = []
    for absolute, relative in ((workdir, ""), ("/logs/verifier", ""), ("/tests", TESTS_DIR)):
        root = re.escape(absolute.rstrip("/"))
        rewrites.append((re.compile(rf"(?<![\w./-]){root}/"), f"{relative}/" if relative else ""))
        rewrites.append((re.compile(rf"(?<![\w./-]){root}(?![\w./-])"), relative or "."))
    return rewrites


def rewrite_paths(text: str, workdir: str) -> str:
    for pattern, replacement in _paths(workdir):
        text = pattern.sub(replacement, text)
    return text


def as_sh(script: str) -> str:
    """A script Assay can run with ``sh``: a bash script is handed to bash unchanged."""
    if not _BASH.match(script):
        return script
    return f"exec bash -s <<'{_HEREDOC}'\n{script.rstrip()}\n{_HEREDOC}\n"


@dataclass
class _Dockerfile:
    workdir: str = DEFAULT_WORKDIR
    #: (build-context source, destination as written), in order.
    copies: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def parse_dockerfile(text: str) -> _Dockerfile:
    """The WORKDIR, the COPY/ADD steps from the build context, and what is not carried."""
    parsed = _Dockerfile()
    for keyword, rest in _instructions(text):
        if keyword == "WORKDIR":
            parsed.workdir = str(PurePosixPath(parsed.workdir) / rest.strip("\"'"))
        elif keyword in ("COPY", "ADD"):
            try:
                words = [w for w in shlex.split(rest) if not w.startswith("--")]
            except ValueError:
                words = []
            if len(words) < 2:
                parsed.notes.append(f"{keyword} {rest}: not understood, not carried")
                continue
            *sources, destination = words
            parsed.copies += [(source, destination) for source in sources]
        elif keyword == "FROM":
            parsed.notes.append(f"base image {rest}: the sandbox uses the host's /usr instead")
        elif keyword == "RUN":
            parsed.notes.append(f"not run (the host must provide it): RUN {rest[:200]}")
    return parsed


def _under_workdir(destination: str, workdir: str) -> PurePosixPath | None:
    """The destination relative to the work directory; None when it is outside it."""
    path = PurePosixPath(workdir) / destination
    try:
        return PurePosixPath(*[p for p in path.relative_to(workdir).parts if p != "."])
    except ValueError:
        return None


def _context_files(context: Path) -> dict[str, Path]:
    return {
        str(p.relative_to(context)): p
        for p in sorted(context.rglob("*"))
        if p.is_file() and not p.is_symlink() and p.name not in _NOT_CONTEXT
    }


def environment_files(
    context: Path, docker: _Dockerfile | None
) -> tuple[dict[str, Path], list[str]]:
    """Work-directory path -> build-context file, as the Dockerfile's copies place them."""
    files = _context_files(context) if context.is_dir() else {}
    if docker is None:
        return files, ["no Dockerfile: every file of environment/ goes into the work directory"]
    placed: dict[str, Path] = {}
    notes: list[str] = []
    for source, destination in docker.copies:
        target = _under_workdir(destination, docker.workdir)
        if target is None:
            notes.append(f"COPY {source} {destination}: outside {docker.workdir}, not carried")
            continue
        source_path = PurePosixPath(source.rstrip("/") or ".")
        matched = False
        for name, path in files.items():
            relative = PurePosixPath(name)
            if source_path == PurePosixPath("."):
                placed[str(target / relative)] = path
            elif relative == source_path:
                into_dir = destination.endswith("/") or not target.parts
                placed[str(target / relative.name) if into_dir else str(target)] = path
            elif source_path in relative.parents:
                placed[str(target / relative.relative_to(source_path))] = path
            else:
                continue
            matched = True
        if not matched:
            notes.append(f"COPY {source} {destination}: no such file in environment/")
    return placed, notes


def _read_text(path: Path, label: str, notes: list[str]) -> str | None:
    if path.stat().st_size > MAX_FILE_BYTES:
        notes.append(f"{label}: over {MAX_FILE_BYTES} bytes, not carried")
        return None
    try:
        return path.read_text()
    except UnicodeDecodeError:
        notes.append(f"{label}: not UTF-8 text, not carried")
        return None


def _task_toml(meta: dict[str, object], notes: list[str]) -> str:
    metadata = meta.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    capability = str(metadata.get("category") or "general")[:64]
    difficulty = str(metadata.get("difficulty") or "medium").lower()
    if difficulty not in {d.value for d in Difficulty}:
        notes.append(f"difficulty {difficulty!r} is not easy, medium or hard: medium")
        difficulty = "medium"
    if metadata.get("tags"):
        notes.append(f"tags {metadata['tags']}: Assay has no tags, not carried")
    lines = [
        "# Converted from a Harbor task by `assay tasks import`.",
        "[metadata]",
        f"capability = {_toml_string(capability)}",
        f'difficulty = "{difficulty}"',
        "[verifier]",
        'type = "test"',
    ]
    verifier, agent = meta.get("verifier"), meta.get("agent")
    if isinstance(verifier, dict) and isinstance(verifier.get("timeout_sec"), int | float):
        lines.append(f"timeout_sec = {float(verifier['timeout_sec'])}")
    if isinstance(agent, dict) and isinstance(agent.get("timeout_sec"), int | float):
        lines += ["[agent]", f"timeout_sec = {float(agent['timeout_sec'])}"]
    environment = meta.get("environment")
    if isinstance(environment, dict) and environment:
        settings = ", ".join(f"{k} = {v}" for k, v in environment.items())
        notes.append(f"[environment] {settings}: use an evaluation's runtime instead")
    return "\n".join(lines) + "\n"


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _script(path: Path, label: str, workdir: str, notes: list[str]) -> str | None:
    text = _read_text(path, label, notes)
    if text is None:
        return None
    if _NETWORK.search(text):
        notes.append(f"{label} installs software (the sandbox has no network): check it runs")
    if "reward.json" in text:
        notes.append(f"{label} mentions reward.json: Assay reads only reward.txt")
    return as_sh(rewrite_paths(text, workdir))


def _tests(source: Path, workdir: str, notes: list[str]) -> dict[str, str]:
    files = {}
    for path in sorted((source / "tests").rglob("*")):
        if path.is_file() and not path.is_symlink():
            relative = str(path.relative_to(source))
            if path.suffix in (".sh", ".bash"):
                script = _script(path, relative, workdir, notes)
            else:
                text = _read_text(path, relative, notes)
                script = None if text is None else rewrite_paths(text, workdir)
            if script is not None:
                files[relative] = script
    return files


def _solution(source: Path, workdir: str, notes: list[str]) -> dict[str, str]:
    solution = source / "solution"
    if not (solution / "solve.sh").is_file():
        notes.append("no solution/solve.sh: the oracle cannot run this task")
        return {}
    others = [str(p.relative_to(solution)) for p in solution.rglob("*") if p.is_file()]
    extra = sorted(set(others) - {"solve.sh"})
    if extra:
        notes.append(f"solution/ files beside solve.sh are not carried: {', '.join(extra)}")
    script = _script(solution / "solve.sh", "solution/solve.sh", workdir, notes)
    return {} if script is None else {"solution/solve.sh": script}


def _write(folder: Path, files: dict[str, str]) -> None:
    for relative, content in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def convert_task(source: Path, into: Path) -> Imported:
    """Write the Assay task for the Harbor task folder ``source`` under ``into``."""
    name = task_name(source)
    result = Imported(source=str(source), name=name)
    target = into / name
    if target.exists():
        result.error = f"{target} exists already"
        return result
    try:
        meta = tomllib.loads((source / "task.toml").read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        result.error = f"task.toml: {exc}"
        return result
    if not (source / "instruction.md").is_file() or not (source / "tests" / "test.sh").is_file():
        result.error = "a Harbor task needs instruction.md and tests/test.sh"
        return result
    notes = result.notes
    dockerfile = source / "environment" / "Dockerfile"
    docker = parse_dockerfile(dockerfile.read_text()) if dockerfile.is_file() else None
    workdir = docker.workdir if docker is not None else DEFAULT_WORKDIR
    files: dict[str, str] = {"task.toml": _task_toml(meta, notes)}
    instruction = _read_text(source / "instruction.md", "instruction.md", notes)
    files["instruction.md"] = rewrite_paths(instruction or "", workdir)
    placed, placing = environment_files(source / "environment", docker)
    notes += (docker.notes if docker is not None else []) + placing
    for relative, path in placed.items():
        content = _read_text(path, f"environment/{relative}", notes)
        if content is not None:
            files[f"environment/{relative}"] = content
    files |= _tests(source, workdir, notes) | _solution(source, workdir, notes)
    files[NOTES_FILE] = "".join(f"- {note}\n" for note in notes) or "- nothing to check\n"
    _write(target, files)
    try:
        load_task(target)
    except ValidationFailed as exc:
        result.error = f"the converted task does not load: {exc.message}"
    return result


def harbor_task_folders(root: Path) -> list[Path]:
    """``root`` itself when it is a task (it has task.toml), else its task subfolders."""
    if (root / "task.toml").is_file():
        return [root]
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "task.toml").is_file())


def import_tasks(root: Path, into: Path) -> list[Imported]:
    """Convert every Harbor task folder of ``root`` into an Assay task folder under ``into``.

    Raises:
        ValidationFailed: ``root`` holds no Harbor task (loc ``folder``).
    """
    folders = harbor_task_folders(root)
    if not folders:
        raise ValidationFailed.for_field(("folder",), f"no task.toml in {root} or its folders")
    into.mkdir(parents=True, exist_ok=True)
    return [convert_task(folder, into) for folder in folders]
