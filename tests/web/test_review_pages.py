"""The reviewer queue and a run's page over HTTP: who sees what, and verdicts as the key's user."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.core.principal import Role
from tests.checkpoints.people import REVIEWER, user_key
from tests.checkpoints.test_task_runs import COMMISSION, status, until_status
from tests.factories import RunningAssay, make_settings, serve_assay, wait_until
from tests.web.helpers import csrf_of, signed_in

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningAssay]:
    with serve_assay(make_settings(tmp_path)) as running:
        yield running


async def _waiting_run(server: RunningAssay, key: str) -> str:
    async with server.client(key) as client:
        created = await client.post("/api/eval/create-task-agent", json=COMMISSION)
        assert created.status_code == 200, created.text
        body = created.json()
        execution_id = str(body["executionId"])
        assert body["chatUrl"].endswith(f"/ui/reviews/{execution_id}")
        await until_status(client, execution_id, "waiting_verification")
    return execution_id


async def test_the_assigned_reviewer_reads_the_evidence_rejects_with_a_hint_then_approves(
    server: RunningAssay,
):
    reviewer = await user_key(server.settings, REVIEWER)
    execution_id = await _waiting_run(server, reviewer)
    async with signed_in(server, reviewer) as ui:
        queue = await ui.get("/ui/reviews")
        assert queue.status_code == 200
        assert f'href="/ui/reviews/{execution_id}"' in queue.text
        assert "Is the result $7,500?" in queue.text and "Keyboard shortcuts" in queue.text
        assert REVIEWER in queue.text  # the header names the key's user

        run = await ui.get(f"/ui/reviews/{execution_id}")
        assert run.status_code == 200
        assert "Checkpoint 1: Is the result $7,500?" in run.text
        assert "<code>calculator</code>" in run.text and "7500" in run.text
        assert 'value="approved"' in run.text and 'id="hint"' in run.text
        csrf = csrf_of(run.text)

        no_hint = await ui.post(
            f"/ui/reviews/{execution_id}/verify",
            data={"csrf": csrf, "checkpoint": "1", "action": "rejected", "hint": " "},
        )
        assert no_hint.status_code == 422
        assert "hint: is required when rejecting" in no_hint.text
        assert "sse-connect" not in no_hint.text  # not live: nothing swaps the form away
        assert f"/ui/reviews/{execution_id}/stream?seen=" in run.text
        forged = await ui.post(
            f"/ui/reviews/{execution_id}/verify",
            data={"csrf": "forged", "checkpoint": "1", "action": "approved"},
        )
        assert forged.status_code == 403

        rejected = await ui.post(
            f"/ui/reviews/{execution_id}/verify",
            data={
                "csrf": csrf,
                "checkpoint": "1",
                "action": "rejected",
                "hint": "Use 10% of $40,000",
                "reviewer": "someone-else@example.com",
            },
        )
        assert rejected.status_code == 303, rejected.text
        assert rejected.headers["location"] == f"/ui/reviews/{execution_id}"

        async with server.client(reviewer) as api:

            async def asked_again() -> bool:
                body = await status(api, execution_id)
                return len(body["checkpoints"]["details"]) == 2 and body["status"] == (
                    "waiting_verification"
                )

            await wait_until(asked_again, timeout=20)
            stale = await ui.post(
                f"/ui/reviews/{execution_id}/verify",
                data={"csrf": csrf, "checkpoint": "1", "action": "approved"},
            )
            assert stale.status_code == 409 and "not waiting" in stale.text
            again = await ui.get(f"/ui/reviews/{execution_id}")
            assert "Checkpoint 2:" in again.text and "4000" in again.text
            assert "hint: Use 10% of $40,000" in again.text
            approved = await ui.post(
                f"/ui/reviews/{execution_id}/verify",
                data={"csrf": csrf, "checkpoint": "2", "action": "approved"},
            )
            assert approved.status_code == 303
            done = await until_status(api, execution_id, "completed")
    verdicts = [d["evalMetadata"]["verificationResponse"] for d in done["checkpoints"]["details"]]
    assert [v["action"] for v in verdicts] == ["rejected", "approved"]
    assert [v["verifiedBy"] for v in verdicts] == [REVIEWER, REVIEWER]


async def test_only_the_assigned_reviewer_or_an_admin_may_answer_and_others_see_no_form(
    server: RunningAssay,
):
    reviewer = await user_key(server.settings, REVIEWER)
    colleague = await user_key(server.settings, "colleague@example.com", Role.MEMBER)
    admin = await server.key()
    stranger = await server.key(org="other-org")
    execution_id = await _waiting_run(server, reviewer)

    async with signed_in(server, colleague) as ui:
        queue = await ui.get("/ui/reviews")
        assert execution_id not in queue.text and "Nothing waits for you" in queue.text
        run = await ui.get(f"/ui/reviews/{execution_id}")
        assert run.status_code == 200 and 'value="approved"' not in run.text
        assert f"Waiting for {REVIEWER}" in run.text
        refused = await ui.post(
            f"/ui/reviews/{execution_id}/verify",
            data={"csrf": csrf_of(run.text), "checkpoint": "1", "action": "approved"},
        )
        assert refused.status_code == 403 and "assigned reviewer" in refused.text

    async with signed_in(server, stranger) as ui:
        assert (await ui.get(f"/ui/reviews/{execution_id}")).status_code == 404
        assert execution_id not in (await ui.get("/ui/reviews")).text

    async with signed_in(server, admin) as ui:
        queue = await ui.get("/ui/reviews")
        assert execution_id in queue.text  # an admin sees every run of the organization
        run = await ui.get(f"/ui/reviews/{execution_id}")
        approved = await ui.post(
            f"/ui/reviews/{execution_id}/verify",
            data={"csrf": csrf_of(run.text), "checkpoint": "1", "action": "approved"},
        )
        assert approved.status_code == 303
    async with server.client(admin) as api:
        done = await until_status(api, execution_id, "completed")
    verdict = done["checkpoints"]["details"][0]["evalMetadata"]["verificationResponse"]
    assert verdict["verifiedBy"].startswith("admin key ")
