"""Running one sandboxed command: bounded output, a timeout that kills the whole tree.

The command starts in a new session (its own process group). At the timeout, or when the
caller is cancelled, the group is killed and, when the sandbox has a control group, every
process left in it, so a double fork or a ``setsid`` does not escape. Output beyond
``MAX_OUTPUT_BYTES`` per stream is read and thrown away, so a chatty command cannot fill the
server's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import time
from collections.abc import Mapping, Sequence

from assay.core.errors import SandboxError
from assay.sandbox.base import MAX_OUTPUT_BYTES, ExecResult, SandboxLimits
from assay.sandbox.cgroups import Cgroup

_TRUNCATED = "\n[output truncated]"


def joining(cgroup: Cgroup | None, argv: Sequence[str]) -> list[str]:
    """``argv`` preceded by a shell that moves itself into ``cgroup`` and then execs it."""
    if cgroup is None:
        return list(argv)
    writes = " && ".join(f"echo $$ > {shlex.quote(str(p))}" for p in cgroup.procs_files)
    return ["/bin/sh", "-c", f'{writes} && exec "$@"', "assay-join", *argv]


def rlimited(prlimit: str | None, limits: SandboxLimits, with_memory: bool) -> list[str]:
    """A ``prlimit`` prefix for the limits a control group does not give (or cannot)."""
    if prlimit is None:
        return []
    options = []
    if limits.file_bytes is not None:
        options.append(f"--fsize={limits.file_bytes}")
    if with_memory and limits.memory_bytes is not None:
        options.append(f"--as={limits.memory_bytes}")
    if limits.pids is not None:
        options.append(f"--nproc={limits.pids}")
    return [prlimit, *options, "--"] if options else []


async def run_bounded(
    argv: Sequence[str],
    *,
    timeout: float,
    stdin: str | None,
    env: Mapping[str, str],
    cwd: str | None,
    cgroup: Cgroup | None,
) -> ExecResult:
    """Run ``argv``; past ``timeout`` its process tree is killed and ``timed_out`` is set."""
    started = time.monotonic()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as exc:
        raise SandboxError(f"the sandbox could not start a command: {exc}") from exc
    assert process.stdout is not None and process.stderr is not None
    timed_out = False
    try:
        async with asyncio.timeout(timeout):
            out, err, _, code = await asyncio.gather(
                _read_capped(process.stdout),
                _read_capped(process.stderr),
                _feed(process, stdin),
                process.wait(),
            )
    except TimeoutError:
        timed_out = True
        out, err, code = "", "", -signal.SIGKILL
    finally:
        await asyncio.shield(_kill_tree(process, cgroup))
    return ExecResult(
        exit_code=code,
        stdout=out,
        stderr=err if not timed_out else f"timed out after {timeout:g} s",
        timed_out=timed_out,
        duration_s=time.monotonic() - started,
    )


async def _feed(process: asyncio.subprocess.Process, stdin: str | None) -> None:
    if stdin is None or process.stdin is None:
        return
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        process.stdin.write(stdin.encode())
        await process.stdin.drain()
    process.stdin.close()


async def _read_capped(stream: asyncio.StreamReader) -> str:
    kept = bytearray()
    cut = False
    while chunk := await stream.read(65536):
        room = MAX_OUTPUT_BYTES - len(kept)
        if len(chunk) > room:
            cut = True
        kept += chunk[: max(room, 0)]
    text = kept.decode(errors="replace")
    return text + _TRUNCATED if cut else text


async def _kill_tree(process: asyncio.subprocess.Process, cgroup: Cgroup | None) -> None:
    """Kill the command's group and every process in its control group; reap the command."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if cgroup is not None:
        await asyncio.to_thread(cgroup.kill_all)
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
