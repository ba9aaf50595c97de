"""`assay serve --no-workers` and `assay worker` processes on a Celery broker (Redis, RabbitMQ).

The server publishes item ids, the workers consume them and run the one item function on
PostgreSQL; every test uses its own queue name, so parallel test processes never take each
other's messages. Each item is counted once whatever happens to a worker.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.services import evaluations as evaluation_service
from assay.services.container import open_container
from assay.services.runs import local_principal
from tests.api.eval_runs_helpers import agent_requests, register_chat_agent, script_agent_and_judge
from tests.engine.celery_cluster import Cluster, cluster_settings, postgres_url
from tests.engine.lifecycle import create_lifecycle, evaluation_row, item_rows, lifecycle_plugin
from tests.factories import (
    free_port,
    make_key,
    wait_until,
)
from tests.fakes.openai_server import FakeLLM

pytestmark = pytest.mark.timeout(400)
__all__ = ["cluster_settings", "lifecycle_plugin", "postgres_url"]  # fixtures, used by name


async def _eval_run(client: httpx.AsyncClient, iterations: int) -> dict[str, Any]:
    response = await client.post(
        "/eval-runs",
        json={
            "eval_type": "accuracy",
            "input": "q",
            "expected_output": "84",
            "agent_id": "calc-agent",
            "num_iterations": iterations,
        },
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize(("broker_name", "runs"), [("redis", 3), ("rabbitmq", 2)])
async def test_three_workers_finish_what_an_api_only_server_queued_each_item_once(
    tmp_path: Path, fake_llm: FakeLLM, cluster_settings: Any, broker_name: str, runs: int
):
    script_agent_and_judge(fake_llm)
    settings = cluster_settings(broker_name, fake_llm=fake_llm)
    cluster = Cluster(tmp_path, settings)
    try:
        cluster.serve()
        await cluster.healthy()
        for _ in range(3):
            cluster.worker(slots=8)
        await cluster.workers_ready()
        key = await make_key(settings)
        async with httpx.AsyncClient(
            base_url=cluster.url, headers={"Authorization": f"Bearer {key}"}, timeout=120
        ) as client:
            health = (await client.get("/healthz")).json()
            await register_chat_agent(client, fake_llm)
            started = time.perf_counter()
            results = await asyncio.gather(*(_eval_run(client, 100) for _ in range(runs)))
            elapsed = time.perf_counter() - started
        for worker in cluster.workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(timeout=60) for worker in cluster.workers]
    finally:
        cluster.close()
    assert health["workers"] is False, "the API process runs no items with a broker"
    assert [r["eval_data"]["counts"]["scored"] for r in results] == [100] * runs
    assert len(agent_requests(fake_llm)) == 100 * runs, "no item ran twice"
    assert codes == [0, 0, 0], cluster.logs()[-3000:]
    worker_logs = [(tmp_path / f"worker{i}.log").read_text() for i in range(3)]
    assert all("running item" in log for log in worker_logs), "every worker took items"
    assert elapsed < 300, f"{100 * runs} items took {elapsed:.0f} s"


async def test_a_worker_killed_mid_item_leaves_its_item_to_another(
    tmp_path: Path, lifecycle_plugin: Path, cluster_settings: Any
):
    # One item a message, so that both workers hold items.
    settings = cluster_settings("redis", broker_sweep_seconds=1.0, broker_batch_size=1)
    cluster = Cluster(tmp_path, settings, PYTHONPATH=str(lifecycle_plugin), ASSAY_LEASE_SECONDS="1")
    items = 4
    try:
        first = cluster.worker(slots=2)
        second = cluster.worker(slots=2)
        # Queued before any server published it: the workers' sweep finds it.
        evaluation_id = await create_lifecycle(
            settings, items=items, sleep_in=["agent_running"], sleep_s=4
        )

        async def first_runs_one() -> bool:
            rows = await item_rows(settings, evaluation_id)
            return any(
                r.state == "agent_running" and f":{first.pid}:" in (r.lease_owner or "")
                for r in rows
            )

        await wait_until(first_runs_one, timeout=150)
        killed = [
            r.id
            for r in await item_rows(settings, evaluation_id)
            if f":{first.pid}:" in (r.lease_owner or "")
        ]
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        async def completed() -> bool:
            row = await evaluation_row(settings, evaluation_id)
            return row.status == "completed" and row.summary is not None

        await wait_until(completed, timeout=150)
        assert second.poll() is None, "the other worker is still serving"
    finally:
        cluster.close()
    rows = {r.id: r for r in await item_rows(settings, evaluation_id)}
    assert [r.state for r in rows.values()] == ["passed"] * items
    summary = (await evaluation_row(settings, evaluation_id)).summary
    assert summary["counts"]["passed"] == items, "each item counted once"
    for item_id in killed:
        assert rows[item_id].attempts == 2, "run again after the kill, by the other worker"


async def test_cancellation_reaches_items_on_every_worker_within_a_poll_interval(
    tmp_path: Path, lifecycle_plugin: Path, cluster_settings: Any
):
    # One item a message, so that both workers hold items.
    settings = cluster_settings("redis", broker_sweep_seconds=1.0, broker_batch_size=1)
    cluster = Cluster(tmp_path, settings, PYTHONPATH=str(lifecycle_plugin))
    items = 4
    try:
        workers = [cluster.worker(slots=2), cluster.worker(slots=2)]
        evaluation_id = await create_lifecycle(
            settings, items=items, sleep_in=["agent_running"], sleep_s=60
        )

        async def all_running_on_both() -> bool:
            rows = await item_rows(settings, evaluation_id)
            owners = {(r.lease_owner or "").split(":")[1] for r in rows if r.lease_owner}
            running = all(r.state == "agent_running" for r in rows)
            return running and owners == {str(w.pid) for w in workers}

        await wait_until(all_running_on_both, timeout=150)
        container = await open_container(settings)
        try:
            principal = await local_principal(container)
            cancelled_at = time.perf_counter()
            await evaluation_service.cancel_evaluation(container, principal, evaluation_id)
        finally:
            await container.aclose()

        async def all_cancelled() -> bool:
            rows = await item_rows(settings, evaluation_id)
            return all(r.state == "cancelled" for r in rows)

        await wait_until(all_cancelled, timeout=30, interval=0.01)
        took = time.perf_counter() - cancelled_at
    finally:
        cluster.close()
    row = await evaluation_row(settings, evaluation_id)
    assert row.status == "cancelled"
    # Each worker checks every poll interval (0.05 s here); the margin is for a loaded CI.
    assert took < 2.0, f"cancellation took {took:.2f} s"


async def test_a_waiting_item_holds_no_worker_and_is_published_again_when_its_event_comes(
    tmp_path: Path, lifecycle_plugin: Path, cluster_settings: Any
):
    # No periodic re-publishing within the test: only the API's event publishes the item.
    settings = cluster_settings("redis", broker_sweep_seconds=600.0)
    metrics_port = free_port()
    cluster = Cluster(
        tmp_path,
        settings,
        PYTHONPATH=str(lifecycle_plugin),
        ASSAY_WORKER_METRICS_PORT=str(metrics_port),
    )
    items = 2
    try:
        cluster.serve()
        await cluster.healthy()
        evaluation_id = await create_lifecycle(settings, suspend=True, items=items)
        cluster.worker(slots=1)  # one slot: two waiting items do not hold it

        async def both_waiting() -> bool:
            row = await evaluation_row(settings, evaluation_id)
            return row.status == "waiting_verification"

        await wait_until(both_waiting, timeout=150)
        key = await make_key(settings)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=cluster.url, headers=headers) as client:
            for row in await item_rows(settings, evaluation_id):
                sent = await client.post(
                    f"/v1/evaluations/{evaluation_id}/items/{row.id}/events",
                    json={"type": "continue", "data": {"seq": row.seq}},
                )
                assert sent.status_code == 202, sent.text

        async def completed() -> bool:
            return (await evaluation_row(settings, evaluation_id)).status == "completed"

        await wait_until(completed, timeout=60)
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
    finally:
        cluster.close()
    assert 'assay_worker_items_finished_total{state="waiting"} 2.0' in metrics
    assert 'assay_worker_items_finished_total{state="passed"} 2.0' in metrics
    assert "assay_worker_items_running 0.0" in metrics
    for row in await item_rows(settings, evaluation_id):
        assert row.state == "passed" and row.attempts == 2
        kinds = [e["kind"] for e in row.outcome["trace"]["events"]]
        assert kinds == ["step", "resume"]


async def test_sigterm_lets_a_running_item_finish_before_the_worker_exits(
    tmp_path: Path, lifecycle_plugin: Path, cluster_settings: Any
):
    settings = cluster_settings("redis")
    cluster = Cluster(tmp_path, settings, PYTHONPATH=str(lifecycle_plugin))
    try:
        worker = cluster.worker(slots=2)
        evaluation_id = await create_lifecycle(
            settings, items=1, sleep_in=["agent_running"], sleep_s=3
        )

        async def running() -> bool:
            rows = await item_rows(settings, evaluation_id)
            return rows[0].state == "agent_running"

        await wait_until(running, timeout=150)
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=60)
    finally:
        cluster.close()
    [row] = await item_rows(settings, evaluation_id)
    assert code == 0
    assert row.state == "passed" and row.attempts == 1, "finished, not given back"
    assert (await evaluation_row(settings, evaluation_id)).status == "completed"
