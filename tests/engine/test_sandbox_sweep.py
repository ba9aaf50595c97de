"""A server killed mid-task leaves its sandbox's work directory and control group; the next
start removes them, and nothing of a live process is ever swept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from assay.core.principal import Role
from assay.sandbox.base import SandboxLimits, SandboxPolicy
from assay.sandbox.cgroups import cgroup_trees, make_cgroup
from assay.sandbox.orphans import owner_is_gone, sweep_orphans
from tests.engine.processes import alive, engine_children
from tests.factories import assay_env, assay_process, free_port, make_key, make_settings, wait_until

pytestmark = pytest.mark.timeout(180)

ORG, WS = "default", "default"
CGROUP_ROOT = Path("/sys/fs/cgroup")
SLEEPY_TASK = {
    "name": "sleepy",
    "instruction": "Take your time.",
    "verifier": {"type": "flag", "flag": "ASSAY{never}"},
}


def _cgroups_of(pid: int) -> list[Path]:
    return [g for tree in cgroup_trees(CGROUP_ROOT) for g in tree.glob(f"assay-{pid}-*")]


def _cgroups_writable() -> bool:
    probe = make_cgroup(CGROUP_ROOT, SandboxLimits())
    if probe is not None:
        probe.remove()
    return probe is not None


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


async def _serve(url: str) -> None:
    async def up() -> bool:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{url}/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    await wait_until(up, timeout=60)


async def test_the_next_start_removes_what_a_killed_server_left(tmp_path: Path):
    root = tmp_path / "sandboxes"
    settings = make_settings(tmp_path)
    env = assay_env(settings, ASSAY_SANDBOX_ROOT=str(root), ASSAY_LEASE_SECONDS="2")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    log = tmp_path / "server.log"
    base = f"/api/v1/org/{ORG}/ws/{WS}"

    with assay_process(args, env, log) as first:
        await _serve(url)
        key = await make_key(settings, ORG, Role.ADMIN)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=url, headers=headers) as client:
            created = await client.post(
                f"{base}/evaluation",
                json={
                    "agent_type": "command",
                    "dataset": {"tasks": [SLEEPY_TASK]},
                    "task_config": {"agent_command": ["sleep", "60"]},
                    "task_timeout_sec": 90,
                },
            )
            assert created.status_code == 200, created.text
            evaluation_id = created.json()["id"]

            async def agent_running() -> bool:
                got = await client.get(f"{base}/evaluation/{evaluation_id}/items")
                return got.json()["items"][0]["state"] == "agent_running"

            await wait_until(agent_running, timeout=30)
        [left] = list(root.iterdir())
        [engine] = engine_children(first.pid)  # the engine process runs the items
        assert left.name.startswith(f"bwrap-{engine}-")
        groups = _cgroups_of(engine)
        assert bool(groups) == _cgroups_writable()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        async def engine_gone() -> bool:
            return not alive(engine)

        await wait_until(engine_gone, timeout=10)  # it dies with the server

    assert left.is_dir(), "a killed server cannot clean up"
    assert all(g.is_dir() for g in groups)

    with assay_process(args, env, log) as second:
        await _serve(url)

        async def swept() -> bool:
            return not left.exists() and not any(g.exists() for g in groups)

        await wait_until(swept, timeout=30)
        async with httpx.AsyncClient(base_url=url, headers=headers) as client:
            cancelled = await client.post(f"{base}/evaluation/{evaluation_id}/cancel")
            assert cancelled.status_code == 200, cancelled.text
        assert second.poll() is None


def test_a_live_owners_sandboxes_are_never_swept(tmp_path: Path):
    policy = SandboxPolicy(root_dir=tmp_path, cgroup_root=None)
    mine = tmp_path / f"bwrap-{os.getpid()}-abc"
    dead = tmp_path / f"bwrap-{_dead_pid()}-abc"
    unowned = tmp_path / "notes-1-abc"
    for path in (mine, dead, unowned):
        path.mkdir()
        (path / "file.txt").write_text("x")
    swept = sweep_orphans(policy)
    assert swept.work_dirs == 1
    assert mine.is_dir() and unowned.is_dir() and not dead.exists()


def test_a_reused_process_id_counts_as_gone():
    # PID 1 runs, but it started after the epoch: it cannot own something last changed then.
    assert owner_is_gone(1, 0.0)
    assert not owner_is_gone(1, float("inf"))
