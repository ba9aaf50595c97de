"""Sweeping what a killed process left of its sandboxes: work directories and control groups.

A server killed with SIGKILL (or a lost Celery worker) cannot clean up: the sandboxes'
processes die with it (``--die-with-parent``, the PID namespace), but their work directories
stay on disk and their control groups stay in the cgroup tree. Every sandbox therefore
carries its owner's process id in its names (``bwrap-<pid>-...`` under the work root,
``assay-<pid>-...`` in the cgroup tree), and :func:`sweep_orphans`, run by every engine
process on start and in housekeeping, removes those whose owner is gone. Sandboxes of live
processes, this one included, are never touched, so many servers and workers can share one
work root and one cgroup tree on a machine (one PID namespace: processes that share the work
root must see each other's ids).

A process id can be reused: an owner that started after the directory was last changed
cannot have made it, so it counts as gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from assay.sandbox.base import SandboxPolicy
from assay.sandbox.cgroups import Cgroup, cgroup_trees
from assay.sandbox.local import work_root

#: The prefixes of work directories per provider, and of control groups.
WORK_PREFIXES = ("bwrap", "local")
CGROUP_PREFIX = "assay"
_OWNED = re.compile(r"^(?P<prefix>[a-z]+)-(?P<pid>\d+)-")
#: Slack for the coarse clocks behind a process's start time (whole seconds, ticks).
_CLOCK_SLACK_S = 2.0


@dataclass(frozen=True)
class Swept:
    work_dirs: int = 0
    cgroups: int = 0


def _started_at(pid: int) -> float | None:
    """When ``pid`` started (epoch seconds), from /proc; None where /proc cannot say."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, IndexError, StopIteration, ValueError):
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def owner_is_gone(pid: int, changed_at: float) -> bool:
    """True when no process ``pid`` runs, or the one that does started after ``changed_at``."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    started = _started_at(pid)
    return started is not None and started > changed_at + _CLOCK_SLACK_S


def _orphaned(path: Path, prefixes: tuple[str, ...]) -> bool:
    match = _OWNED.match(path.name)
    if match is None or match["prefix"] not in prefixes:
        return False
    try:
        changed_at = path.lstat().st_mtime
    except FileNotFoundError:
        return False
    return owner_is_gone(int(match["pid"]), changed_at)


def _sweep_work_dirs(root: Path) -> int:
    removed = 0
    for path in root.iterdir():
        if path.is_dir() and not path.is_symlink() and _orphaned(path, WORK_PREFIXES):
            shutil.rmtree(path, ignore_errors=True)
            removed += not path.exists()
    return removed


def _sweep_cgroups(cgroup_root: Path) -> int:
    removed = 0
    for tree in cgroup_trees(cgroup_root):
        with contextlib.suppress(OSError):
            for path in tree.iterdir():
                if path.is_dir() and _orphaned(path, (CGROUP_PREFIX,)):
                    group = Cgroup([path])
                    group.kill_all(wait_s=1.0)
                    group.remove()
                    removed += not path.exists()
    return removed


def sweep_orphans(policy: SandboxPolicy) -> Swept:
    """Remove the work directories and control groups of sandboxes whose owner is gone.

    Blocking (file system walks): call it off the event loop. Errors on one entry leave it
    for the next sweep; they never raise.
    """
    try:
        work_dirs = _sweep_work_dirs(Path(work_root(policy)))
    except OSError:
        work_dirs = 0
    cgroups = _sweep_cgroups(policy.cgroup_root) if policy.cgroup_root is not None else 0
    return Swept(work_dirs=work_dirs, cgroups=cgroups)
