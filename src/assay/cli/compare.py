"""`assay compare A B`: is B better than A, item by item, with intervals and a verdict.

A and B are evaluation ids of the database (``--db``, else ``ASSAY_DATABASE_URL``, else
./assay.db), or files of results that ``assay run --json`` printed: their checks are compared
in order, each with the check at the same place in the other file.

Exit codes: 0 compared (and, with ``--fail-if-worse``, nothing is significantly worse), 1
``--fail-if-worse`` and some comparison is worse, 2 bad input (an unknown id, a file that is
not results, evaluations of different kinds).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from assay.cli.common import console, exit_on_error, local_settings, run_with_container
from assay.core.errors import ValidationFailed

if TYPE_CHECKING:
    from rich.table import Table

    from assay.core.comparison import Comparison, GroupComparison
    from assay.services.container import Container
    from assay.services.runs import CheckResult
    from assay.settings import Settings

#: Changed items listed under the table, at most.
SHOWN_CHANGES = 10
#: ``--db``: the local database a command reads.
DatabaseOption = Annotated[
    Path | None,
    typer.Option(
        help="The SQLite database (default: ASSAY_DATABASE_URL, ./assay.db).", dir_okay=False
    ),
]


def database_settings(db: Path | None) -> Settings:
    """The local commands' settings, on the SQLite file ``db`` when one is given.

    Raises:
        ValidationFailed: ``db`` is not a file (a typo must not create an empty database).
    """
    settings = local_settings()
    if db is None:
        return settings
    if not db.is_file():
        raise ValidationFailed(f"--db {db}: no such file")
    return settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{db.resolve()}"})


def evaluation_ids(reference: str, field: str) -> list[str]:
    """The evaluation ids ``reference`` names: itself, or the checks of a results file."""
    path = Path(reference)
    if not path.is_file():
        return [reference]
    try:
        data: Any = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed.for_field(
            (field,), f"{path}: not a JSON results file ({exc})"
        ) from None
    if isinstance(data, dict):
        data = data.get("checks", data.get("results", [data]))
    ids = [entry.get("id") for entry in data] if isinstance(data, list) else []
    if not ids or not all(isinstance(entry, str) for entry in ids):
        raise ValidationFailed.for_field(
            (field,), f"{path}: expected the results of `assay run --json` (checks with an id)"
        )
    return ids


async def _compare_all(container: Container, pairs: list[tuple[str, str]]) -> list[Comparison]:
    from assay.services.compare import compare_evaluations
    from assay.services.runs import local_principal

    principal = await local_principal(container)
    return [await compare_evaluations(container, principal, a, b) for a, b in pairs]


def check_scan_baseline(baseline_id: str) -> None:
    """Exit 2 before a scan runs when ``--baseline`` is not a harness evaluation of the database."""

    async def check(container: Container) -> None:
        from assay.services.compare import check_baseline
        from assay.services.runs import local_principal

        principal = await local_principal(container)
        await check_baseline(container, principal, baseline_id, "harness", "--baseline")

    run_with_container(check, local_settings())


def compare_with_baseline(baseline_id: str, result: CheckResult) -> Comparison:
    """The scan's evaluation against its ``--baseline``."""
    pair = [(baseline_id, result.evaluation.id)]
    [comparison] = run_with_container(lambda c: _compare_all(c, pair), local_settings())
    return comparison


def _percent(value: float) -> str:
    return f"{value * 100:+.1f} pp"


def _row(group: GroupComparison) -> list[str]:
    name = group.group or "overall"
    test = group.pass_fail
    if test is not None:
        rates = f"{test.baseline_pass_rate:.0%} -> {test.candidate_pass_rate:.0%}"
        difference = (
            f"{_percent(test.difference)} [{_percent(test.ci95[0])}, {_percent(test.ci95[1])}]"
        )
        p_value = f"{test.p_value:.3g}"
    else:
        rates = difference = p_value = "-"
    score = group.score
    scores = "-"
    if score is not None:
        scores = (
            f"{score.name} {score.baseline_mean:.3g} -> {score.candidate_mean:.3g} "
            f"[{score.ci95[0]:+.3g}, {score.ci95[1]:+.3g}]"
        )
    colour = {"better": "green", "worse": "red"}.get(group.verdict.value, "yellow")
    return [
        name,
        str(group.pairs),
        rates,
        difference,
        p_value,
        scores,
        f"[{colour}]{group.verdict}[/]",
    ]


def comparison_table(comparison: Comparison) -> Table:
    from rich.table import Table

    baseline, candidate = comparison.baseline, comparison.candidate
    table = Table(
        title=f"{comparison.kind}: {candidate.name or candidate.id} vs {baseline.name or baseline.id}",
        caption=f"baseline {baseline.id}, candidate {candidate.id}; differences are candidate - baseline",
    )
    for column in (
        "",
        "pairs",
        "pass rate",
        "difference [95% CI]",
        "p (McNemar)",
        "score [95% CI]",
        "verdict",
    ):
        table.add_column(column)
    table.add_row(*_row(comparison.overall))
    for group in comparison.groups:
        table.add_row(*_row(group))
    return table


def _print(comparison: Comparison) -> None:
    console.print(comparison_table(comparison))
    changed = [pair for pair in comparison.pairs if pair.change != "same"]
    for pair in changed[:SHOWN_CHANGES]:
        mark = "[green]fixed[/] " if pair.change == "fixed" else "[red]broken[/]"
        console.print(f"  {mark} {pair.key}", highlight=False)
    if len(changed) > SHOWN_CHANGES:
        console.print(f"  ... and {len(changed) - SHOWN_CHANGES} more changed items")
    if comparison.unpaired:
        console.print(
            f"[yellow]{len(comparison.unpaired)} items not paired[/] "
            f"(e.g. {comparison.unpaired[0].key}: {comparison.unpaired[0].reason})",
            highlight=False,
        )


def compare(
    baseline: Annotated[
        str, typer.Argument(help="The baseline: an evaluation id or a results JSON file.")
    ],
    candidate: Annotated[str, typer.Argument(help="The candidate, compared against the baseline.")],
    db: DatabaseOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    fail_if_worse: Annotated[
        bool,
        typer.Option("--fail-if-worse", help="Exit 1 when the candidate is significantly worse."),
    ] = False,
) -> None:
    """Compare CANDIDATE with BASELINE item by item: McNemar for pass/fail, a paired bootstrap for scores."""
    with exit_on_error():
        settings = database_settings(db)
        first = evaluation_ids(baseline, "baseline")
        second = evaluation_ids(candidate, "candidate")
        if len(first) != len(second):
            raise ValidationFailed.for_field(
                ("candidate",),
                f"has {len(second)} checks and the baseline {len(first)}; compare results of one run file",
            )
    comparisons = run_with_container(
        lambda container: _compare_all(container, list(zip(first, second, strict=True))), settings
    )
    if as_json:
        dumped = [c.model_dump(mode="json") for c in comparisons]
        typer.echo(json.dumps(dumped[0] if len(dumped) == 1 else dumped, indent=2))
    else:
        for comparison in comparisons:
            _print(comparison)
    if fail_if_worse and any(c.overall.verdict.value == "worse" for c in comparisons):
        raise typer.Exit(1)
