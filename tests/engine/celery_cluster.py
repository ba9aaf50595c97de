"""A Celery cluster for tests: an API-only server and `assay worker` processes on one queue.

Every cluster uses its own queue name, so parallel test processes never take each other's
messages; the database is a fresh PostgreSQL one per test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.core.spec import EvaluationSpec, TargetSpec
from assay.services import evaluations as evaluation_service
from assay.services.container import Container, open_container
from assay.services.runs import local_principal
from assay.settings import Settings
from tests.factories import (
    assay_env,
    assay_process,
    free_port,
    fresh_postgres_database,
    make_settings,
    reachable,
    wait_until,
)

BROKERS = {
    "redis": ("redis://127.0.0.1:6379/0", 6379),
    "rabbitmq": ("amqp://guest:guest@127.0.0.1:5672//", 5672),
}


def _require(port: int, what: str) -> None:
    if reachable(port):
        return
    if os.environ.get("ASSAY_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} on 127.0.0.1:{port} is required (ASSAY_REQUIRE_SERVICES=1)")
    pytest.skip(f"{what} on 127.0.0.1:{port} is not reachable")


@pytest.fixture
async def postgres_url(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database, migrated: processes started at once would race to migrate it."""
    _require(5432, "PostgreSQL")
    async with fresh_postgres_database() as url:
        container = await open_container(make_settings(tmp_path, database_url=url))
        await container.aclose()
        yield url


def broker(name: str) -> str:
    url, port = BROKERS[name]
    _require(port, name)
    return url


class Cluster:
    """An API-only server and worker processes sharing one database and one broker queue."""

    def __init__(self, tmp_path: Path, settings: Settings, **env: str) -> None:
        self.settings = settings
        self.env = assay_env(
            settings,
            ASSAY_BROKER_URL=str(settings.broker_url),
            ASSAY_BROKER_QUEUE=settings.broker_queue,
            ASSAY_BROKER_SWEEP_SECONDS=str(settings.broker_sweep_seconds),
            ASSAY_BROKER_BATCH_SIZE=str(settings.broker_batch_size),
            **env,
        )
        self.tmp_path = tmp_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stack = ExitStack()
        self.workers: list[Any] = []

    def serve(self) -> None:
        args = ["serve", "--no-workers", "--host", "127.0.0.1", "--port", str(self.port)]
        self.stack.enter_context(assay_process(args, self.env, self.tmp_path / "server.log"))

    def worker(self, slots: int) -> Any:
        log = self.tmp_path / f"worker{len(self.workers)}.log"
        process = self.stack.enter_context(
            assay_process(["worker", "--workers", str(slots)], self.env, log)
        )
        self.workers.append(process)
        return process

    async def workers_ready(self) -> None:
        """Wait until every worker says it consumes (Celery's "ready."): one that starts after
        the others finished the queue would get nothing, which is no failure of Assay's."""

        async def ready() -> bool:
            logs = [self.tmp_path / f"worker{i}.log" for i in range(len(self.workers))]
            return all(log.exists() and " ready." in log.read_text() for log in logs)

        await wait_until(ready, timeout=150)

    async def healthy(self) -> None:
        async def up() -> bool:
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"{self.url}/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_until(up, timeout=150)

    def close(self) -> None:
        """SIGTERM every worker at once, give them time to drain, then stop everything.

        One at a time, each worker's drain would wait for the ones before it, and on a
        loaded machine the last would outlive the 30 s ``assay_process`` allows.
        """
        running = [w for w in self.workers if w.poll() is None]
        for worker in running:
            worker.send_signal(signal.SIGTERM)
        for worker in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=120)
        self.stack.close()

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp_path.glob("*.log")))


@pytest.fixture
def cluster_settings(tmp_path: Path, postgres_url: str) -> Iterator[Any]:
    def build(broker_name: str, **overrides: Any) -> Settings:
        return make_settings(
            tmp_path,
            database_url=postgres_url,
            broker_url=broker(broker_name),
            broker_queue=f"assay-test-{uuid.uuid4().hex[:12]}",
            **overrides,
        )

    yield build


def match_spec(url: str, n: int) -> EvaluationSpec:
    """``n`` tiny ``match`` cases against an openai-chat target on the fake server (it echoes)."""
    return EvaluationSpec(
        kind="match",
        target=TargetSpec(kind="openai-chat", name="echo", config={"base_url": url, "model": "m"}),
        params={"cases": [{"input": f"q{i}", "expected_output": f"echo: q{i}"} for i in range(n)]},
    )


async def create_evaluation(container: Container, spec: EvaluationSpec) -> str:
    """Create ``spec`` as the default organization's admin; a started engine publishes it."""
    principal = await local_principal(container)
    view = await evaluation_service.create_evaluation(
        container, principal, spec, secrets={"target": {"api_key": "sk-test"}}
    )
    return view.id


async def publishing_container(settings: Settings) -> Container:
    """A container whose engine is the server's side of the Celery backend, as in `serve`."""
    container = await open_container(settings)
    await container.start_engine()
    return container
