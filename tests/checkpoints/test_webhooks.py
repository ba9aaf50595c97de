"""A run's webhook gets ``verification_requested`` when it waits and the seed's
``checkpoints_completed`` when it ends, each signed like every Assay webhook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.services.container import open_container
from assay.services.webhooks import org_webhook_secret
from assay.webhooks.signing import SIGNATURE_HEADER, verify
from tests.checkpoints.people import REVIEWER, user_key
from tests.checkpoints.test_task_runs import COMMISSION, until_status
from tests.factories import make_settings, serve_assay, wait_until
from tests.fakes.webhook_receiver import serve_webhook_receiver

pytestmark = pytest.mark.timeout(60)


async def test_waiting_and_completion_are_announced_signed(tmp_path: Path):
    settings = make_settings(tmp_path, webhook_backoff_seconds=0.1)
    with serve_webhook_receiver() as receiver, serve_assay(settings) as server:
        reviewer = await user_key(settings, REVIEWER)
        task = COMMISSION | {"webhookUrl": receiver.url, "externalId": "your-tracking-id-123"}
        async with server.client(reviewer) as client:
            execution_id = (await client.post("/api/eval/create-task-agent", json=task)).json()[
                "executionId"
            ]
            await until_status(client, execution_id, "waiting_verification")

            async def delivered(n: int) -> bool:
                return len(receiver.received) >= n

            await wait_until(lambda: delivered(1), timeout=20)
            await client.post(
                f"/api/eval/verify/{execution_id}",
                json={"checkpointNumber": 1, "action": "approved"},
            )
            await wait_until(lambda: delivered(2), timeout=20)

        container = await open_container(settings)
        try:
            secret = await org_webhook_secret(container, "default")
        finally:
            await container.aclose()

    requested, completed = (json.loads(r.body) for r in receiver.received)
    for received in receiver.received:
        assert verify(received.body, secret, received.headers[SIGNATURE_HEADER.lower()])
    assert requested["event"] == "verification_requested"
    assert requested["executionId"] == execution_id
    assert requested["question"] == "Is the result $7,500?"
    assert requested["reviewer"] == REVIEWER and requested["chatUrl"].endswith(execution_id)
    assert requested["checkpoint"]["checkpointNumber"] == 1
    assert completed["event"] == "checkpoints_completed"
    assert completed["executionId"] == execution_id
    assert completed["externalId"] == "your-tracking-id-123"
    assert completed["testMode"] == "with-verification"
    assert completed["finalStatus"] == "completed"
    assert completed["metrics"]["tapsUsed"] == 1
    assert completed["metrics"]["durationSeconds"] >= 0


async def test_a_cancelled_run_sends_checkpoints_completed_with_the_seeds_status(tmp_path: Path):
    settings = make_settings(tmp_path, webhook_backoff_seconds=0.1)
    with serve_webhook_receiver() as receiver, serve_assay(settings) as server:
        reviewer = await user_key(settings, REVIEWER)
        second = {"stage": "report", "description": "Email it", "verificationQuestion": "Sent?"}
        task = COMMISSION | {
            "checkpoints": [*COMMISSION["checkpoints"], second],
            "taskDescription": "Calculate 15% commission on a $50,000 sale and email it",
            "webhookUrl": receiver.url,
            "externalId": "cancel-me",
        }
        async with server.client(reviewer) as client:
            created = await client.post("/api/eval/create-task-agent", json=task)
            execution_id = created.json()["executionId"]
            await until_status(client, execution_id, "waiting_verification")
            await client.post(
                f"/api/eval/verify/{execution_id}",
                json={"checkpointNumber": 1, "action": "approved"},
            )

            async def second_asked() -> bool:
                shown = await until_status(client, execution_id, "waiting_verification")
                return bool(shown["checkpoints"]["completed"] == 1)

            await wait_until(second_asked, timeout=20)
            cancelled = await client.post(f"/v1/evaluations/{execution_id}/cancel")
            assert cancelled.status_code == 200, cancelled.text

            async def announced_end() -> bool:
                events = [json.loads(r.body)["event"] for r in receiver.received]
                return "checkpoints_completed" in events

            await wait_until(announced_end, timeout=20)
            shown = await until_status(client, execution_id, "failed")
        events = [json.loads(r.body) for r in receiver.received]
    # The generic evaluation.cancelled is not sent to the seed's hook: only its own event.
    assert [e["event"] for e in events] == [
        "verification_requested",
        "verification_requested",
        "checkpoints_completed",
    ]
    completed = events[2]
    assert completed["executionId"] == execution_id
    assert completed["externalId"] == "cancel-me"
    assert completed["finalStatus"] == "failed"
    assert completed["cancelled"] is True
    assert completed["metrics"]["tapsUsed"] == 1, "the approval before the cancel counts"
    assert completed["metrics"]["durationSeconds"] > 0
    assert shown["isFailed"] is True and shown["isComplete"] is False
