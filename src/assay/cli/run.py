"""`assay run FILE.yaml`: run checks locally (no server), show progress and a verdict table.

Exit codes: 0 all checks passed, 1 a check failed its threshold, 2 the file or a setting is
wrong, 130 interrupted (Ctrl-C or SIGTERM: the run's evaluations are cancelled). ``--json``
prints machine-readable results instead of the table; ``--json-file``, ``--junit``, ``--csv``
and ``--html`` write result files (cli/outputs.py).
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from assay.cli.common import console, err_console, exit_on_error, local_settings, run_with_container
from assay.cli.outputs import (
    CSVOption,
    GateOption,
    HTMLOption,
    JSONFileOption,
    JUnitOption,
    output_files,
    with_gate,
    write_run_outputs,
)
from assay.core.errors import ConfigurationError
from assay.services.container import Container
from assay.services.runs import CheckResult, RunFile, RunInterrupted, load_run_file, run_checks


def run_with_progress(run: RunFile, show_progress: bool) -> list[CheckResult]:
    """Run the checks in this process, with a transient progress bar of items if asked.

    Ctrl-C and SIGTERM cancel the run's evaluations (finished items are kept), print what
    finished and exit 130.
    """
    try:
        return run_with_container(
            lambda container: _work(container, run, show_progress), local_settings()
        )
    except RunInterrupted as stopped:
        for result in stopped.results:
            view = result.evaluation
            err_console.print(
                f"{view.kind} {view.name or ''}: {view.finished_items} of {view.total_items} "
                f"items finished; evaluation {view.id} {view.status.value}",
                highlight=False,
            )
        err_console.print("[red]interrupted[/red]: nothing of this run is left running")
        raise typer.Exit(130) from None


async def _work(container: Container, run: RunFile, show_progress: bool) -> list[CheckResult]:
    main = asyncio.current_task()
    assert main is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    await container.start_engine(deliver_webhooks=False)
    # A transient bar shows nothing where the console is not interactive (a pipe, CI's log).
    if not show_progress or not console.is_interactive:
        return await run_checks(container, run)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(run.name or "evaluating", total=None)
        return await run_checks(
            container,
            run,
            lambda done, total: progress.update(task, completed=done, total=total),
        )


def execute(run: RunFile, as_json: bool) -> list[CheckResult]:
    """Run the checks with a progress bar (unless JSON) and print the results."""
    results = run_with_progress(run, show_progress=not as_json)
    failed = [r for r in results if not r.verdict.passed]
    if as_json:
        typer.echo(json.dumps([_as_dict(r) for r in results], indent=2, default=str))
    else:
        console.print(_table(run, results))
        summary = (
            "all checks passed" if not failed else f"{len(failed)} of {len(results)} checks failed"
        )
        console.print(f"[{'red' if failed else 'green'}]{summary}[/]")
    return results


def _as_dict(result: CheckResult) -> dict[str, object]:
    view = result.evaluation
    return {
        "id": view.id,
        "kind": view.kind,
        "name": view.name,
        "input": view.spec.params.get("input"),
        "status": view.status.value,
        "passed": result.verdict.passed,
        "result": result.verdict.result,
        "needs": result.verdict.needs,
        "reason": result.verdict.reason,
        "infra_errors": [r.model_dump() for r in view.infra_errors],
        "summary": view.summary,
        "error": view.error or view.infra_error_text,
    }


def _table(run: RunFile, results: list[CheckResult]) -> Table:
    table = Table(title=run.name or "Assay results", show_lines=False)
    table.add_column("kind", style="cyan", no_wrap=True)
    table.add_column("input", max_width=28)
    table.add_column("result")
    table.add_column("needs")
    table.add_column("", no_wrap=True)
    for result in results:
        view = result.evaluation
        verdict = result.verdict
        table.add_row(
            view.kind,
            str(
                view.spec.params.get("input", f"{len(result.check.params.get('cases', []))} cases")
            ),
            verdict.result + (f"\n[red]why:[/] {escape(verdict.reason)}" if verdict.reason else ""),
            result.verdict.needs,
            "[green]PASS[/]" if result.verdict.passed else "[red]FAIL[/]",
        )
    return table


def run(
    file: Annotated[
        Path,
        typer.Argument(help="A YAML run file: target, judge, checks.", exists=True, dir_okay=False),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
    json_file: JSONFileOption = None,
    junit: JUnitOption = None,
    csv: CSVOption = None,
    html: HTMLOption = None,
    gate: GateOption = None,
) -> None:
    """Run the checks of FILE locally and exit 1 if any fails its threshold."""
    with exit_on_error():
        run_file = with_gate(load_run_file(file), gate)
        files = output_files(junit, json_file, csv, html)
    results = execute(run_file, as_json)
    write_run_outputs(files, run_file, results, [_as_dict(r) for r in results], as_json)
    raise typer.Exit(exit_code(results))


def exit_code(results: list[CheckResult]) -> int:
    """The exit code of finished checks: 0 all passed, 1 one failed, 2 one could not run.

    A check that could not run for a setting (a missing key, a provider that cannot be built)
    is bad input, not a regression, so CI can tell the two apart.
    """
    if any(r.evaluation.error_code == ConfigurationError.code for r in results):
        return 2
    return 1 if any(not r.verdict.passed for r in results) else 0
