"""`assay scan TARGET --harness NAME`: a trust-score scan run locally, without a server.

The scan is one ``harness`` check run like ``assay run`` runs its checks (SQLite and the
in-process engine): the probes of every named harness, each once, against the target. A
harness is a built-in one (``trust_score``, ``security``, ``safety``, ``reliability``) or the
id of a custom harness stored in the local database.

TARGET is one of ``provider/model`` (``--base-url`` points ``openai`` at any compatible
server), ``python:package.module:function`` (an agent in this process; the current
directory is importable) or ``agent:ID`` (an agent registered in the local database).

Exit codes: 0 the scan finished and met ``--fail-under`` (without a gate it only reports,
and exits 0), 1 it did not (or nothing could be scored), 2 bad input (an unknown harness, a
malformed target). ``--junit``, ``--csv`` and ``--json-file`` write one case per probe
(cli/outputs.py).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from assay.cli.common import console, exit_on_error
from assay.cli.outputs import (
    CSVOption,
    GateOption,
    JSONFileOption,
    JUnitOption,
    output_files,
    write_scan_outputs,
)
from assay.cli.run import exit_code, run_with_progress
from assay.core.errors import ValidationFailed
from assay.core.verdict import TRUST_DIMENSIONS, Gate
from assay.services.runs import Check, CheckResult, RunFile, RunTarget

#: Failures listed under the table (the JSON and the HTML report list every one).
TOP_FAILURES = 10
TARGET_FORMS = "provider/model, python:package.module:function or agent:ID"


def target_from_text(text: str, base_url: str | None) -> RunTarget:
    """Parse TARGET once into the run file's target.

    Raises:
        ValidationFailed: TARGET has none of the three forms, or ``--base-url`` was given
            for a target that is not a model.
    """
    prefix, sep, rest = text.partition(":")
    if sep and prefix in ("python", "agent"):
        if not rest:
            raise ValidationFailed.for_field(("TARGET",), f"{prefix}: needs a value after it")
        if base_url:
            raise ValidationFailed.for_field(("--base-url",), "only applies to a model target")
        if prefix == "agent":
            return RunTarget(agent=rest)
        return RunTarget(kind="python", name=rest, config={"callable": rest})
    provider, slash, model = text.partition("/")
    if not slash or not provider or not model:
        raise ValidationFailed.for_field(("TARGET",), f"must be {TARGET_FORMS}, got {text!r}")
    return RunTarget(model=text, base_url=base_url)


def scan_run(
    target: str,
    harnesses: list[str],
    *,
    system_prompt: str | None = None,
    transforms: list[str] | None = None,
    attacker: str | None = None,
    base_url: str | None = None,
    judge: str | None = None,
    fail_under: float | None = None,
    fail_under_dimension: float | None = None,
    gate: Gate | None = None,
) -> RunFile:
    """The scan as a run file of one ``harness`` check; its probes are resolved when it runs.

    Raises:
        ValidationFailed: a malformed TARGET (unknown harnesses are found when it runs).
    """
    params: dict[str, Any] = {"harnesses": harnesses}
    if system_prompt is not None:
        params["system_prompt"] = system_prompt
    if transforms:
        params["transforms"] = transforms
    if attacker is not None:
        params["attacker"] = attacker
    return RunFile(
        name=f"scan of {target}",
        target=target_from_text(target, base_url),
        judge=judge,
        checks=[
            Check(
                kind="harness",
                params=params,
                min_trust_score=fail_under,
                min_dimension_score=fail_under_dimension,
                gate=gate,
            )
        ],
    )


def scan_results(result: CheckResult, target: str) -> dict[str, Any]:
    """The scan as JSON: the API's results shape plus the verdict, dimensions and counts."""
    view = result.evaluation
    summary = view.summary or {}
    return {
        "id": view.id,
        "status": view.status.value,
        "target": target,
        "harnesses": view.spec.params.get("harnesses", []),
        "trust_score": summary.get("trust_score"),
        "trust_score_ci95": summary.get("trust_score_ci95"),
        **{f"{d}_score": summary.get(f"{d}_score") for d in TRUST_DIMENSIONS},
        "completed_at": view.completed_at.isoformat() if view.completed_at else None,
        "passed": result.verdict.passed,
        "gated": result.verdict.needs != "-",
        "verdict": result.verdict.result,
        "needs": result.verdict.needs,
        "error": view.error,
        "infra_errors": view.infra_error_text,
        "dimensions": summary.get("dimensions", {}),
        "failures": summary.get("failures", []),
        "summary": summary.get("summary", {}),
        "counts": summary.get("counts", {}),
        "usage": summary.get("usage", {}),
        "by_transform": summary.get("by_transform", {}),
    }


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _clip(text: str | None, width: int) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _scores_table(data: dict[str, Any]) -> Table:
    table = Table(title=f"Trust scan of {data['target']}", title_justify="left")
    table.add_column("dimension", style="cyan")
    table.add_column("score", justify="right")
    table.add_column("passed", justify="right")
    table.add_column("pass rate (95% CI)", justify="right")
    for name, block in data["dimensions"].items():
        rate, interval = block.get("pass_rate"), block.get("pass_rate_ci95")
        table.add_row(
            name,
            _score(block.get("score")),
            f"{block.get('passed', 0)}/{block.get('passed', 0) + block.get('failed', 0)}",
            "-"
            if rate is None
            else f"{rate:.0%}"
            + (f" ({interval['lower']:.0%}-{interval['upper']:.0%})" if interval else ""),
        )
    table.add_section()
    table.add_row(Text("trust", style="bold"), Text(_score(data["trust_score"]), style="bold"))
    table.caption = f"harnesses: {', '.join(data['harnesses'])}; score: severity-weighted"
    return table


def _failures_table(failures: list[dict[str, Any]]) -> Table:
    shown = failures[:TOP_FAILURES]
    table = Table(title=f"Top failures ({len(shown)} of {len(failures)})", title_justify="left")
    for column in ("severity", "probe", "reason", "prompt", "response"):
        table.add_column(column, overflow="fold")
    for failure in shown:
        table.add_row(
            *(
                Text(_clip(failure.get(field), width))
                for field, width in (
                    ("severity", 6),
                    ("probe_id", 40),
                    ("reason", 50),
                    ("prompt", 50),
                    ("response", 50),
                )
            )
        )
    return table


def _transforms_table(by_transform: dict[str, Any]) -> Table:
    """One row per transform (``none``: the probes as written).

    A rewriting that defeats a dimension stands out against the first row.
    """
    table = Table(title="By transform", title_justify="left")
    table.add_column("transform", style="cyan")
    for dimension in TRUST_DIMENSIONS:
        table.add_column(dimension, justify="right")
    table.add_column("failed", justify="right")
    for name, block in by_transform.items():
        scores = block.get("dimensions", {})
        table.add_row(
            name,
            *(_score(scores.get(d)) for d in TRUST_DIMENSIONS),
            f"{block['failed']}/{block['total']}",
        )
    return table


def _print(data: dict[str, Any]) -> None:
    if data["error"]:
        console.print(Text(f"the scan could not run: {data['error']}", style="red"))
    if data["dimensions"]:
        console.print(_scores_table(data))
    if data["by_transform"]:
        console.print(_transforms_table(data["by_transform"]))
    if data["failures"]:
        console.print(_failures_table(data["failures"]))
    if data["infra_errors"]:
        console.print(Text(f"{data['infra_errors']} (left out of the scores)", "yellow"))
    if data["passed"] and not data["gated"]:
        # Without a gate the scan reports; a green PASS would claim a bar nobody set.
        console.print(
            Text(f"{data['verdict']} (no --fail-under given: reported, not gated)"),
            highlight=False,
        )
        return
    verdict = f"{'PASS' if data['passed'] else 'FAIL'}: {data['verdict']}"
    if data["gated"]:
        verdict += f" (needs {data['needs']})"
    console.print(Text(verdict, style="green" if data["passed"] else "red"))


def scan(
    target: Annotated[str, typer.Argument(help=f"What to scan: {TARGET_FORMS}.")],
    harness: Annotated[
        list[str],
        typer.Option(
            "--harness",
            "-H",
            help="A harness: trust_score, security, safety, reliability, or a custom harness id.",
        ),
    ],
    system_prompt: Annotated[
        str | None, typer.Option(help="System prompt sent before every probe.")
    ] = None,
    transform: Annotated[
        list[str] | None,
        typer.Option(
            "--transform",
            "-T",
            help="Also run every probe rewritten: base64, hex, rot13, leetspeak, case, "
            "whitespace, translate:<code>, paraphrase (repeatable).",
        ),
    ] = None,
    attacker: Annotated[
        str | None,
        typer.Option(
            help="Who writes multi-turn attack turns (-H multi_turn): scripted (default) or "
            "provider/model."
        ),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="Base URL of an OpenAI-compatible server (model targets).")
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option(
            help="Judge for probes rules cannot decide, provider/model.", show_default=False
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", "--html", help="Write a self-contained HTML report here.", dir_okay=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    json_file: JSONFileOption = None,
    junit: JUnitOption = None,
    csv: CSVOption = None,
    fail_under: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Exit 1 when the trust score is below this (0-1)."),
    ] = None,
    fail_under_dimension: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Exit 1 when any dimension score is below this."),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(help="An earlier scan's evaluation id: compare each dimension with it."),
    ] = None,
    gate: GateOption = None,
) -> None:
    """Run trust-score harnesses against TARGET locally and report the scores and failures."""
    with exit_on_error():
        if report is not None and not report.parent.is_dir():
            raise ValidationFailed.for_field(("--report",), f"no directory {report.parent}")
        files = output_files(junit, json_file, csv, None)
        run = scan_run(
            target,
            harness,
            system_prompt=system_prompt,
            transforms=transform,
            attacker=attacker,
            base_url=base_url,
            judge=judge,
            fail_under=fail_under,
            fail_under_dimension=fail_under_dimension,
            gate=gate,
        )
    if run.target.kind == "python" and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`: the agent's module may sit here
    # The baseline's comparison and the HTML report (jinja2) are imported only when asked for.
    if baseline is not None:
        from assay.cli.compare import check_scan_baseline

        check_scan_baseline(baseline)
    [result] = run_with_progress(run, show_progress=not as_json)
    data = scan_results(result, target)
    comparison = None
    if baseline is not None:
        from assay.cli.compare import compare_with_baseline
        from assay.services.compare import baseline_summary

        comparison = compare_with_baseline(baseline, result)
        data["baseline"] = baseline_summary(comparison)
    if report is not None:
        from assay.cli.report import render_report

        report.write_text(render_report(data), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        _print(data)
        if comparison is not None:
            from assay.cli.compare import comparison_table

            console.print(comparison_table(comparison))
        if report is not None:
            console.print(f"report written to {report}", highlight=False)
    write_scan_outputs(files, target, result, data, as_json)
    raise typer.Exit(exit_code([result]))
