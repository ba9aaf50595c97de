"""`assay view [DB]`: the web UI, read-only and with no sign-in, over a local database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from assay.api.app import create_app
from assay.cli.common import console
from assay.settings import get_settings


def view(
    database: Annotated[
        Path | None,
        typer.Argument(
            help="A SQLite file that `assay run`, `scan` or `quickstart` wrote "
            "(default: ASSAY_DATABASE_URL, ./assay.db).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
) -> None:
    """Open the evaluations of a local database in the browser UI, read-only, like `inspect view`.

    Nothing runs: no workers start, and the UI acts as a reviewer of the database's default
    organization, so it can show everything but start, cancel or delete nothing.
    """
    settings = get_settings()
    if database is not None:
        settings = settings.model_copy(
            update={"database_url": f"sqlite+aiosqlite:///{database.resolve()}"}
        )
    console.print(f"Assay view (read-only): http://{host}:{port}/ui/evaluations", highlight=False)
    uvicorn.run(
        create_app(settings, run_workers=False, local_viewer=True),
        host=host,
        port=port,
        log_level="warning",
    )
