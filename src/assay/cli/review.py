"""`assay review`: the reviewer's queue in the terminal, as the person the key belongs to.

The key (``--key``, from `assay keys create --user EMAIL`) says who reviews: the verdict is
recorded as that user, exactly as through ``POST /api/eval/verify``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from assay.cli.common import console, run_with_container
from assay.core.checkpoints import Execution
from assay.core.principal import Principal
from assay.services import checkpoints as checkpoint_service
from assay.services.container import Container
from assay.services.keys import authenticate

app = typer.Typer(help="Review checkpoints that wait for you.", no_args_is_help=True)
T = TypeVar("T")

KeyOption = Annotated[str, typer.Option("--key", help="Your API key (assay keys create --user).")]


def _as_reviewer(key: str, work: Callable[[Container, Principal], Awaitable[T]]) -> T:
    async def run(container: Container) -> T:
        principal = await authenticate(container, f"Bearer {key}")
        return await work(container, principal)

    return run_with_container(run)


@app.command("list")
def list_waiting(key: KeyOption) -> None:
    """Runs waiting for your verdict, with the question each one asks."""
    waiting = _as_reviewer(key, checkpoint_service.pending_reviews)
    if not waiting:
        console.print("nothing waits for you")
    for execution in waiting:
        assert execution.state is not None and execution.state.waiting is not None
        checkpoint = execution.state.waiting
        console.print(
            f"{execution.id}  checkpoint {checkpoint.number}  {execution.task_name}: "
            f"{checkpoint.question}",
            highlight=False,
        )


@app.command("show")
def show(execution_id: Annotated[str, typer.Argument()], key: KeyOption) -> None:
    """The waiting step: its question, why it is asked, and its evidence (output, tool calls)."""
    execution = _as_reviewer(key, lambda c, p: checkpoint_service.get_execution(c, p, execution_id))
    _print(execution)


@app.command("approve")
def approve(
    execution_id: Annotated[str, typer.Argument()],
    key: KeyOption,
    checkpoint: Annotated[int, typer.Option(help="The checkpoint number (see `show`).")],
) -> None:
    """Approve the waiting checkpoint; the run continues."""
    _verdict(execution_id, key, checkpoint, "approved", None)


@app.command("reject")
def reject(
    execution_id: Annotated[str, typer.Argument()],
    key: KeyOption,
    checkpoint: Annotated[int, typer.Option(help="The checkpoint number (see `show`).")],
    hint: Annotated[str, typer.Option(help="What to do differently; the agent redoes the step.")],
) -> None:
    """Reject the waiting checkpoint with a hint; the agent redoes the step and asks again."""
    _verdict(execution_id, key, checkpoint, "rejected", hint)


def _verdict(execution_id: str, key: str, number: int, action: str, hint: str | None) -> None:
    _as_reviewer(
        key,
        lambda c, p: checkpoint_service.verify(c, p, execution_id, number, action, hint),
    )
    console.print(f"checkpoint {number} of {execution_id}: {action}", highlight=False)


def _print(execution: Execution) -> None:
    console.print(f"{execution.task_name} ({execution.id}): {execution.evaluation_status}")
    state = execution.state
    waiting = state.waiting if state is not None else None
    if waiting is None:
        console.print("no checkpoint is waiting")
        return
    console.print(f"checkpoint {waiting.number} ({waiting.method}): {waiting.question}")
    console.print(f"step {waiting.step_id}: {waiting.description}", highlight=False)
    console.print(f"why: {waiting.reason}", highlight=False)
    if waiting.evidence is not None:
        console.print(f"output: {waiting.evidence.output}", highlight=False)
        for call in waiting.evidence.tool_calls:
            line = f"tool {call.name} [{call.status}] {json.dumps(call.arguments)}"
            console.print(f"{line} -> {json.dumps(call.result)}", highlight=False, markup=False)
