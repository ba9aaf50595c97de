"""create_app(settings) -> FastAPI. No module-level app state: each app owns its container."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from assay import __version__
from assay.api.body_limit import BodyLimit
from assay.api.deps import reject_unstorable_url_text
from assay.api.dialects.benchmarks.router import router as benchmarks_router
from assay.api.dialects.eval_runs.router import router as eval_runs_router
from assay.api.dialects.eval_tasks.router import router as eval_tasks_router
from assay.api.dialects.projects.router import router as projects_router
from assay.api.docs import router as docs_router
from assay.api.errors import install_error_handlers
from assay.api.health import router as health_router
from assay.api.openapi import install_openapi
from assay.api.v1.agents import router as agents_router
from assay.api.v1.comparisons import router as comparisons_router
from assay.api.v1.evaluations import router as evaluations_router
from assay.api.v1.harnesses import router as harnesses_router
from assay.api.v1.items import router as items_router
from assay.api.v1.keys import router as keys_router
from assay.api.v1.reports import router as reports_router
from assay.services.container import open_container
from assay.settings import Settings
from assay.web.mount import mount_ui


def create_app(
    settings: Settings, *, run_workers: bool = True, local_viewer: bool = False
) -> FastAPI:
    """The Assay service, with the web UI under /ui.

    On start it migrates the database and, unless ``run_workers`` is False, runs an
    in-process engine that executes queued items; with a broker it always publishes queued
    items to it instead, and `assay worker` processes run them. ``local_viewer`` (``assay view``) serves
    the UI with no sign-in, read-only, over the local database's default organization.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container = await open_container(settings)
        try:  # a start that fails half-way closes what it opened
            # Built now, not on the first request: a bad rate-limit storage fails the start.
            _ = container.rate_limits
            if run_workers or settings.broker_url is not None:
                await container.start_engine(apart_from_api=True)
            app.state.container = container
            yield
        finally:
            await container.aclose()

    app = FastAPI(
        title="Assay",
        version=__version__,
        description="Self-hosted evaluation of AI agents and models.",
        lifespan=lifespan,
        dependencies=[Depends(reject_unstorable_url_text)],
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.include_router(health_router)
    app.include_router(docs_router)
    app.include_router(agents_router)
    app.include_router(evaluations_router)
    app.include_router(comparisons_router)
    app.include_router(harnesses_router)
    app.include_router(items_router)
    app.include_router(reports_router)
    app.include_router(keys_router)
    app.include_router(eval_runs_router)
    app.include_router(eval_tasks_router)
    app.include_router(projects_router)
    install_openapi(app)
    mount_ui(app, local=local_viewer)
    app.include_router(benchmarks_router)
    return app
