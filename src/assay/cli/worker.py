"""`assay worker`: run queued items without serving the API.

For more than one machine: `assay serve --no-workers` behind a load balancer, and as many
`assay worker` processes as needed on the same database (PostgreSQL). Workers are stateless;
items are claimed with leases, so a worker that dies loses nothing.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from assay.cli.common import console, run_with_container
from assay.services.container import Container
from assay.settings import get_settings


def worker(
    workers: Annotated[int | None, typer.Option(help="Items run at once (ASSAY_WORKERS).")] = None,
) -> None:
    """Claim and run queued items until interrupted (Ctrl-C or SIGTERM drains and stops)."""
    settings = get_settings()
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})

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
