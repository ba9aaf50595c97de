"""Checkpointed task runs through the seed-000 API over real HTTP, with the offline planner.

A reviewer whose key belongs to them approves or rejects each checkpoint; the run continues
from that checkpoint, redoes a rejected step with the hint, pauses before high-impact
actions, runs straight through without verification, and fails (not rejected) when nobody
answers before the deadline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.core.principal import Role
from tests.checkpoints.people import REVIEWER, user_key
from tests.factories import RunningAssay, make_settings, serve_assay, wait_until

pytestmark = pytest.mark.timeout(60)

COMMISSION = {
    "taskName": "Calculate Sales Commission",
    "taskDescription": "Calculate 15% commission on a $50,000 sale",
    "checkpoints": [
        {
            "stage": "calculation",
            "description": "Perform calculation",
            "verificationQuestion": "Is the result $7,500?",
        }
    ],
    "testMode": "with-verification",
    "assignedReviewer": REVIEWER,
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningAssay]:
    with serve_assay(make_settings(tmp_path, poll_interval=0.05)) as running:
        yield running


async def status(client: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/eval/status/{execution_id}")
    assert response.status_code == 200, response.text
    return dict(response.json()["execution"])


async def until_status(client: httpx.AsyncClient, execution_id: str, wanted: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def reached() -> bool:
        seen.update(await status(client, execution_id))
        return bool(seen["status"] == wanted)

    await wait_until(reached, timeout=20)
    return seen


async def test_a_manual_checkpoint_waits_for_the_reviewer_then_completes(server: RunningAssay):
    reviewer = await user_key(server.settings, REVIEWER)
    async with server.client(reviewer) as client:
        created = await client.post("/api/eval/create-task-agent", json=COMMISSION)
        assert created.status_code == 200, created.text
        body = created.json()
        assert body["success"] is True and body["checkpointCount"] == 1
        assert body["checkpointDetectionMethod"] == "manual"
        assert body["chatId"] == body["executionId"] and body["chatUrl"]
        execution_id = body["executionId"]

        waiting = await until_status(client, execution_id, "waiting_verification")
        [checkpoint] = waiting["checkpoints"]["details"]
        assert checkpoint["status"] == "waiting" and checkpoint["wasVerified"] is False
        assert checkpoint["evalMetadata"]["question"] == "Is the result $7,500?"
        assert waiting["isRunning"] and not waiting["isComplete"]

        verified = await client.post(
            f"/api/eval/verify/{execution_id}", json={"checkpointNumber": 1, "action": "approved"}
        )
        assert verified.status_code == 200, verified.text
        answered = verified.json()["execution"]["checkpoints"]["details"][0]
        assert answered["wasVerified"] and answered["status"] == "approved"
        assert answered["evalMetadata"]["verificationResponse"]["verifiedBy"] == REVIEWER

        done = await until_status(client, execution_id, "completed")
    assert done["isComplete"] and not done["isFailed"] and done["error"] is None
    assert done["metrics"]["tapsUsed"] == 1 and done["metrics"]["model"] == "mock/task-agent"
    assert done["progress"] == {
        "totalSteps": 1,
        "completedSteps": 1,
        "currentStepIndex": 1,
        "percentComplete": 100.0,
    }
    metadata = done["checkpoints"]["details"][0]["evalMetadata"]
    assert metadata["tapNumber"] == 1 and metadata["verificationDuration"] >= 0


async def test_a_rejected_step_is_redone_with_the_hint_and_asked_again(server: RunningAssay):
    reviewer = await user_key(server.settings, REVIEWER)
    async with server.client(reviewer) as client:
        execution_id = (await client.post("/api/eval/create-task-agent", json=COMMISSION)).json()[
            "executionId"
        ]
        await until_status(client, execution_id, "waiting_verification")
        no_hint = await client.post(
            f"/api/eval/verify/{execution_id}", json={"checkpointNumber": 1, "action": "rejected"}
        )
        assert no_hint.status_code == 400 and no_hint.json()["field"] == "hint"
        rejected = await client.post(
            f"/api/eval/verify/{execution_id}",
            json={"checkpointNumber": 1, "action": "rejected", "hint": "Use 10% of $40,000"},
        )
        assert rejected.status_code == 200, rejected.text

        async def asked_again() -> bool:
            details = (await status(client, execution_id))["checkpoints"]["details"]
            return len(details) == 2 and details[1]["status"] == "waiting"

        await wait_until(asked_again, timeout=20)
        again = await status(client, execution_id)
        first, second = again["checkpoints"]["details"]
        assert first["status"] == "rejected"
        assert first["evalMetadata"]["verificationResponse"]["hint"] == "Use 10% of $40,000"
        stale = await client.post(
            f"/api/eval/verify/{execution_id}", json={"checkpointNumber": 1, "action": "approved"}
        )
        assert stale.status_code == 409 and "rejected" in stale.json()["error"]
        approved = await client.post(
            f"/api/eval/verify/{execution_id}", json={"checkpointNumber": 2, "action": "approved"}
        )
        assert approved.status_code == 200, approved.text
        done = await until_status(client, execution_id, "completed")
    assert done["metrics"]["tapsUsed"] == 2
    assert [d["evalMetadata"]["tapNumber"] for d in done["checkpoints"]["details"]] == [1, 2]
    assert second["stepId"] == "calculation"
    [before] = first["evalMetadata"]["evidence"]["tool_calls"]
    [after] = second["evalMetadata"]["evidence"]["tool_calls"]
    assert before["result"] == {"result": 7500}
    assert after["result"] == {"result": 4000}, "the redone step used the hint's figures"


async def test_auto_detection_pauses_before_the_email_with_its_reason(server: RunningAssay):
    reviewer = await user_key(server.settings, REVIEWER)
    task = {
        "taskName": "Competitors",
        "taskDescription": "Research top 3 AI companies, analyze pricing, calculate our "
        "advantage, and email summary to team@example.com",
        "autoDetectCheckpoints": True,
        "testMode": "with-verification",
        "assignedReviewer": REVIEWER,
    }
    async with server.client(reviewer) as client:
        created = (await client.post("/api/eval/create-task-agent", json=task)).json()
        assert created["checkpointDetectionMethod"] == "ai-detected"
        assert created["checkpointCount"] == 1
        waiting = await until_status(client, created["executionId"], "waiting_verification")
        [checkpoint] = waiting["checkpoints"]["details"]
        assert checkpoint["stepId"] == "step-4"
        assert checkpoint["evalMetadata"]["method"] == "ai-detected"
        assert "team@example.com" in checkpoint["evalMetadata"]["reason"]
        assert waiting["progress"]["completedSteps"] == 3 and waiting["progress"]["totalSteps"] == 4


async def test_without_verification_records_checkpoints_and_runs_through(server: RunningAssay):
    reviewer = await user_key(server.settings, REVIEWER)
    async with server.client(reviewer) as client:
        created = await client.post(
            "/api/eval/create-task-agent", json=COMMISSION | {"testMode": "without-verification"}
        )
        done = await until_status(client, created.json()["executionId"], "completed")
    [checkpoint] = done["checkpoints"]["details"]
    assert checkpoint["status"] == "recorded" and checkpoint["wasVerified"] is False
    assert done["metrics"]["tapsUsed"] == 0


async def test_an_unanswered_checkpoint_expires_and_the_run_fails(server: RunningAssay):
    reviewer = await user_key(server.settings, REVIEWER)
    async with server.client(reviewer) as client:
        created = await client.post(
            "/api/eval/create-task-agent", json=COMMISSION | {"verificationTimeoutSeconds": 0.5}
        )
        failed = await until_status(client, created.json()["executionId"], "failed")
    [checkpoint] = failed["checkpoints"]["details"]
    assert checkpoint["status"] == "expired" and checkpoint["wasVerified"] is False
    assert failed["metrics"]["tapsUsed"] == 0, "an expiry is not a tap, nor a rejection"
    assert "not verified within 0.5 seconds" in failed["error"]
    assert failed["isFailed"] and not failed["isComplete"]


async def test_only_the_assigned_reviewer_or_an_admin_may_verify(server: RunningAssay):
    reviewer = await user_key(server.settings, REVIEWER)
    other = await user_key(server.settings, "someone@example.com", Role.MEMBER)
    async with server.client(reviewer) as client:
        execution_id = (await client.post("/api/eval/create-task-agent", json=COMMISSION)).json()[
            "executionId"
        ]
        await until_status(client, execution_id, "waiting_verification")
    verdict = {"checkpointNumber": 1, "action": "approved"}
    async with server.client(other) as client:
        refused = await client.post(f"/api/eval/verify/{execution_id}", json=verdict)
        assert refused.status_code == 403, refused.text
        assert "assigned reviewer" in refused.json()["error"]
    async with server.client(await server.key()) as admin:
        allowed = await admin.post(f"/api/eval/verify/{execution_id}", json=verdict)
        assert allowed.status_code == 200, allowed.text
        by = allowed.json()["execution"]["checkpoints"]["details"][0]["evalMetadata"]
        assert by["verificationResponse"]["verifiedBy"].startswith("admin key ")
        again = await admin.post(f"/api/eval/verify/{execution_id}", json=verdict)
        assert again.status_code == 409


async def test_errors_have_the_seed_bodies(server: RunningAssay):
    await user_key(server.settings, REVIEWER)
    await user_key(server.settings, "second@example.com")
    async with server.client(None) as anonymous:
        unauthorized = await anonymous.post("/api/eval/create-task-agent", json=COMMISSION)
        assert unauthorized.status_code == 401 and unauthorized.json() == {"error": "Unauthorized"}
    async with server.client(await server.key()) as client:
        missing = await client.post("/api/eval/create-task-agent", json={"taskName": "x"})
        assert missing.status_code == 400
        assert missing.json() == {
            "error": "Missing required fields",
            "required": ["taskName", "taskDescription", "testMode", "assignedReviewer"],
            "hint": "Ensure all required fields are provided",
        }
        both = await client.post(
            "/api/eval/create-task-agent", json=COMMISSION | {"autoDetectCheckpoints": True}
        )
        assert both.status_code == 400 and both.json()["field"] == "autoDetectCheckpoints"
        mode = await client.post("/api/eval/create-task-agent", json=COMMISSION | {"testMode": "x"})
        assert mode.status_code == 400 and mode.json()["field"] == "testMode"
        unknown = await client.post(
            "/api/eval/create-task-agent", json=COMMISSION | {"assignedReviewer": "nobody@x.com"}
        )
        assert unknown.status_code == 404
        body = unknown.json()
        assert body["error"] == "Reviewer not found" and body["assignedReviewer"] == "nobody@x.com"
        assert body["hint"] == "Provide email or username of an Assay user"
        assert body["suggestion"] == (
            f"Try one of these valid reviewers: {REVIEWER}, second@example.com"
        )
        by_name = await client.post(
            "/api/eval/create-task-agent", json=COMMISSION | {"assignedReviewer": "reviewer"}
        )
        assert by_name.status_code == 200, "a username is the email's local part"
        nothing = await client.get("/api/eval/status/no-such-run")
        assert nothing.status_code == 404 and "error" in nothing.json()
