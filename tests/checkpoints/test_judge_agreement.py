"""Judge agreement and checkpoint metrics over real runs decided by a reviewer through the API.

The offline judge (``mock/judge``) approves a step when its evidence uses the question's key
words: the commission's evidence has its ``result``; a reply's first draft never mentions a
refund, its redone draft has the reviewer's hint to refund. The reviewer approves one first
draft anyway, the one decision of five the judge does not share.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.checkpoints.people import REVIEWER, user_key
from tests.checkpoints.test_task_runs import COMMISSION, status, until_status
from tests.cli.test_commands import assay
from tests.factories import RunningAssay, make_settings, serve_assay, wait_until

pytestmark = pytest.mark.timeout(180)

REPLY = {
    "taskName": "Answer the customer",
    "taskDescription": "Write a reply to the customer about the late parcel",
    "checkpoints": [
        {
            "stage": "draft",
            "description": "Draft the reply",
            "verificationQuestion": "Does the reply promise a refund?",
        }
    ],
    "testMode": "with-verification",
    "assignedReviewer": REVIEWER,
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningAssay]:
    with serve_assay(make_settings(tmp_path, poll_interval=0.05)) as running:
        yield running


async def _decide(client: httpx.AsyncClient, task: dict[str, Any], answers: list[str]) -> str:
    """Run ``task`` and answer its checkpoints in order (a rejection asks again)."""
    created = await client.post("/api/eval/create-task-agent", json=task)
    assert created.status_code == 200, created.text
    execution_id = str(created.json()["executionId"])
    for number, action in enumerate(answers, start=1):

        async def asked(number: int = number) -> bool:
            details = (await status(client, execution_id))["checkpoints"]["details"]
            return len(details) >= number and details[number - 1]["status"] == "waiting"

        await wait_until(asked, timeout=30)
        body: dict[str, Any] = {"checkpointNumber": number, "action": action}
        if action == "rejected":
            body["hint"] = "Say that we refund the shipping"
        answer = await client.post(f"/api/eval/verify/{execution_id}", json=body)
        assert answer.status_code == 200, answer.text
    await until_status(client, execution_id, "completed")
    return execution_id


async def test_the_report_compares_the_judge_with_the_reviewer_per_question(
    server: RunningAssay, tmp_path: Path
):
    reviewer = await user_key(server.settings, REVIEWER)
    async with server.client(reviewer) as client:
        await _decide(client, COMMISSION, ["approved"])
        await _decide(client, COMMISSION, ["approved"])
        await _decide(client, REPLY, ["rejected", "approved"])
        await _decide(client, REPLY, ["approved"])
        report = await client.get("/v1/reports/judge-agreement")
        metrics = await client.get("/v1/reports/checkpoint-metrics")
        bad_limit = await client.get("/v1/reports/judge-agreement", params={"limit": 0})
    async with server.client(await server.key(org="other-org")) as other:
        foreign = (await other.get("/v1/reports/judge-agreement")).json()
        foreign_metrics = (await other.get("/v1/reports/checkpoint-metrics")).json()

    assert report.status_code == 200, report.text
    body = report.json()
    assert body["judge"] == "mock/judge" and body["runs"] == 4 and body["judge_errors"] == 0
    overall = body["overall"]
    # reviewer: 4 approved, 1 rejected; judge: the first drafts rejected, the rest approved
    assert overall["n"] == 5 and overall["raw_agreement"] == 0.8
    assert overall["confusion"] == {
        "both_approved": 3,
        "both_rejected": 1,
        "judge_only_approved": 0,
        "reviewer_only_approved": 1,
    }
    # p_o 0.8, p_e 0.8 * 0.6 + 0.2 * 0.4 = 0.56: kappa 0.24 / 0.44
    assert overall["kappa"] == pytest.approx(0.24 / 0.44)
    lower, upper = overall["kappa_ci95"]
    assert lower < overall["kappa"] < upper
    assert body["judge_could_verify"] is False and body["kappa_gate"] == 0.7
    questions = {q["question"]: q for q in body["questions"]}
    commission = questions["Is the result $7,500?"]
    assert commission["n"] == 2 and commission["raw_agreement"] == 1.0
    assert commission["kappa"] is None, "both always approved: kappa says nothing"
    refund = questions["Does the reply promise a refund?"]
    # p_o 2/3, p_e 2/9 + 2/9: kappa (2/9) / (5/9)
    assert refund["n"] == 3 and refund["kappa"] == pytest.approx(0.4)
    assert bad_limit.status_code == 422 and "limit" in bad_limit.text

    assert metrics.status_code == 200, metrics.text
    numbers = metrics.json()
    assert numbers["runs"] == 4
    assert numbers["taps_per_task"]["mean"] == pytest.approx(5 / 4)
    assert numbers["taps_per_task"]["p50"] == 1.0
    assert numbers["taps_by_task"] == {
        "Answer the customer": 1.5,
        "Calculate Sales Commission": 1.0,
    }
    wait = numbers["time_to_verify_seconds"]
    assert wait["n"] == 5 and 0 <= wait["p50"] <= wait["p95"]
    stages = {s["stage"]: s for s in numbers["rejection_rate_by_stage"]}
    assert (stages["draft"]["rejected"], stages["draft"]["n"]) == (1, 3)
    assert stages["draft"]["rate"] == pytest.approx(1 / 3)
    assert stages["calculation"]["rate"] == 0.0 and stages["calculation"]["ci95"][1] > 0
    assert numbers["auto_detected_rejected"] == {"n": 0, "rejected": 0, "rate": None, "ci95": None}
    assert foreign["runs"] == 0 and foreign["overall"]["n"] == 0 and foreign_metrics["runs"] == 0

    # the same database, as `assay serve` and then the user's terminal open it
    printed = json.loads(assay(tmp_path, "report", "agreement", "--json").stdout)
    assert printed["agreement"]["overall"] == overall
    assert printed["metrics"]["taps_by_task"] == numbers["taps_by_task"]
    table = assay(tmp_path, "report", "agreement")
    assert table.returncode == 0 and "Does the reply promise a refund?" in table.stdout
    assert (
        "should not verify alone yet" in table.stdout and "rejected at stage draft" in table.stdout
    )
    bad_judge = assay(tmp_path, "report", "agreement", "--judge", "nojudge")
    assert bad_judge.returncode == 2 and "judge" in bad_judge.stderr


async def test_metrics_count_auto_detected_checkpoints_reviewers_rejected(server: RunningAssay):
    task = {
        "taskName": "Competitors",
        "taskDescription": "Research top 3 AI companies, analyze pricing, calculate our "
        "advantage, and email summary to team@example.com",
        "autoDetectCheckpoints": True,
        "testMode": "with-verification",
        "assignedReviewer": REVIEWER,
    }
    reviewer = await user_key(server.settings, REVIEWER)
    async with server.client(reviewer) as client:
        await _decide(client, task, ["rejected", "approved"])
        await _decide(client, COMMISSION, ["approved"])
        numbers = (await client.get("/v1/reports/checkpoint-metrics", params={"limit": 1})).json()
        both = (await client.get("/v1/reports/checkpoint-metrics")).json()

    assert numbers["runs"] == 1, "limit keeps the newest runs only"
    assert numbers["auto_detected_rejected"]["n"] == 0
    auto = both["auto_detected_rejected"]
    # the email was stopped once, then approved: one of two auto-detected checkpoints rejected
    assert (auto["n"], auto["rejected"], auto["rate"]) == (2, 1, 0.5)
    assert auto["ci95"][0] < 0.5 < auto["ci95"][1]
    assert {s["stage"] for s in both["rejection_rate_by_stage"]} == {"calculation", "step-4"}
