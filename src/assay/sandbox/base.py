"""The Sandbox interface: an isolated place where an agent's commands and a task's checks run.

Contract for providers (a provider is a plugin: ``assay.sandboxes`` entry point group, name =
provider name, value = ``pkg.module:factory`` where ``factory(policy) -> SandboxProvider``):

- ``SandboxProvider.create(limits)`` makes a fresh, empty sandbox with a private writable work
  directory and returns it; it raises :class:`~assay.core.errors.SandboxError` when the
  sandbox cannot be made (the item is then ``infra_error``, never scored).
- ``Sandbox.exec(argv, timeout=...)`` runs one command inside the sandbox, in its work
  directory, and returns an :class:`ExecResult`. A command that exits non-zero is a result,
  not an error. Past ``timeout`` seconds the *whole process tree* the command started is
  killed (double forks and ``setsid`` included) and the result has ``timed_out=True``.
  Files written by one ``exec`` are seen by the next: the work directory lives as long as the
  sandbox. It raises ``SandboxError`` only when the sandbox itself is broken.
- ``read_file`` / ``write_file`` take paths relative to the work directory (absolute paths
  and ``..`` that leave it are refused with ``SandboxError``) and never follow a symlink out
  of it.
- ``cleanup(keep_files=False)`` kills whatever is still running and removes the work
  directory unless ``keep_files``; it is idempotent and raises ``SandboxError`` when it could
  not finish (counted by the engine as a cleanup failure). Callers normally use
  :func:`open_sandbox`, an async context manager that guarantees it.

Sandboxes are not shared: one per task run. Providers must be safe to use from many asyncio
tasks at once (one sandbox per task).
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from assay.core.errors import SandboxError

#: Output kept of each stream of one command; the rest is cut (and said so).
MAX_OUTPUT_BYTES = 64 * 1024


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandbox may use. ``None`` means no limit of that kind."""

    memory_bytes: int | None = 512 * 1024 * 1024
    #: Processes (and threads) alive at once inside the sandbox.
    pids: int | None = 128
    #: CPU cores' worth of time per wall second (0.5 = half a core).
    cpus: float | None = 1.0
    #: Largest file a command may write, in bytes.
    file_bytes: int | None = 64 * 1024 * 1024
    #: Whether the sandbox may reach the network (off: only its own empty loopback).
    network: bool = False


@dataclass(frozen=True)
class SandboxPolicy:
    """What the operator allows, built from settings by the caller (services, the CLI)."""

    #: Allow the unsafe ``local`` provider (a plain subprocess; development only).
    local_enabled: bool = False
    #: Allow runtimes with ``network`` on.
    network_enabled: bool = False
    #: Where work directories are made; None: the system temp directory.
    root_dir: Path | None = None
    #: The cgroup filesystem to make per-sandbox groups in; None disables cgroups.
    cgroup_root: Path | None = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    stdout: str
    stderr: str
    #: The command ran past its timeout and its process tree was killed.
    timed_out: bool = False
    duration_s: float = 0.0


class Sandbox(abc.ABC):
    """One isolated work directory and the commands run in it; see the module docstring."""

    #: The work directory as commands inside the sandbox see it.
    workdir: str

    @abc.abstractmethod
    async def exec(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        stdin: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ExecResult:
        """Run ``argv`` in the work directory; the process tree dies at ``timeout`` seconds."""

    @abc.abstractmethod
    async def read_file(self, path: str) -> bytes:
        """The content of ``path`` (relative to the work directory)."""

    @abc.abstractmethod
    async def write_file(self, path: str, content: bytes | str) -> None:
        """Write ``path`` (relative to the work directory), making parent directories."""

    @abc.abstractmethod
    async def cleanup(self, keep_files: bool = False) -> None:
        """Kill what still runs and remove the work directory unless ``keep_files``."""


class SandboxProvider(abc.ABC):
    """Makes sandboxes of one kind (``bwrap``, ``local``, a plugin's docker or k8s)."""

    name: str

    @abc.abstractmethod
    async def create(self, limits: SandboxLimits) -> Sandbox:
        """A fresh sandbox; raises SandboxError when it cannot be made."""


@asynccontextmanager
async def open_sandbox(
    provider: SandboxProvider,
    limits: SandboxLimits,
    keep_files: bool = False,
) -> AsyncIterator[Sandbox]:
    """A sandbox that is cleaned up however the block ends (cancellation included).

    ``keep_files`` leaves the work directory on disk (cleanup policies ``never`` and
    ``on_success`` after a failure); running processes are killed in every case.
    """
    sandbox = await provider.create(limits)
    try:
        yield sandbox
    finally:
        await sandbox.cleanup(keep_files=keep_files)


def inside(root: Path, path: str) -> Path:
    """``path`` resolved under ``root``; refuses anything that would leave it."""
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts:
        raise SandboxError(f"path {path!r} must be relative to the work directory")
    resolved = (root / relative).resolve()
    if resolved != root.resolve() and root.resolve() not in resolved.parents:
        raise SandboxError(f"path {path!r} leaves the work directory")
    return resolved


async def read_inside(root: Path, path: str) -> bytes:
    """The bytes of ``path`` under a sandbox's host work directory ``root``."""
    return await asyncio.to_thread(inside(root, path).read_bytes)


async def write_inside(root: Path, path: str, content: bytes | str) -> None:
    """Write ``path`` under ``root`` (parents made), off the event loop."""
    target = inside(root, path)
    data = content.encode() if isinstance(content, str) else content

    def write() -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    await asyncio.to_thread(write)
