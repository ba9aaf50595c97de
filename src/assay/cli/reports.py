"""`assay report agreement`: the judge against the reviewers, and what review costs.

Reads the checkpointed runs of the database (``--db``, else ``ASSAY_DATABASE_URL``, else
./assay.db) as its default organization's admin, and prints the judge agreement report and
the checkpoint metrics of ``services/agreement.py`` (``--json``: both as one object).
Exit codes: 0 reported, 2 bad input (a judge that is not provider/model, a missing file).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from assay.cli.common import console, exit_on_error, run_with_container
from assay.cli.compare import DatabaseOption, database_settings

if TYPE_CHECKING:
    from rich.table import Table

    from assay.services.agreement import Agreement, CheckpointMetrics, JudgeAgreementReport
    from assay.services.container import Container

app = typer.Typer(help="Reports across evaluations.", no_args_is_help=True)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _kappa(agreement: Agreement) -> str:
    if agreement.kappa is None:
        return "-"
    interval = agreement.kappa_ci95
    shown = f"{agreement.kappa:.2f}"
    return shown + (f" [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else "")


def _agreement_table(report: JudgeAgreementReport) -> Table:
    from rich.table import Table

    table = Table(title=f"Judge {report.judge} against the reviewers ({report.runs} runs)")
    for column in (
        "question",
        "n",
        "agreement",
        "kappa [95% CI]",
        "reviewers approved",
        "judge approved",
    ):
        table.add_column(column)
    rows = [("all questions", report.overall), *((q.question, q) for q in report.questions)]
    for name, agreement in rows:
        table.add_row(
            name,
            str(agreement.n),
            _share(agreement.raw_agreement),
            _kappa(agreement),
            _share(agreement.reviewer_approval_rate),
            _share(agreement.judge_approval_rate),
        )
    return table


def _metrics_table(metrics: CheckpointMetrics) -> Table:
    from rich.table import Table

    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} s"

    table = Table(title=f"Review across {metrics.runs} runs")
    table.add_column("metric")
    table.add_column("value")
    taps, wait = metrics.taps_per_task, metrics.time_to_verify_seconds
    table.add_row(
        "taps per task (mean, p50)", "-" if taps.mean is None else f"{taps.mean:.2f}, {taps.p50:g}"
    )
    table.add_row(
        "time to verify p50 / p95", f"{seconds(wait.p50)} / {seconds(wait.p95)} (n={wait.n})"
    )
    for stage in metrics.rejection_rate_by_stage:
        table.add_row(
            f"rejected at stage {stage.stage}",
            f"{_share(stage.rate)} ({stage.rejected} of {stage.n})",
        )
    auto = metrics.auto_detected_rejected
    table.add_row(
        "auto-detected checkpoints rejected", f"{_share(auto.rate)} ({auto.rejected} of {auto.n})"
    )
    table.add_row("expired checkpoints", str(metrics.expired))
    return table


@app.command()
def agreement(
    db: DatabaseOption = None,
    judge: Annotated[
        str | None, typer.Option(help="The judge as provider/model (default: ASSAY_JUDGE_MODEL).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="The newest runs to read.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Compare an LLM judge's verdicts on decided checkpoints with the reviewers' (Cohen's kappa)."""
    with exit_on_error():
        settings = database_settings(db)

    async def work(container: Container) -> tuple[JudgeAgreementReport, CheckpointMetrics]:
        from assay.services import agreement as service
        from assay.services.runs import local_principal

        principal = await local_principal(container)
        report = await service.judge_agreement(container, principal, limit=limit, judge_model=judge)
        return report, await service.checkpoint_metrics(container, principal, limit=limit)

    report, metrics = run_with_container(work, settings)
    if as_json:
        dumped = {
            "agreement": report.model_dump(mode="json"),
            "metrics": metrics.model_dump(mode="json"),
        }
        typer.echo(json.dumps(dumped, indent=2))
        return
    console.print(_agreement_table(report))
    verdict = (
        "could verify instead of a person"
        if report.judge_could_verify
        else "should not verify alone yet"
    )
    console.print(
        f"the judge {verdict} (kappa's 95% interval against {report.kappa_gate})", highlight=False
    )
    console.print(_metrics_table(metrics))
