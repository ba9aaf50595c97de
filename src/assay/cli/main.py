"""The `assay` command.

Each subcommand's module is imported only when that subcommand runs (or help lists it), so
`assay run` never pays for the server, the web UI or the sandbox code. To add a command, add a
line to ``COMMANDS``: its name, and where its Typer app or function lives.
"""

from __future__ import annotations

import importlib
from importlib.metadata import version

import typer
from typer.core import DEFAULT_MARKUP_MODE, TyperCommand, TyperGroup
from typer.models import CommandInfo

from assay.cli.help import plain_help

plain_help()

#: name -> "module:attribute" under ``assay.cli``; the attribute is a Typer app or a function.
COMMANDS: dict[str, str] = {
    "serve": "serve:serve",
    "worker": "worker:worker",
    "init": "init:init",
    "run": "run:run",
    "scan": "scan:scan",
    "quickstart": "quickstart:quickstart",
    "view": "view:view",
    "keys": "keys:app",
    "users": "users:app",
    "review": "review:app",
    "webhooks": "webhooks:app",
    "secrets": "secrets:app",
    "bench": "bench:app",
    "tasks": "tasks:app",
    "compare": "compare:compare",
    "report": "reports:app",
}


def load_command(name: str) -> TyperCommand | TyperGroup:
    """Import one subcommand's module and build its click command."""
    module, attribute = COMMANDS[name].split(":")
    target = getattr(importlib.import_module(f"assay.cli.{module}"), attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)  # a group even when it has one command
        group.name = name
        return group
    command = typer.main.get_command_from_info(
        CommandInfo(name=name, callback=target),
        pretty_exceptions_short=True,
        rich_markup_mode=DEFAULT_MARKUP_MODE,
    )
    assert isinstance(command, TyperCommand)
    return command


class LazyGroup(TyperGroup):
    """A Typer group whose subcommands are loaded on first use."""

    def list_commands(self, ctx: object) -> list[str]:  # noqa: ARG002 (click's signature)
        return list(COMMANDS)

    def get_command(self, ctx: object, cmd_name: str) -> TyperCommand | TyperGroup | None:  # noqa: ARG002
        return load_command(cmd_name) if cmd_name in COMMANDS else None


app = typer.Typer(
    cls=LazyGroup,
    help="Assay: self-hosted evaluation of AI agents and models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"assay {version('assay')}")
        raise typer.Exit()


@app.callback()
def main(
    _version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Assay: self-hosted evaluation of AI agents and models."""
