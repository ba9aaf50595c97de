"""`assay serve`: the API (and, unless --no-workers, the in-process engine)."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from assay.api.app import create_app
from assay.settings import get_settings


def serve(
    host: Annotated[
        str, typer.Option(envvar="ASSAY_HOST", help="Interface to bind.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="ASSAY_PORT", help="Port to listen on.")] = 8000,
    no_workers: Annotated[
        bool, typer.Option("--no-workers", help="Serve the API only; items run elsewhere.")
    ] = False,
    workers: Annotated[int | None, typer.Option(help="Items run at once (ASSAY_WORKERS).")] = None,
) -> None:
    """Serve the API; migrations are applied on start."""
    settings = get_settings()
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    uvicorn.run(
        create_app(settings, run_workers=not no_workers), host=host, port=port, log_level="info"
    )
