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
- ``copy_into(other)`` kills what still runs in this sandbox and copies its work directory
  into ``other``'s (a fresh sandbox where a task's verifier runs apart from the agent). The
  default works for providers with a ``host_dir`` (the work directory on the server's
  disk); others override it or raise ``SandboxError``.

Sandboxes are not shared: one per task run. Providers must be safe to use from many asyncio
tasks at once (one sandbox per task).
"""

from __future__ import annotations

import abc
import asyncio
import os
import shutil
import stat
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from assay.core.errors import SandboxError

#: Output kept of each stream of one command; the rest is cut (and said so).
MAX_OUTPUT_BYTES = 64 * 1024
#: The most of an agent's work directory copied into a verifier's sandbox.
MAX_COPY_BYTES = 1024 * 1024 * 1024


def owned_name(prefix: str) -> str:
    """The start of a sandbox resource's name, saying which process owns it (``orphans.py``)."""
    return f"{prefix}-{os.getpid()}-"


class WorkTooLarge(SandboxError):
    """The work directory to copy is over ``MAX_COPY_BYTES``: the agent's doing, not ours."""


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
    #: The work directory on the server's disk, for providers that have one.
    host_dir: Path | None = None

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

    async def copy_into(self, other: Sandbox, leave_out: Collection[str] = ()) -> None:
        """Copy this sandbox's work directory into ``other``'s, once nothing runs here.

        Directories, regular files (executable or not: other mode bits, owners and times are
        dropped, so a file made read-only stays writable for the verifier) and symlinks (as
        links) are copied; devices, FIFOs and sockets are not, nor the top-level entries
        named in ``leave_out``.

        Raises:
            WorkTooLarge: the files are over ``MAX_COPY_BYTES``.
            SandboxError: either sandbox has no ``host_dir`` (override this), or the copy failed.
        """
        if self.host_dir is None or other.host_dir is None:
            raise SandboxError(f"{type(self).__name__} cannot copy its files into another sandbox")
        try:
            await asyncio.to_thread(copy_work_tree, self.host_dir, other.host_dir, leave_out)
        except OSError as exc:
            raise SandboxError(f"could not copy the work directory: {exc}") from exc


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


def copy_work_tree(
    source: Path, target: Path, leave_out: Collection[str] = (), max_bytes: int = MAX_COPY_BYTES
) -> None:
    """Copy the tree under ``source`` into the existing directory ``target`` (see copy_into)."""
    copied = 0
    for here, dirs, files in os.walk(source):
        into = target / Path(here).relative_to(source)
        if Path(here) == source:
            dirs[:] = [d for d in dirs if d not in leave_out]
            files = [f for f in files if f not in leave_out]
        for name in [*dirs, *files]:
            origin, copy = Path(here) / name, into / name
            mode = origin.lstat().st_mode
            if stat.S_ISLNK(mode):
                copy.symlink_to(os.readlink(origin))
            elif stat.S_ISDIR(mode):
                copy.mkdir(mode=0o755)
            elif stat.S_ISREG(mode):
                copied += origin.lstat().st_size
                if copied > max_bytes:
                    raise WorkTooLarge(f"the work directory is over {max_bytes} bytes")
                shutil.copyfile(origin, copy, follow_symlinks=False)
                copy.chmod(0o755 if mode & stat.S_IXUSR else 0o644)


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
