"""`assay worker`: run queued items without serving the API.

For more than one machine: `assay serve --no-workers` behind a load balancer, and as many
`assay worker` processes as needed on the same database (PostgreSQL). Workers are stateless;
items are claimed with leases, so a worker that dies loses nothing.

With ``ASSAY_BROKER_URL`` set the worker is a Celery worker instead: it consumes item ids
from the broker's queue (``engine/backends/celery.py``) rather than polling the database.
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Annotated

import typer

from assay.cli.common import console, exit_on_error, run_with_container
from assay.services.container import Container
from assay.settings import Settings, get_settings


def worker(
    workers: Annotated[int | None, typer.Option(help="Items run at once (ASSAY_WORKERS).")] = None,
) -> None:
    """Claim and run queued items until interrupted (Ctrl-C or SIGTERM drains and stops)."""
    settings = get_settings()
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    if settings.broker_url is not None:
        with exit_on_error():
            _celery_worker(settings)
        return

    async def work(container: Container) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await container.start_engine()
        console.print(f"worker running {settings.workers} items at once; Ctrl-C to stop")
        await stop.wait()
        console.print(
            "draining: running items get a few seconds to finish, the rest go back to the queue"
        )

    run_with_container(work, settings)


def _celery_worker(settings: Settings) -> None:
    """Consume the broker's queue with ``settings.workers`` slots until SIGTERM or Ctrl-C.

    Celery's warm shutdown lets running items finish; the loop then gives back any left.
    """
    from assay.engine.backends.celery import WorkerRuntime, container_runner, slots

    runtime = WorkerRuntime(settings, container_runner(settings))
    runtime.start()
    if settings.worker_metrics_port is not None:
        from prometheus_client import start_http_server

        from assay.metrics import REGISTRY

        start_http_server(
            settings.worker_metrics_port, settings.worker_metrics_host, registry=REGISTRY
        )
    try:
        console.print(
            f"worker running {settings.workers} items at once from queue "
            f"{settings.broker_queue!r}; Ctrl-C to stop"
        )
        runtime.app.Worker(
            hostname=f"assay-{os.getpid()}@%h",
            pool="threads",
            concurrency=slots(settings),
            queues=[settings.broker_queue],
            loglevel="INFO",
            without_mingle=True,
            without_gossip=True,
            optimization="fair",
        ).start()
    finally:
        runtime.stop()
