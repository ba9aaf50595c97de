"""Three `assay worker` processes on PostgreSQL and a broker: shared limits, scale, restarts.

The server's side (publishing item ids) runs in the test process through the same code as
`assay serve` (``Container.start_engine`` with a broker); the fake OpenAI server records
every request, so "each item ran once" is counted at the provider, not only in the database.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from assay.engine.backends.celery import make_app
from assay.settings import Settings
from tests.engine.celery_cluster import (
    Cluster,
    cluster_settings,
    create_evaluation,
    match_spec,
    postgres_url,
    publishing_container,
)
from tests.engine.lifecycle import evaluation_row, item_rows
from tests.factories import free_port, wait_until
from tests.fakes.openai_server import FakeLLM

pytestmark = pytest.mark.timeout(600)
__all__ = ["cluster_settings", "postgres_url"]  # fixtures, used by name


async def workers_ready(cluster: Cluster) -> None:
    """Wait until every worker of ``cluster`` answers a ping: all of them consume the queue."""
    app = make_app(cluster.settings)
    names = {f"assay-{w.pid}@" for w in cluster.workers}

    async def all_answer() -> bool:
        replies = await asyncio.to_thread(app.control.ping, timeout=1.0)
        answered = {name for reply in replies or [] for name in reply}
        return all(any(a.startswith(n) for a in answered) for n in names)

    try:
        await wait_until(all_answer, timeout=180, interval=0.5)
    finally:
        app.close()


async def finished(settings: Settings, evaluation_id: str, timeout: float = 400) -> Any:
    """The evaluation's row once it is completed with a summary."""

    async def done() -> bool:
        row = await evaluation_row(settings, evaluation_id)
        return row.status == "completed" and row.summary is not None

    await wait_until(done, timeout=timeout, interval=0.5)
    return await evaluation_row(settings, evaluation_id)


async def run_on_cluster(
    cluster: Cluster, fake_llm: FakeLLM, items: int, slots: int, during: Any = None
) -> Any:
    """Start three workers, run ``items`` match cases through them; the finished row."""
    container = await publishing_container(cluster.settings)  # migrates before workers start
    try:
        for _ in range(3):
            cluster.worker(slots=slots)
        await workers_ready(cluster)
        evaluation_id = await create_evaluation(container, match_spec(fake_llm.url, items))
        if during is not None:
            await during(evaluation_id)
        return await finished(cluster.settings, evaluation_id)
    finally:
        await container.aclose()


def assert_each_item_once(cluster: Cluster, fake_llm: FakeLLM, row: Any, items: int) -> None:
    assert row.summary["counts"]["passed"] == items, row.summary["counts"]
    assert len(fake_llm.requests) == items, "no item ran twice"
    for i in range(len(cluster.workers)):
        assert "running item" in (cluster.tmp_path / f"worker{i}.log").read_text()


async def test_three_workers_share_one_provider_limit_through_redis(
    tmp_path: Path, fake_llm: FakeLLM, cluster_settings: Any, redis_url: str
):
    fake_llm.latency = 0.05
    rules = {fake_llm.url: {"rate": "20 per 2 seconds", "concurrency": 2}}
    settings = cluster_settings("redis", fake_llm=fake_llm)
    cluster = Cluster(
        tmp_path,
        settings,
        ASSAY_PROVIDER_LIMITS=json.dumps(rules),
        ASSAY_PROVIDER_LIMITS_STORAGE=f"{redis_url}/0",
    )
    items = 40
    try:
        row = await run_on_cluster(cluster, fake_llm, items, slots=4)
    finally:
        cluster.close()
    assert_each_item_once(cluster, fake_llm, row, items)
    # Twelve slots on three workers, but two calls in flight and twenty per 2 s in all.
    assert fake_llm.max_in_flight <= 2
    # Counted when sent: a 0.5 s margin for the requests' own time on the way (a new
    # connection on a loaded machine).
    assert fake_llm.most_in_window(1.5) <= 20, sorted(fake_llm.arrivals)


async def test_three_workers_finish_two_thousand_items_each_counted_once(
    tmp_path: Path, fake_llm: FakeLLM, cluster_settings: Any
):
    settings = cluster_settings("redis", fake_llm=fake_llm)
    cluster = Cluster(tmp_path, settings)
    items = 2000
    try:
        row = await run_on_cluster(cluster, fake_llm, items, slots=20)
    finally:
        cluster.close()
    assert_each_item_once(cluster, fake_llm, row, items)
    rows = await item_rows(settings, row.id)
    assert len(rows) == items and {r.state for r in rows} == {"passed"}


def start_redis(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    """A Redis of our own on ``port`` that keeps nothing on disk: a restart loses every message."""
    command = ["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    command += ["--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    with (tmp_path / f"redis-{port}.log").open("ab") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait(timeout=10)


async def test_a_restart_of_the_redis_broker_loses_nothing(
    tmp_path: Path, fake_llm: FakeLLM, cluster_settings: Any
):
    if not os.path.exists("/usr/bin/redis-server"):
        pytest.skip("/usr/bin/redis-server is not installed")
    fake_llm.latency = 0.02
    port = free_port()
    settings = cluster_settings("redis", fake_llm=fake_llm, broker_sweep_seconds=2.0)
    settings = settings.model_copy(update={"broker_url": f"redis://127.0.0.1:{port}/0"})
    cluster = Cluster(tmp_path, settings)
    items = 400
    redis = [start_redis(tmp_path, port)]

    async def restart_midway(evaluation_id: str) -> None:
        async def some_done() -> bool:
            rows = await item_rows(settings, evaluation_id)
            return sum(r.state == "passed" for r in rows) >= 50

        await wait_until(some_done, timeout=300, interval=0.2)
        stop(redis[0])  # SIGKILL: queued and unacknowledged messages are gone
        redis.append(start_redis(tmp_path, port))

    try:
        row = await run_on_cluster(cluster, fake_llm, items, slots=4, during=restart_midway)
    finally:
        cluster.close()
        for process in redis:
            stop(process)
    assert_each_item_once(cluster, fake_llm, row, items)


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


@contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A virtual host of the system RabbitMQ for one test, so its connections are ours alone."""
    vhost = f"assay-test-{uuid.uuid4().hex[:12]}"
    rabbitmqctl("add_vhost", vhost)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield vhost
    finally:
        rabbitmqctl("delete_vhost", vhost)


async def test_a_rabbitmq_outage_of_every_worker_connection_loses_nothing(
    tmp_path: Path, fake_llm: FakeLLM, cluster_settings: Any
):
    """RabbitMQ: every connection dropped and the queue's messages lost, mid-evaluation.

    The system RabbitMQ cannot be restarted by a test, so this is what a restart does to the
    workers, done with ``rabbitmqctl`` on a virtual host of the test's own:
    ``close_all_connections --vhost`` drops every worker's (and the publisher's) connection,
    which returns the unacknowledged messages to the queue, and ``purge_queue`` then throws
    away every message in it, as a restart of a broker without durable messages would.
    """
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is not installed")
    fake_llm.latency = 0.02
    settings = cluster_settings("rabbitmq", fake_llm=fake_llm, broker_sweep_seconds=2.0)
    items = 400
    with rabbitmq_vhost() as vhost:
        broker_url = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
        settings = settings.model_copy(update={"broker_url": broker_url})
        cluster = Cluster(tmp_path, settings)

        async def outage_midway(evaluation_id: str) -> None:
            async def some_done() -> bool:
                rows = await item_rows(settings, evaluation_id)
                return sum(r.state == "passed" for r in rows) >= 50

            await wait_until(some_done, timeout=300, interval=0.2)
            rabbitmqctl("close_all_connections", "--vhost", vhost, "test: broker outage")
            rabbitmqctl("purge_queue", "-p", vhost, settings.broker_queue)

        try:
            row = await run_on_cluster(cluster, fake_llm, items, slots=4, during=outage_midway)
        finally:
            cluster.close()
    assert_each_item_once(cluster, fake_llm, row, items)
