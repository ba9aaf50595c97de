"""A run waiting for its reviewer survives ``kill -9`` of a real ``assay serve``.

After the restart the reviewer verifies over HTTP and the run continues from that
checkpoint: the approved first stage is not carried out again (one ``step`` event for it in
all the item's history), and the second stage runs and waits in its turn.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.store.db import create_engine
from assay.store.repositories.events import item_events
from tests.checkpoints.people import REVIEWER, user_key
from tests.checkpoints.test_task_runs import until_status
from tests.engine.lifecycle import item_rows
from tests.factories import assay_env, assay_process, free_port, make_settings, wait_until

pytestmark = pytest.mark.timeout(120)

TWO_STAGES = {
    "taskName": "Research and calculate",
    "taskDescription": "Calculate 15% commission on a $50,000 sale",
    "checkpoints": [
        {"stage": "research", "description": "Research the rate", "verificationQuestion": "Ok?"},
        {"stage": "calculation", "description": "Calculate it", "verificationQuestion": "7,500?"},
    ],
    "testMode": "with-verification",
    "assignedReviewer": REVIEWER,
}


async def _up(url: str) -> None:
    async def healthy() -> bool:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{url}/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    await wait_until(healthy, timeout=30)


async def _steps(database_url: str, item_id: str) -> list[Any]:
    db = create_engine(database_url)
    try:
        async with db.connect() as conn:
            return [e for e in await item_events(conn, [item_id]) if e.kind == "step"]
    finally:
        await db.dispose()


async def test_a_waiting_run_continues_from_its_checkpoint_after_a_kill(
    tmp_path: Path, any_database_url: str
):
    settings = make_settings(tmp_path, database_url=any_database_url)
    key = await user_key(settings, REVIEWER)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = assay_env(settings)
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    headers = {"Authorization": f"Bearer {key}"}
    log = tmp_path / "server.log"

    with assay_process(args, env, log) as first:
        await _up(url)
        async with httpx.AsyncClient(base_url=url, headers=headers) as client:
            created = await client.post("/api/eval/create-task-agent", json=TWO_STAGES)
            assert created.status_code == 200, created.text
            execution_id = created.json()["executionId"]
            await until_status(client, execution_id, "waiting_verification")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

    with assay_process(args, env, log):
        await _up(url)
        async with httpx.AsyncClient(base_url=url, headers=headers) as client:
            waiting = await until_status(client, execution_id, "waiting_verification")
            assert waiting["checkpoints"]["details"][0]["status"] == "waiting"
            approved = await client.post(
                f"/api/eval/verify/{execution_id}",
                json={"checkpointNumber": 1, "action": "approved"},
            )
            assert approved.status_code == 200, approved.text

            async def second_asked() -> bool:
                details = (await until_status(client, execution_id, "waiting_verification"))[
                    "checkpoints"
                ]["details"]
                return details[1]["status"] == "waiting"

            await wait_until(second_asked, timeout=30)
            second = await client.post(
                f"/api/eval/verify/{execution_id}",
                json={"checkpointNumber": 2, "action": "approved"},
            )
            assert second.status_code == 200, second.text
            done = await until_status(client, execution_id, "completed")

    assert done["metrics"]["tapsUsed"] == 2
    [item] = await item_rows(settings, execution_id)
    steps = await _steps(any_database_url, item.id)
    assert [s.payload["step"] for s in steps] == ["research", "calculation"], (
        "each stage ran once: the approved one was not redone after the restart"
    )
