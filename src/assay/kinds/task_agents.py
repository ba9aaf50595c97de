"""The agents a task benchmark can run in a task's sandbox: ``oracle``, ``command``, ``react``.

Each gets the sandbox (provisioned), the task, the environment to give commands (the
evaluation's task secrets) and a step recorder, and returns when it is done; the kind then
verifies. An agent's own time limit is the caller's ``asyncio.timeout``; a command's limit
inside it is what is left of that time, so no process outlives it.

- ``oracle`` runs the task's reference solution (to validate a dataset).
- ``command`` runs ``task_config.agent_command`` in the work directory with the instruction
  on standard input and in ``ASSAY_TASK_INSTRUCTION``. A command that cannot start or dies
  of a signal crashed (``TargetError``: the item is ``errored``); any other exit status is
  recorded and the task is verified.
- ``react`` is a tool-using loop driven by a model through ``ctx.llm``: tools ``shell``,
  ``read_file``, ``write_file`` and ``submit`` (which writes ``answer.txt``). Every step is
  recorded as it happens. Running out of steps without submitting ends the loop; the
  verifier decides.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assay.core.errors import SandboxError, TargetError
from assay.core.llm import ChatMessage, ChatRequest
from assay.core.outcome import ToolCall, Usage
from assay.kinds.base import LLM
from assay.sandbox.base import ExecResult, Sandbox
from assay.tasks.format import Task
from assay.tasks.runner import ANSWER_FILE, run_solution

Record = Callable[[str, dict[str, Any]], Awaitable[None]]
#: Output of a command shown to the model and kept in a step, per stream.
STEP_OUTPUT_CHARS = 4000
_SIGNALLED_OR_MISSING = {126, 127}

REACT_SYSTEM_PROMPT = (
    "You are a security engineer solving a task inside a Linux sandbox without network. "
    "Your working directory holds the task's files. Use the tools to inspect and change "
    "files and run commands. When you have the answer, call submit with it (for tasks that "
    "ask you to fix files, fix them and then call submit with a short summary)."
)

REACT_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "shell",
            "description": "Run a shell command (sh -c) in the working directory.",
            "parameters": {
                "type": "object",
                "properties": {"command": {"type": "string"}},
                "required": ["command"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file, by path relative to the working directory.",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}},
                "required": ["path"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "write_file",
            "description": "Write a file (replacing it), by path relative to the working directory.",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                "required": ["path", "content"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "submit",
            "description": "Finish with your answer (written to answer.txt).",
            "parameters": {
                "type": "object",
                "properties": {"answer": {"type": "string"}},
                "required": ["answer"],
            },
        },
    },
]


@dataclass
class AgentRun:
    """What an agent did, for the item's outcome."""

    steps: int = 0
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    submitted: bool = False
    exit_code: int | None = None


def step_view(result: ExecResult) -> dict[str, Any]:
    return {
        "exit_code": result.exit_code,
        "stdout": result.stdout[:STEP_OUTPUT_CHARS],
        "stderr": result.stderr[:STEP_OUTPUT_CHARS],
        "timed_out": result.timed_out,
        "duration_s": round(result.duration_s, 4),
    }


def _time_left(deadline: float) -> float:
    return max(0.001, deadline - asyncio.get_running_loop().time())


async def run_oracle(
    sandbox: Sandbox, task: Task, env: Mapping[str, str], deadline: float, record: Record
) -> AgentRun:
    result = await run_solution(sandbox, task, env, _time_left(deadline))
    await record("command", {"argv": ["sh", "solution/solve.sh"], **step_view(result)})
    if result.timed_out:
        raise TimeoutError("the oracle ran past the task's timeout")
    return AgentRun(steps=1, exit_code=result.exit_code)


async def run_command(
    sandbox: Sandbox,
    task: Task,
    env: Mapping[str, str],
    deadline: float,
    record: Record,
    argv: list[str],
) -> AgentRun:
    agent_env = {**env, "ASSAY_TASK_INSTRUCTION": task.instruction}
    # Through sh, so a missing or unexecutable program is 127 / 126 with every provider.
    result = await sandbox.exec(
        ["sh", "-c", 'exec "$@"', "agent", *argv],
        timeout=_time_left(deadline),
        stdin=task.instruction,
        env=agent_env,
    )
    await record("command", {"argv": argv, **step_view(result)})
    if result.timed_out:
        raise TimeoutError("the agent command ran past task_timeout_sec")
    if result.exit_code < 0 or result.exit_code in _SIGNALLED_OR_MISSING:
        raise TargetError(f"the agent command crashed (exit status {result.exit_code})")
    return AgentRun(steps=1, exit_code=result.exit_code)


async def run_react(
    sandbox: Sandbox,
    task: Task,
    env: Mapping[str, str],
    deadline: float,
    record: Record,
    llm: LLM,
    max_steps: int,
) -> AgentRun:
    run = AgentRun(model=llm.label)
    messages = [
        ChatMessage(role="system", content=REACT_SYSTEM_PROMPT),
        ChatMessage(role="user", content=task.instruction),
    ]
    while run.steps < max_steps and not run.submitted:
        run.steps += 1
        response = await llm.generate(ChatRequest(messages=messages, tools=REACT_TOOLS))
        run.usage = run.usage + response.usage
        messages.append(
            ChatMessage(role="assistant", content=response.text, tool_calls=response.tool_calls)
        )
        await record(
            "model",
            {"step": run.steps, "text": response.text, "tool_calls": len(response.tool_calls)},
        )
        if not response.tool_calls:
            messages.append(ChatMessage(role="user", content="Use a tool, or call submit."))
            continue
        for call in response.tool_calls:
            output = await _tool(sandbox, call, env, deadline, record, run)
            messages.append(ChatMessage(role="tool", content=output, tool_call_id=call.id))
    return run


async def _tool(
    sandbox: Sandbox,
    call: ToolCall,
    env: Mapping[str, str],
    deadline: float,
    record: Record,
    run: AgentRun,
) -> str:
    """Run one tool call; a bad call is answered with an error the model can read."""
    args = call.arguments
    step: dict[str, Any] = {"step": run.steps, "tool": call.name, "arguments": args}
    try:
        output = await _dispatch(sandbox, call.name, args, env, deadline, step, run)
    except (SandboxError, OSError, KeyError, TypeError, ValueError) as exc:
        output = f"error: {exc}"
        step["error"] = output
    await record("tool", step)
    return output


async def _dispatch(
    sandbox: Sandbox,
    name: str,
    args: dict[str, Any],
    env: Mapping[str, str],
    deadline: float,
    step: dict[str, Any],
    run: AgentRun,
) -> str:
    if name == "shell":
        result = await sandbox.exec(
            ["sh", "-c", str(args["command"])], timeout=_time_left(deadline), env=env
        )
        step.update(step_view(result))
        if result.timed_out:
            raise TimeoutError("the react agent ran past task_timeout_sec")
        return json.dumps(
            {"exit_code": result.exit_code, "stdout": step["stdout"], "stderr": step["stderr"]}
        )
    if name == "read_file":
        content = (await sandbox.read_file(str(args["path"]))).decode(errors="replace")
        return content[:STEP_OUTPUT_CHARS]
    if name == "write_file":
        await sandbox.write_file(str(args["path"]), str(args["content"]))
        return "written"
    if name == "submit":
        await sandbox.write_file(ANSWER_FILE, str(args["answer"]))
        run.submitted = True
        return "submitted"
    raise ValueError(f"unknown tool {name!r}; tools: shell, read_file, write_file, submit")
