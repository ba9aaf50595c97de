"""Real bubblewrap sandboxes keep a task to itself: files, home, data dir, network, time, limits."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from assay.core.errors import ConfigurationError, SandboxError
from assay.sandbox import Sandbox, SandboxLimits, SandboxPolicy, get_provider, open_sandbox

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def policy(tmp_path: Path) -> SandboxPolicy:
    return SandboxPolicy(root_dir=tmp_path / "sandboxes")


@pytest.fixture
async def sandbox(policy: SandboxPolicy) -> AsyncIterator[Sandbox]:
    async with open_sandbox(get_provider("bwrap", policy), SandboxLimits()) as box:
        yield box


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


async def test_a_task_cannot_read_another_tasks_files(policy: SandboxPolicy):
    provider = get_provider("bwrap", policy)
    async with (
        open_sandbox(provider, SandboxLimits()) as first,
        open_sandbox(provider, SandboxLimits()) as second,
    ):
        await first.write_file("secret.txt", "first task's flag")
        [first_dir] = [
            d for d in (policy.root_dir or Path()).iterdir() if (d / "secret.txt").exists()
        ]
        seen_by_second = await second.exec(
            ["sh", "-c", f"cat {first_dir}/secret.txt; cat /work/secret.txt"], timeout=10
        )
        seen_by_first = await first.exec(["cat", "/work/secret.txt"], timeout=10)
    assert seen_by_first.stdout == "first task's flag"
    assert "first task's flag" not in seen_by_second.stdout
    assert seen_by_second.stderr.count("No such file") == 2


async def test_a_task_cannot_read_the_host_home_or_the_data_dir(sandbox: Sandbox, tmp_path: Path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "secret.key").write_text("server fernet key")
    with tempfile.NamedTemporaryFile("w", dir=Path.home(), suffix=".marker") as home_file:
        home_file.write("the host user's file")
        home_file.flush()
        result = await sandbox.exec(
            ["sh", "-c", f"cat {home_file.name}; cat {data_dir}/secret.key; ls {Path.home()}"],
            timeout=10,
        )
        assert Path(home_file.name).exists()
    assert "the host user's file" not in result.stdout
    assert "server fernet key" not in result.stdout
    assert "No such file" in result.stderr


@pytest.fixture
def host_listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP listener on the host's 127.0.0.1 that records whoever connects."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(conn.recv(100))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


async def test_a_task_cannot_reach_a_listener_on_the_host_loopback(
    sandbox: Sandbox, host_listener: tuple[int, list[bytes]]
):
    port, accepted = host_listener
    probe = (
        "import socket\n"
        f"s = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "s.sendall(b'escaped')\nprint('connected')\n"
    )
    result = await sandbox.exec(["python3", "-c", probe], timeout=10)
    # The same probe from the host reaches it, so the listener really was there.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"from host")
    await writer.drain()
    writer.close()
    await asyncio.sleep(0.5)
    assert "connected" not in result.stdout
    assert "ConnectionRefusedError" in result.stderr or "unreachable" in result.stderr
    assert accepted == [b"from host"]


async def test_no_process_outlives_the_timeout(sandbox: Sandbox):
    token = f"assay-survivor-{uuid.uuid4().hex}"
    sleeper = f"import time; time.sleep(300)  # {token}"
    script = (
        f"python3 -c '{sleeper}' & setsid python3 -c '{sleeper}' & "
        f"(python3 -c '{sleeper}' &) ; sleep 300"
    )
    started = asyncio.get_running_loop().time()
    result = await sandbox.exec(["sh", "-c", script], timeout=1.0)
    elapsed = asyncio.get_running_loop().time() - started
    assert result.timed_out
    assert elapsed < 10
    for _ in range(100):
        if not _processes_with(token):
            break
        await asyncio.sleep(0.02)
    assert _processes_with(token) == []


async def test_background_processes_die_when_the_command_ends(sandbox: Sandbox):
    token = f"assay-daemon-{uuid.uuid4().hex}"
    result = await sandbox.exec(
        ["sh", "-c", f"setsid python3 -c 'import time; time.sleep(300)  # {token}' & echo ok"],
        timeout=10,
    )
    assert result.stdout.strip() == "ok"
    for _ in range(100):
        if not _processes_with(token):
            break
        await asyncio.sleep(0.02)
    assert _processes_with(token) == []


async def test_a_task_cannot_exceed_its_memory_limit(policy: SandboxPolicy):
    limits = SandboxLimits(memory_bytes=64 * 1024 * 1024)
    hog = "b = bytearray(256 * 1024 * 1024)\nb[::4096] = b'x' * len(b[::4096])\nprint('allocated')"
    async with open_sandbox(get_provider("bwrap", policy), limits) as box:
        result = await box.exec(["python3", "-c", hog], timeout=20)
        small = await box.exec(
            ["python3", "-c", "b = bytearray(8 * 1024 * 1024); print('ok')"], timeout=20
        )
    assert "allocated" not in result.stdout
    assert result.exit_code != 0
    assert small.stdout.strip() == "ok"


async def test_a_task_cannot_exceed_its_process_limit(policy: SandboxPolicy):
    limits = SandboxLimits(pids=16)
    forker = (
        "import os, time\nn = 0\n"
        "for _ in range(64):\n"
        "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
        "    if pid == 0:\n        time.sleep(5)\n        os._exit(0)\n"
        "    n += 1\nprint(n)\n"
    )
    async with open_sandbox(get_provider("bwrap", policy), limits) as box:
        result = await box.exec(["python3", "-c", forker], timeout=20)
    assert result.exit_code == 0, result.stderr
    assert int(result.stdout) < 16


async def test_files_are_kept_between_commands_and_paths_cannot_leave_the_work_dir(
    sandbox: Sandbox,
):
    await sandbox.exec(["sh", "-c", "echo one > a.txt"], timeout=10)
    assert await sandbox.read_file("a.txt") == b"one\n"
    await sandbox.exec(["ln", "-s", "/etc/hostname", "link"], timeout=10)
    with pytest.raises(SandboxError, match="path"):
        await sandbox.read_file("../../etc/passwd")
    with pytest.raises(SandboxError, match="leaves the work directory"):
        await sandbox.read_file("link")


async def test_cleanup_removes_the_work_directory(policy: SandboxPolicy):
    async with open_sandbox(get_provider("bwrap", policy), SandboxLimits()) as box:
        await box.write_file("f", "x")
        [work] = list((policy.root_dir or Path()).iterdir())
    assert not work.exists()
    with pytest.raises(SandboxError, match="cleaned up"):
        await box.exec(["true"], timeout=5)


async def test_the_environment_of_the_server_does_not_leak_in(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-server-key")
    result = await sandbox.exec(["env"], timeout=10, env={"TASK_TOKEN": "given"})
    assert "sk-server-key" not in result.stdout
    assert "TASK_TOKEN=given" in result.stdout
    assert os.environ["OPENAI_API_KEY"] == "sk-server-key"


def test_local_is_refused_unless_enabled(tmp_path: Path):
    with pytest.raises(ConfigurationError, match="ASSAY_SANDBOX_LOCAL_ENABLED"):
        get_provider("local", SandboxPolicy())
    assert (
        get_provider("local", SandboxPolicy(local_enabled=True, root_dir=tmp_path)).name == "local"
    )


async def test_network_needs_the_operator(policy: SandboxPolicy):
    with pytest.raises(SandboxError, match="network"):
        await get_provider("bwrap", policy).create(SandboxLimits(network=True))
