"""`assay keys create --user` and `assay review` as real commands, beside a running server.

The reviewer lists what waits for them, reads the step and its evidence, rejects with a hint
and approves; the run (on the server) redoes the step and completes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.checkpoints.test_task_runs import COMMISSION, until_status
from tests.factories import assay_env, make_settings, serve_assay, wait_until

pytestmark = pytest.mark.timeout(240)  # nine CLI processes, each paying its start-up


def assay(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assay", *args], env=env, capture_output=True, text=True, timeout=60
    )


async def test_a_reviewer_works_through_the_queue_in_the_terminal(tmp_path: Path):
    settings = make_settings(tmp_path)
    env = assay_env(settings)
    with serve_assay(settings) as server:
        admin = await server.key()
        added = assay(
            env, "users", "add", "reviewer@example.com", "--org", "default", "--role", "member"
        )
        assert added.returncode == 0, added.stderr
        created = assay(env, "keys", "create", "--org", "default", "--user", "reviewer@example.com")
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip()
        nobody = assay(env, "keys", "create", "--org", "default", "--user", "ghost@example.com")
        assert nobody.returncode != 0 and "ghost@example.com" in nobody.stderr

        async with server.client(admin) as client:
            execution_id = (
                await client.post("/api/eval/create-task-agent", json=COMMISSION)
            ).json()["executionId"]
            await until_status(client, execution_id, "waiting_verification")

            listed = assay(env, "review", "list", "--key", key)
            assert listed.returncode == 0, listed.stderr
            assert f"{execution_id}  checkpoint 1" in listed.stdout
            assert "Is the result $7,500?" in listed.stdout

            shown = assay(env, "review", "show", execution_id, "--key", key)
            assert "tool calculator [done]" in shown.stdout and "7500" in shown.stdout

            rejected = assay(
                env,
                "review",
                "reject",
                execution_id,
                "--key",
                key,
                "--checkpoint",
                "1",
                "--hint",
                "Use 10% of $40,000",
            )
            assert rejected.returncode == 0, rejected.stderr

            async def asked_again() -> bool:
                details = (await until_status(client, execution_id, "waiting_verification"))[
                    "checkpoints"
                ]["details"]
                return len(details) == 2

            await wait_until(asked_again, timeout=20)
            again = assay(env, "review", "show", execution_id, "--key", key)
            assert "checkpoint 2" in again.stdout and "4000" in again.stdout
            stale = assay(env, "review", "approve", execution_id, "--key", key, "--checkpoint", "1")
            assert stale.returncode != 0 and "not waiting" in stale.stderr
            approved = assay(
                env, "review", "approve", execution_id, "--key", key, "--checkpoint", "2"
            )
            assert approved.returncode == 0, approved.stderr
            done = await until_status(client, execution_id, "completed")
    verdicts = [d["evalMetadata"]["verificationResponse"] for d in done["checkpoints"]["details"]]
    assert [v["verifiedBy"] for v in verdicts] == ["reviewer@example.com"] * 2
    empty = assay(env, "review", "list", "--key", key)
    assert "nothing waits for you" in empty.stdout
