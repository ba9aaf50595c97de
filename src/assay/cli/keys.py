"""`assay keys`: create, list and revoke API keys. A key is printed once and stored as a hash."""

from __future__ import annotations

from typing import Annotated

import typer

from assay.cli.common import exit_on_error, run_with_container
from assay.services.container import Container
from assay.services.keys import (
    KeyInfo,
    create_key,
    list_keys,
    operator_principal,
    parse_role,
    revoke_key,
)

app = typer.Typer(help="Manage API keys.", no_args_is_help=True)

OrgOption = Annotated[str, typer.Option(help="Organization slug.")]


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


@app.command("list")
def list_(org: OrgOption) -> None:
    """The organization's keys, newest first: id, prefix, role, workspace, user, state."""

    async def work(container: Container) -> list[KeyInfo]:
        return await list_keys(container, await operator_principal(container, org))

    keys = run_with_container(work)
    if not keys:
        typer.echo(f"{org} has no keys")
    for key in keys:
        typer.echo(_line(key))


@app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see `assay keys list`).")],
    org: OrgOption,
) -> None:
    """Revoke a key at once: its next request gets 401 and its web sessions end."""

    async def work(container: Container) -> KeyInfo:
        return await revoke_key(container, await operator_principal(container, org), key_id)

    typer.echo(_line(run_with_container(work)))


def _line(key: KeyInfo) -> str:
    state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
    return "  ".join(
        [
            key.id,
            f"{key.prefix}...",
            key.role,
            f"workspace {key.workspace}" if key.workspace else "all workspaces",
            key.user or "service key",
            f"created {key.created_at:%Y-%m-%d %H:%M}",
            state,
        ]
    )
