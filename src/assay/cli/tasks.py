"""`assay tasks check DIR` and `assay tasks import DIR`: validating and converting task folders.

`check`: every task passes with its oracle and fails doing nothing. Exit codes: 0 every task
is sound, 1 some task is not, 2 the folder holds no task or a task is malformed. `import`:
Harbor task folders into Assay's format (``tasks/harbor.py``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from assay.cli.common import console, exit_on_error
from assay.core.errors import ValidationFailed
from assay.sandbox import get_provider
from assay.settings import get_settings
from assay.tasks.checks import TaskCheck, check_tasks
from assay.tasks.format import BUILTIN_DATASETS, Task, load_task, load_tasks

app = typer.Typer(help="Task folders of sandboxed benchmarks.", no_args_is_help=True)


def _table(checks: list[TaskCheck]) -> Table:
    table = Table(title="task checks")
    table.add_column("task")
    table.add_column("oracle")
    table.add_column("doing nothing")
    table.add_column("")
    for check in checks:
        table.add_row(
            check.task,
            check.oracle.reason,
            check.nothing.reason,
            "[green]OK[/]" if check.ok else "[red]BROKEN[/]",
        )
    return table


def _tasks_in(folder: Path) -> list[Task]:
    """The tasks of a folder of task folders, or the one task the folder is.

    A folder with no task is an error: "all 0 tasks are sound" would pass a CI gate for a
    mistyped path.
    """
    if (folder / "task.toml").is_file():
        return [load_task(folder)]
    tasks = load_tasks(folder)
    if not tasks:
        raise ValidationFailed.for_field(
            ("folder",), f"{folder} holds no task (a task is a folder with a task.toml)"
        )
    return tasks


@app.command("check")
def check(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="A task folder, or a folder of them (default: the shipped benchmark).",
            file_okay=False,
            exists=True,
        ),
    ] = None,
    provider: Annotated[str, typer.Option(help="Sandbox provider.")] = "bwrap",
    concurrency: Annotated[int, typer.Option(min=1, max=64)] = 4,
) -> None:
    """Run every task of FOLDER with its reference solution and with an agent doing nothing."""
    with exit_on_error():
        tasks = _tasks_in(folder or BUILTIN_DATASETS["security"])
        sandboxes = get_provider(provider, get_settings().sandbox_policy)
        checks = asyncio.run(check_tasks(sandboxes, tasks, concurrency))
    console.print(_table(checks))
    broken = [c.task for c in checks if not c.ok]
    if broken:
        console.print(f"[red]{len(broken)} of {len(checks)} tasks are broken[/]")
        raise typer.Exit(1)
    sound = "the task is sound" if len(checks) == 1 else f"all {len(checks)} tasks are sound"
    console.print(f"[green]{sound}[/]")


@app.command("import")
def import_harbor(
    folder: Annotated[
        Path,
        typer.Argument(
            help="A Harbor task folder, or a folder of them.", file_okay=False, exists=True
        ),
    ],
    into: Annotated[
        Path | None,
        typer.Option(help="Where the Assay task folders go (default: ./<FOLDER>-assay)."),
    ] = None,
) -> None:
    """Convert Harbor-style task folders into Assay's task format, with notes on what to check.

    Exit codes: 0 every task converted, 1 some task could not be, 2 FOLDER holds no task.
    """
    from assay.tasks.harbor import NOTES_FILE, import_tasks

    target = into or Path.cwd() / f"{folder.resolve().name}-assay"
    with exit_on_error():
        results = import_tasks(folder, target)
    table = Table(title=f"imported into {target}")
    table.add_column("task")
    table.add_column("")
    table.add_column("to check")
    for result in results:
        status = f"[red]{result.error}[/]" if result.error else "[green]OK[/]"
        table.add_row(result.name, status, str(len(result.notes)))
    console.print(table)
    failed = [r.name for r in results if r.error]
    console.print(
        f"notes per task in {NOTES_FILE}; `assay tasks check {target}` runs each with its "
        "solution and with an agent doing nothing"
    )
    if failed:
        console.print(f"[red]{len(failed)} of {len(results)} tasks were not imported[/]")
        raise typer.Exit(1)
