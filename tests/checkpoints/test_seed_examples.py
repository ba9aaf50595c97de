"""The seed's own Python examples run unchanged (host and key aside) against a real server.

``requests`` talks to the server over loopback; a reviewer thread verifies the waiting
checkpoints through the API as a person would. The status and create latencies the seed
promises (< 100 ms, < 500 ms) are measured and printed (run with ``-s`` to see them), never
asserted: timings on a shared machine belong to benchmarks.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.checkpoints import seed_examples
from tests.checkpoints.people import user_key
from tests.factories import RunningAssay, make_settings, serve_assay

pytestmark = pytest.mark.timeout(180)

SEED_REVIEWER = "you@example.com"
BATCH_REVIEWER = "reviewer@example.com"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningAssay]:
    settings = make_settings(tmp_path, quota_concurrent_evaluations=0)
    with serve_assay(settings) as running:
        yield running


def _run(code: str, server: RunningAssay, key: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(seed_examples.adapted(code, server.url, key), namespace)  # noqa: S102 - the seed's code
    return namespace


class Reviewer(threading.Thread):
    """Verifies every waiting checkpoint through the API: rejects the first ask of a task
    whose external id says so (with a hint), approves the rest, and leaves some unanswered."""

    def __init__(self, url: str, key: str, execution_ids: list[str]) -> None:
        super().__init__(daemon=True)
        self.url, self.headers, self.ids = url, {"Authorization": f"Bearer {key}"}, execution_ids
        self.stop = threading.Event()
        self.verdicts: list[tuple[str, int, str]] = []

    def run(self) -> None:
        while not self.stop.is_set():
            for execution_id in self.ids:
                execution = requests.get(
                    f"{self.url}/api/eval/status/{execution_id}", headers=self.headers, timeout=10
                ).json()["execution"]
                waiting = [
                    c for c in execution["checkpoints"]["details"] if c["status"] == "waiting"
                ]
                if execution["status"] != "waiting_verification" or not waiting:
                    continue
                self._answer(execution_id, waiting[0], execution)
            time.sleep(0.05)

    def _answer(
        self, execution_id: str, checkpoint: dict[str, Any], execution: dict[str, Any]
    ) -> None:
        number = checkpoint["checkpointNumber"]
        if "Unanswered" in checkpoint["description"]:
            return
        reject = "Reject once" in checkpoint["description"] and number == 1
        verdict: dict[str, Any] = {"checkpointNumber": number, "action": "approved"}
        if reject:
            verdict = verdict | {"action": "rejected", "hint": "Send it to team@example.com only"}
        answer = requests.post(
            f"{self.url}/api/eval/verify/{execution_id}",
            headers=self.headers,
            json=verdict,
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        self.verdicts.append((execution_id, number, verdict["action"]))


def test_the_benchmark_suite_runs_as_written(
    server: RunningAssay, capsys: pytest.CaptureFixture[str]
):
    import asyncio

    key = asyncio.run(user_key(server.settings, SEED_REVIEWER))
    _run(seed_examples.BENCHMARK_SUITE, server, key)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "✅ Benchmark: Calculate 15% of $50,000: Done!",
        "✅ Benchmark: Research top 3 AI companies an: Done!",
        "✅ Benchmark: Draft email to team about Q4 g: Done!",
    ]


def test_batch_create_with_a_reviewer_polling_and_the_success_rate(server: RunningAssay):
    import asyncio

    key = asyncio.run(user_key(server.settings, BATCH_REVIEWER))
    examples = _run(seed_examples.BATCH_CREATE, server, key)
    examples |= _run(seed_examples.WAIT_FOR_COMPLETION, server, key)
    examples |= _run(seed_examples.SUCCESS_RATE, server, key)

    def task(name: str, description: str, **extra: Any) -> dict[str, Any]:
        return {
            "taskName": name,
            "taskDescription": description,
            "autoDetectCheckpoints": True,
            "testMode": "with-verification",
            "assignedReviewer": BATCH_REVIEWER,
        } | extra

    tasks = [
        task("Test 1", "Calculate 15% of $50,000"),
        task("Test 2", "Research pricing, and email summary to team@example.com"),
        task("Test 3", "Buy 3 laptops for $4,500"),
        task("Test 4", "Reject once: email the offer to client@customer.org"),
        task(
            "Test 5", "Process customer data and generate report", testMode="without-verification"
        ),
        task("Test 6", "Unanswered: delete the old records", verificationTimeoutSeconds=1),
    ]
    results = examples["create_eval_batch"](tasks, key)
    assert all(r["success"] for r in results), results
    ids = [r["executionId"] for r in results]
    assert [r["checkpointCount"] for r in results] == [0, 1, 1, 1, 0, 1]

    reviewer = Reviewer(server.url, key, ids)
    reviewer.start()
    try:
        finals = [examples["wait_for_completion"](i, key, timeout=120) for i in ids]
    finally:
        reviewer.stop.set()
        reviewer.join(timeout=10)

    assert [f["isComplete"] for f in finals] == [True, True, True, True, True, False]
    assert "not verified within 1 seconds" in finals[5]["error"]
    assert [f["metrics"]["tapsUsed"] for f in finals] == [0, 1, 1, 2, 0, 0]
    assert (ids[3], 1, "rejected") in reviewer.verdicts
    rate = examples["calculate_eval_success_rate"](ids, key)
    assert rate == {"success_rate": 5 / 6 * 100, "successful": 5, "failed": 1, "total": 6}


def test_status_and_create_latency_are_measured(server: RunningAssay):
    import asyncio

    key = asyncio.run(user_key(server.settings, SEED_REVIEWER))
    headers = {"Authorization": f"Bearer {key}"}
    body = {
        "taskName": "Latency",
        "taskDescription": "Calculate 15% of $50,000",
        "autoDetectCheckpoints": True,
        "testMode": "without-verification",
        "assignedReviewer": SEED_REVIEWER,
    }
    with requests.Session() as session:
        creates, ids = [], []
        for _ in range(20):
            started = time.perf_counter()
            response = session.post(
                f"{server.url}/api/eval/create-task-agent", json=body, headers=headers
            )
            creates.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
            ids.append(response.json()["executionId"])
        statuses = []
        for n in range(100):
            started = time.perf_counter()
            response = session.get(
                f"{server.url}/api/eval/status/{ids[n % len(ids)]}", headers=headers
            )
            statuses.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text

    def summary(values: list[float]) -> str:
        ordered = sorted(values)
        p95 = ordered[int(len(ordered) * 0.95) - 1]
        return f"p50 {statistics.median(values):.1f} ms, p95 {p95:.1f} ms, max {ordered[-1]:.1f} ms"

    print(f"\ncreate-task-agent latency (n={len(creates)}): {summary(creates)}")  # noqa: T201
    print(f"status latency (n={len(statuses)}): {summary(statuses)}")  # noqa: T201
    assert len(statuses) == 100 and len(creates) == 20
