"""`assay keys create`: a new API key, printed once on stdout and stored only as a hash."""

from __future__ import annotations

from typing import Annotated

import typer

from assay.cli.common import exit_on_error, run_with_container
from assay.services.keys import create_key, parse_role

app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


@app.command("create")
def create(
    org: Annotated[str, typer.Option(help="Organization slug; created if missing.")],
    workspace: Annotated[
        str | None, typer.Option(help="Limit the key to this workspace (created if missing).")
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(help="admin, member or reviewer; default: the user's role, else member."),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(help="Email of the user the key belongs to (see `assay users add`)."),
    ] = None,
) -> None:
    """Create an API key and print it (only the key, so scripts can capture it)."""
    with exit_on_error():
        parsed = parse_role(role, "--role") if role is not None else None
    key = run_with_container(lambda c: create_key(c, org, workspace, parsed, user))
    typer.echo(key)
