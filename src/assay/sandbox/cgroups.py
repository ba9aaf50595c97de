"""Per-sandbox control groups: memory, process-count and CPU limits that hold for root too.

Works on cgroup v2 (one unified tree: ``memory.max``, ``pids.max``, ``cpu.max``) and on v1
(one tree per controller: ``memory.limit_in_bytes``, ``pids.max``, ``cpu.cfs_quota_us``), where
the tree is writable (root in a container, or a delegated subtree). Where it is not,
:func:`make_cgroup` returns None and the caller falls back to ``prlimit`` (whose process
limit the kernel does not enforce for root: say so in the docs).

A command joins the group before it runs (its ``cgroup.procs`` files are written by a tiny
shell wrapper, so no ``preexec_fn`` runs in a threaded parent); at the end every process left
in the group is killed, which reaches the whole tree however it forked.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from assay.sandbox.base import SandboxLimits, owned_name

_CFS_PERIOD_US = 100_000


@dataclass
class Cgroup:
    #: One directory per controller tree (one in v2).
    dirs: list[Path]

    @property
    def procs_files(self) -> list[Path]:
        return [d / "cgroup.procs" for d in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for procs in self.procs_files:
            with contextlib.suppress(OSError):
                found.update(int(p) for p in procs.read_text().split())
        return found

    def kill_all(self, wait_s: float = 2.0) -> bool:
        """SIGKILL every process in the group until it is empty; False if some survived."""
        deadline = time.monotonic() + wait_s
        while True:
            pids = self.pids()
            if not pids:
                return True
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)

    def remove(self) -> None:
        for directory in self.dirs:
            with contextlib.suppress(FileNotFoundError):
                directory.rmdir()


def cgroup_trees(root: Path) -> list[Path]:
    """The directories under ``root`` where :func:`make_cgroup` makes groups (v2: root)."""
    if (root / "cgroup.controllers").exists():
        return [root]
    return [root / c for c in ("memory", "pids", "cpu") if (root / c / "cgroup.procs").exists()]


def make_cgroup(root: Path | None, limits: SandboxLimits) -> Cgroup | None:
    """A fresh group with ``limits`` under ``root``; None when cgroups are not writable."""
    if root is None or not root.is_dir():
        return None
    name = f"{owned_name('assay')}{uuid.uuid4().hex[:12]}"
    try:
        if (root / "cgroup.controllers").exists():
            return _make_v2(root, name, limits)
        return _make_v1(root, name, limits)
    except OSError:
        return None


def _make_v2(root: Path, name: str, limits: SandboxLimits) -> Cgroup | None:
    controllers = set((root / "cgroup.subtree_control").read_text().split())
    if not {"memory", "pids"} <= controllers:
        return None
    directory = root / name
    directory.mkdir()
    group = Cgroup([directory])
    try:
        if limits.memory_bytes is not None:
            (directory / "memory.max").write_text(str(limits.memory_bytes))
            with contextlib.suppress(OSError):
                (directory / "memory.swap.max").write_text("0")
        if limits.pids is not None:
            (directory / "pids.max").write_text(str(limits.pids))
        if limits.cpus is not None and "cpu" in controllers:
            quota = max(1000, int(limits.cpus * _CFS_PERIOD_US))
            (directory / "cpu.max").write_text(f"{quota} {_CFS_PERIOD_US}")
    except OSError:
        group.remove()
        raise
    return group


def _make_v1(root: Path, name: str, limits: SandboxLimits) -> Cgroup | None:
    wanted = {"memory": limits.memory_bytes is not None, "pids": limits.pids is not None}
    wanted["cpu"] = limits.cpus is not None
    trees = {c: root / c for c, on in wanted.items() if on}
    if not all((tree / "cgroup.procs").exists() for c, tree in trees.items() if c != "cpu"):
        return None
    group = Cgroup([])
    try:
        for controller, tree in trees.items():
            if controller == "cpu" and not (tree / "cpu.cfs_quota_us").exists():
                continue
            directory = tree / name
            directory.mkdir()
            group.dirs.append(directory)
            _limit_v1(controller, directory, limits)
    except OSError:
        group.remove()
        raise
    return group


def _limit_v1(controller: str, directory: Path, limits: SandboxLimits) -> None:
    if controller == "memory" and limits.memory_bytes is not None:
        (directory / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
        with contextlib.suppress(OSError):
            (directory / "memory.memsw.limit_in_bytes").write_text(str(limits.memory_bytes))
    elif controller == "pids" and limits.pids is not None:
        (directory / "pids.max").write_text(str(limits.pids))
    elif controller == "cpu" and limits.cpus is not None:
        (directory / "cpu.cfs_period_us").write_text(str(_CFS_PERIOD_US))
        quota = max(1000, int(limits.cpus * _CFS_PERIOD_US))
        (directory / "cpu.cfs_quota_us").write_text(str(quota))
