"""`assay bench run`: run a task benchmark locally, in real sandboxes, and show its analytics.

Without a key or a network: ``--agent oracle`` runs every task's reference solution (a
dataset check), ``--agent react`` drives the built-in tool-using agent with a model, by
default the offline scripted ``mock/react``. Item states are printed as they move.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from assay.cli.common import console, exit_on_error, local_settings, run_with_container
from assay.core.evaluation import EvaluationView
from assay.core.spec import EvaluationSpec, Limits, ModelRef, TargetSpec
from assay.services import evaluations as evaluation_service
from assay.services.container import Container
from assay.services.runs import local_principal
from assay.tasks.format import load_tasks

app = typer.Typer(help="Sandboxed task benchmarks.", no_args_is_help=True)

_SHOWN_STATES = (
    "queued", "claiming", "provisioning", "agent_running", "agent_finished", "verifying",
    "passed", "failed", "errored", "timed_out", "infra_error", "cancelled",
)  # fmt: skip


def _params(
    agent: str,
    model: str,
    tasks: str | None,
    capability: str | None,
    dataset: Path | None,
    timeout: float,
) -> dict[str, Any]:
    source: dict[str, Any] = {"builtin": "security"}
    if dataset is not None:
        with exit_on_error():
            source = {"tasks": [t.model_dump(mode="json") for t in load_tasks(dataset)]}
    params: dict[str, Any] = {"dataset": source, "agent_type": agent, "task_timeout_sec": timeout}
    if agent == "react":
        params["model"] = model
    if tasks:
        params["task_names"] = [name.strip() for name in tasks.split(",") if name.strip()]
    if capability:
        params["capability"] = capability
    return params


async def _run(
    container: Container, params: dict[str, Any], concurrency: int, quiet: bool
) -> EvaluationView:
    await container.start_engine()
    spec = EvaluationSpec(
        kind="task_benchmark",
        name=f"bench {params['agent_type']}",
        target=TargetSpec(kind="model", model=ModelRef.parse(params.get("model", "mock/none"))),
        params=params,
        limits=Limits(item_timeout_s=params["task_timeout_sec"] + 300, max_concurrency=concurrency),
    )
    principal = await local_principal(container)
    view = await evaluation_service.create_evaluation(container, principal, spec)
    last = ""
    while not await evaluation_service.is_finished(container, principal, view.id):
        await container.wait_for_change(view.id, 0.1)
        counts = (
            await evaluation_service.get_evaluation(container, principal, view.id, with_counts=True)
        ).item_counts
        line = " · ".join(f"{s} {counts[s]}" for s in _SHOWN_STATES if counts.get(s))
        if line != last and not quiet:
            console.print(line, highlight=False)
            last = line
    return await evaluation_service.get_evaluation(container, principal, view.id, with_counts=True)


def _rate(block: dict[str, Any]) -> str:
    if block["pass_rate"] is None:
        return "-"
    low, high = block["pass_rate_ci95"]
    return f"{block['pass_rate']:.0%} [{low:.0%}, {high:.0%}] of {block['scored']}"


def _tables(summary: dict[str, Any]) -> list[Table]:
    rates = Table(title="pass rate (95% Wilson interval)")
    rates.add_column("group")
    rates.add_column("pass rate")
    rates.add_column("infra errors", justify="right")
    rates.add_row("overall", _rate(summary["overall"]), str(summary["overall"]["infra_error"]))
    for axis in ("by_capability", "by_difficulty"):
        for name, block in summary[axis].items():
            rates.add_row(f"{axis[3:]}: {name}", _rate(block), str(block["infra_error"]))
    durations = Table(title="durations (s)")
    durations.add_column("phase")
    durations.add_column("p50", justify="right")
    durations.add_column("p95", justify="right")
    for phase, spread in summary["durations_s"].items():
        if spread["n"]:
            durations.add_row(phase, f"{spread['p50']:.3f}", f"{spread['p95']:.3f}")
    return [rates, durations]


@app.command("run")
def run(
    agent: Annotated[str, typer.Option(help="oracle or react.")] = "oracle",
    model: Annotated[str, typer.Option(help="The react agent's model.")] = "mock/react",
    tasks: Annotated[str | None, typer.Option(help="Comma-separated task names.")] = None,
    capability: Annotated[str | None, typer.Option(help="Only tasks with this tag.")] = None,
    dataset: Annotated[
        Path | None,
        typer.Option(
            help="A folder of task folders (default: the shipped benchmark).",
            file_okay=False,
            exists=True,
        ),
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=256)] = 4,
    timeout: Annotated[float, typer.Option(help="The agent's seconds per task.")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run a task benchmark here, each task in its own bwrap sandbox, and print the analytics."""
    if agent not in ("oracle", "react"):
        raise typer.BadParameter("must be oracle or react", param_hint="--agent")
    params = _params(agent, model, tasks, capability, dataset, timeout)
    view = run_with_container(
        lambda container: _run(container, params, concurrency, quiet=as_json), local_settings()
    )
    summary = view.summary or {}
    if as_json:
        typer.echo(json.dumps({"id": view.id, "status": view.status.value, "summary": summary}))
        return
    for table in _tables(summary):
        console.print(table)
    console.print(
        f"sandbox start p50 {summary['durations_s']['sandbox_start']['p50']} s · "
        f"infra errors {summary['infra_errors']} · cleanup failures {summary['cleanup_failures']} · "
        f"tokens {summary['usage']['input_tokens']} in, {summary['usage']['output_tokens']} out",
        highlight=False,
    )
