"""`assay init`: org, workspace and project `default`, and a first admin key."""

from __future__ import annotations

from typing import Annotated

import typer

from assay.cli.common import console, run_with_container
from assay.services.tenancy import init_defaults


def init(
    force: Annotated[
        bool,
        typer.Option("--force", help="Make another admin key even if one already exists."),
    ] = False,
) -> None:
    """Create the default organization, workspace and project, and print an admin key."""
    key = run_with_container(lambda container: init_defaults(container, force=force))
    console.print("Created organization, workspace and project [bold]default[/bold].")
    console.print("Admin API key (shown once, store it now):")
    console.print(key, highlight=False, soft_wrap=True)
