"""`assay secrets rotate-key`: re-encrypt every stored secret under a new key."""

from __future__ import annotations

import asyncio

import typer

from assay.cli.common import console, exit_on_error
from assay.services.key_rotation import KeyProposal, rotate_key
from assay.settings import get_settings

app = typer.Typer(help="Manage the key that encrypts stored secrets.", no_args_is_help=True)

_INSTALL_STEPS = """\
ASSAY_SECRET_KEY is set, so nothing was changed: the key printed on stdout is for you to install.
On every server and worker set
  ASSAY_SECRET_KEY=<the new key>
  ASSAY_SECRET_KEY_PREVIOUS=<the current key>
restart them, and run `assay secrets rotate-key` again with the same settings."""


@app.command("rotate-key")
def rotate_key_command() -> None:
    """Re-encrypt every stored secret under a new key; safe to interrupt and run again.

    With the generated key file, one run does it all (stop `assay serve` and workers first).
    With ASSAY_SECRET_KEY, a first run prints a new key to install beside the old one in
    ASSAY_SECRET_KEY_PREVIOUS, and a second run re-encrypts.
    """
    with exit_on_error():
        result = asyncio.run(rotate_key(get_settings()))
    if isinstance(result, KeyProposal):
        typer.echo(result.new_key)
        typer.echo(_INSTALL_STEPS, err=True)
        return
    report = result.report
    console.print(
        f"re-encrypted {report.total_resealed} of {report.total_stored} stored secrets",
        highlight=False,
    )
    if result.key_file is not None:
        console.print(f"{result.key_file} now holds only the new key", highlight=False)
    else:
        console.print(
            "every stored secret opens with ASSAY_SECRET_KEY alone: remove "
            "ASSAY_SECRET_KEY_PREVIOUS from every server and worker and restart them",
            highlight=False,
        )
