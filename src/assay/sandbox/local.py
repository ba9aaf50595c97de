"""The ``local`` provider: a plain subprocess in a temporary directory. UNSAFE.

It isolates nothing: the command runs as the server's user, sees the whole filesystem (the
server's data directory and keys included) and the network. It exists for development on
machines without namespaces, and is refused unless the operator turns it on
(``ASSAY_SANDBOX_LOCAL_ENABLED=true``). What it does give: a private work directory, a
cleared environment, ``prlimit`` limits (file size, address space, process count), and the
timeout kill of the command's process group.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from assay.core.errors import ConfigurationError, SandboxError
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
from assay.sandbox.processes import rlimited, run_bounded


def work_root(policy: SandboxPolicy) -> str:
    """Where sandboxes' host work directories are made (created on first use)."""
    root = policy.root_dir or Path(tempfile.gettempdir()) / "assay-sandboxes"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return str(root)


class LocalSandbox(Sandbox):
    def __init__(self, host_dir: Path, limits: SandboxLimits) -> None:
        self.workdir = str(host_dir)
        self.host_dir: Path = host_dir
        self._limits = limits
        self._prlimit = shutil.which("prlimit")
        self._closed = False

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
        base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": self.workdir, "LANG": "C.UTF-8"}
        limits = rlimited(self._prlimit, self._limits, with_memory=True)
        return await run_bounded(
            [*limits, *argv],
            timeout=timeout,
            stdin=stdin,
            env=base | dict(env or {}),
            cwd=self.workdir,
            cgroup=None,
        )

    async def read_file(self, path: str) -> bytes:
        return await read_inside(self.host_dir, path)

    async def write_file(self, path: str, content: bytes | str) -> None:
        await write_inside(self.host_dir, path, content)

    async def cleanup(self, keep_files: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        if not keep_files:
            await asyncio.to_thread(shutil.rmtree, self.host_dir, True)
            if self.host_dir.exists():
                raise SandboxError(f"sandbox cleanup left {self.host_dir} behind")


class LocalProvider(SandboxProvider):
    name = "local"

    def __init__(self, policy: SandboxPolicy) -> None:
        if not policy.local_enabled:
            raise ConfigurationError(
                "sandbox_provider: 'local' isolates nothing and is off; an operator may turn "
                "it on for development with ASSAY_SANDBOX_LOCAL_ENABLED=true"
            )
        self._policy = policy

    async def create(self, limits: SandboxLimits) -> Sandbox:
        try:
            host_dir = Path(
                tempfile.mkdtemp(prefix=owned_name("local"), dir=work_root(self._policy))
            )
        except OSError as exc:
            raise SandboxError(f"could not make a sandbox work directory: {exc}") from exc
        return LocalSandbox(host_dir, limits)
