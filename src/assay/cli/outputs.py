"""The options for CI that ``assay run`` and ``assay scan`` share: result files and gates.

``--junit``, ``--json-file``, ``--csv`` and ``--html`` each take a file, and several may be
given at once: every file comes from the same results, and the table still prints. (``--json``
stays the flag it always was: JSON on standard output instead of the table. Typer options
cannot take an optional value, so the file has its own option.)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from assay.cli.common import console, local_settings, run_with_container
from assay.core.verdict import Gate
from assay.reports.cases import check_cases, probe_cases
from assay.reports.files import OutputFiles, write_outputs
from assay.services.runs import CheckResult, RunFile

if TYPE_CHECKING:
    from assay.core.evaluation import ItemDetail
    from assay.services.container import Container

JUnitOption = Annotated[
    Path | None,
    typer.Option(
        "--junit", help="Write a JUnit XML file (one test case per check or probe).", dir_okay=False
    ),
]
JSONFileOption = Annotated[
    Path | None,
    typer.Option(
        "--json-file", help="Write the results as JSON (what --json prints).", dir_okay=False
    ),
]
CSVOption = Annotated[
    Path | None,
    typer.Option("--csv", help="Write a CSV file (one row per check or probe).", dir_okay=False),
]
HTMLOption = Annotated[
    Path | None,
    typer.Option("--html", help="Write a self-contained HTML report.", dir_okay=False),
]


def output_files(
    junit: Path | None, json_file: Path | None, csv: Path | None, html: Path | None
) -> OutputFiles:
    """The files asked for; raises ValidationFailed naming the option if a folder is missing."""
    files = OutputFiles(junit=junit, json=json_file, csv=csv, html=html)
    files.check()
    return files


def _announce(paths: list[Path], quiet: bool) -> None:
    if not quiet:
        for path in paths:
            console.print(f"wrote {path}", highlight=False)


def write_run_outputs(
    files: OutputFiles, run: RunFile, results: list[CheckResult], data: Any, quiet: bool
) -> None:
    """A run's files: one case per check; ``data`` is what ``--json`` prints."""
    title = run.name or "Assay results"
    cases = check_cases(title, results)
    html = None
    if files.html:
        from assay.cli.report import render_run_report  # jinja2: only for an HTML report

        html = render_run_report(title, cases)
    _announce(write_outputs(files, title=title, cases=cases, data=data, html=html), quiet)


def write_scan_outputs(
    files: OutputFiles, target: str, result: CheckResult, data: dict[str, Any], quiet: bool
) -> None:
    """A scan's files but its HTML report (``--report``): one case per probe, read back."""
    from assay.services import items as item_service
    from assay.services.runs import local_principal

    async def probes(container: Container) -> list[ItemDetail]:
        principal = await local_principal(container)
        return await item_service.item_results(
            container, principal, result.evaluation.id, limit=result.evaluation.total_items
        )

    title = f"scan of {target}"
    items = run_with_container(probes, local_settings()) if files.junit or files.csv else []
    cases = probe_cases(title, result, items)
    _announce(write_outputs(files, title=title, cases=cases, data=data, html=None), quiet)


GateOption = Annotated[
    Gate | None,
    typer.Option(
        "--gate",
        help="Compare the thresholds with: point (the measured value), lower-bound (of its 95% "
        "interval) or pass^k (cases whose repeated runs all passed).",
        show_default=False,
    ),
]


def with_gate(run: RunFile, gate: Gate | None) -> RunFile:
    """The run file with ``--gate`` set on every check (it overrides each check's ``gate``)."""
    if gate is None:
        return run
    return run.model_copy(
        update={"checks": [check.model_copy(update={"gate": gate}) for check in run.checks]}
    )
