"""`assay users add`: people who can review checkpoints or own evaluations."""

from __future__ import annotations

from typing import Annotated

import typer

from assay.cli.common import console, exit_on_error, run_with_container
from assay.services.keys import parse_role
from assay.services.tenancy import add_user

app = typer.Typer(help="Manage users.", no_args_is_help=True)


@app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="The user's email address.")],
    org: Annotated[str, typer.Option(help="Organization slug (must exist).")],
    role: Annotated[str, typer.Option(help="admin, member or reviewer.")] = "reviewer",
) -> None:
    """Add a user to an organization, or change their role."""
    with exit_on_error():
        parsed = parse_role(role, "--role")
    run_with_container(lambda c: add_user(c, email, org, parsed))
    console.print(f"{email} is a {parsed.value} of {org}")
