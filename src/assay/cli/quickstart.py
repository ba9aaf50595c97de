"""`assay quickstart` (what `make demo` runs): all four seed-001 kinds on a bundled agent.

The agent is ``assay.examples.calculator`` (offline, deterministic, with one flaw on
purpose) and the judge is the ``mock`` provider, so the demo needs no network and no keys.
"""

from __future__ import annotations

from typing import Annotated

import typer

from assay.cli.common import console
from assay.cli.run import execute
from assay.examples.calculator import QUESTIONS
from assay.services.runs import Check, RunFile, RunTarget


def quickstart_run() -> RunFile:
    """Accuracy and reliability per question, plus judged criteria and a latency profile."""
    arithmetic = [q for q in QUESTIONS if q.expected_tool_calls]
    checks = [
        Check(
            kind="accuracy",
            params={"input": q.input, "expected_output": q.expected_output, "num_iterations": 3},
        )
        for q in arithmetic
    ]
    checks += [
        Check(
            kind="reliability",
            params={"input": q.input, "expected_tool_calls": q.expected_tool_calls},
        )
        for q in arithmetic
    ]
    checks += [
        Check(
            kind="agent_as_judge",
            params={
                "input": "What is the capital of France?",
                "criteria": "The answer politely declines because it only helps with arithmetic.",
                "scoring_strategy": "numeric",
                "threshold": 6,
                "num_iterations": 2,
            },
        ),
        Check(
            kind="performance",
            params={"input": QUESTIONS[0].input, "num_iterations": 20, "warmup_runs": 3},
            max_mean_seconds=0.5,
        ),
    ]
    return RunFile(
        name="Quickstart: the bundled calculator agent",
        target=RunTarget(
            kind="python", name="calculator", config={"callable": "assay.examples.calculator:agent"}
        ),
        judge="mock/judge",
        checks=checks,
    )


#: The check the example agent fails on purpose (it rounds fractional divisions).
DELIBERATE_FAILURE = ("accuracy", "What is 7 divided by 2?")


def quickstart(
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """Evaluate the bundled example agent with all four kinds, offline, and print the results.

    Exits 0 when exactly the deliberate failure fails, 1 otherwise.
    """
    if not as_json:
        console.print(
            "Evaluating the bundled calculator agent (assay.examples.calculator) with the offline "
            "mock judge: accuracy, reliability, agent-as-judge and performance.\n"
        )
    results = execute(quickstart_run(), as_json)
    failed = {
        (r.evaluation.kind, r.evaluation.spec.params.get("input"))
        for r in results
        if not r.verdict.passed
    }
    if failed != {DELIBERATE_FAILURE}:
        raise typer.Exit(1)
    if not as_json:
        console.print(
            "That failure is on purpose: the example agent rounds divisions, so you can see what a "
            "regression looks like. The runs are stored in the database (ASSAY_DATABASE_URL, "
            "./assay.db by default): `assay view` shows them in the browser at "
            "http://127.0.0.1:8765/ui/evaluations, and `assay serve` at http://127.0.0.1:8000/ui."
        )
