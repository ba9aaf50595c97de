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


def quickstart(
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """Evaluate the bundled example agent with all four kinds, offline, and print the results."""
    if not as_json:
        console.print(
            "Evaluating the bundled calculator agent (assay.examples.calculator) with the offline "
            "mock judge: accuracy, reliability, agent-as-judge and performance.\n"
        )
    try:
        execute(quickstart_run(), as_json)
    except typer.Exit as exit_:
        if exit_.exit_code != 1:
            raise
        if not as_json:
            console.print(
                "One failure is expected: the example agent rounds divisions on purpose, so you "
                "can see what a regression looks like."
            )
