"""The ``task_benchmark`` kind: an agent on many tasks, each in its own sandbox.

One item per task. An item walks its phases: ``provisioning`` (a sandbox from the chosen
provider, entered through ``ctx.resources`` so the engine releases it however the run ends;
the task's files copied in, its setup run, the evaluation's task secrets given to every
command as environment variables), ``agent_running`` (``oracle``, ``command`` or ``react``,
see ``task_agents.py``, under ``task_timeout_sec`` of the agent's own time: past it the item is
``timed_out``), ``agent_finished``, ``verifying`` (the task's verifier: a test script runs in
a second, fresh sandbox over a copy of the agent's final work directory, see
``tasks/runner.py``).
A sandbox that cannot be made (twice) or a broken setup is ``SandboxError``: ``infra_error``,
never scored. Cleanup follows ``cleanup_policy``: ``always`` removes the work directory,
``on_success`` keeps it when the task did not pass, ``never`` keeps it; processes are killed
in every case, and a failed cleanup is recorded on the item and counted in the summary.

The sandbox policy (is ``local`` allowed, where work directories go, cgroups) is the
server's: the engine gives the kind its providers under ``Settings.sandbox_policy``
(``ctx.sandbox_provider``), and a provider the policy forbids is refused when the item's
sandbox is made (``infra_error`` with the setting named).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import override

from assay.core.errors import ConfigurationError, SandboxError, ValidationFailed
from assay.core.outcome import ItemRecord, Metrics, Outcome, RecordedEvent, Score, Suspend
from assay.core.spec import EvaluationSpec, ItemPlan, ModelRef
from assay.core.states import ItemState
from assay.kinds import task_agents
from assay.kinds.base import ItemContext, ItemKey, Kind
from assay.kinds.task_summary import summarise_tasks
from assay.sandbox import Sandbox, SandboxLimits, SandboxProvider, known_providers
from assay.tasks.format import Task, builtin_tasks
from assay.tasks.runner import provision, verify

AgentType = Literal["oracle", "command", "react"]
CleanupPolicy = Literal["always", "on_success", "never"]
DEFAULT_AGENT_TIMEOUT_S = 300.0
MAX_STEPS = 500


class Runtime(BaseModel):
    """A sandbox configuration: provider and limits (a workspace's named runtime)."""

    model_config = ConfigDict(extra="forbid")

    memory_mb: int = Field(default=512, ge=16, le=65536)
    pids: int = Field(
        default=128, ge=4, le=65536, description="Processes and threads alive at once."
    )
    cpus: float = Field(default=1.0, gt=0, le=64)
    file_mb: int = Field(
        default=64, ge=1, le=65536, description="Largest file a command may write."
    )
    network: bool = Field(
        default=False,
        description="Reach the network (the server must allow it: ASSAY_SANDBOX_NETWORK_ENABLED).",
    )

    def limits(self) -> SandboxLimits:
        return SandboxLimits(
            memory_bytes=self.memory_mb * 1024 * 1024,
            pids=self.pids,
            cpus=self.cpus,
            file_bytes=self.file_mb * 1024 * 1024,
            network=self.network,
        )


class Dataset(BaseModel):
    """Exactly one of: a shipped dataset by name, or the tasks themselves."""

    model_config = ConfigDict(extra="forbid")

    builtin: str | None = None
    tasks: list[Task] | None = Field(default=None, min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _one(self) -> Dataset:
        if (self.builtin is None) == (self.tasks is None):
            raise ValueError("give exactly one of `builtin` (a shipped dataset) or `tasks`")
        return self

    def load(self) -> list[Task]:
        return builtin_tasks(self.builtin) if self.builtin is not None else list(self.tasks or [])


class TaskBenchmarkParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: Dataset
    task_names: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Run only these tasks of the dataset; an unknown name is refused.",
    )
    capability: str | None = Field(
        default=None, description="Run only the tasks with this capability tag."
    )
    agent_type: AgentType = "oracle"
    model: str | None = Field(
        default=None, description="The react agent's model as provider/model."
    )
    task_config: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Settings for every task; `agent_command` (a list of strings) is the command agent."
        ),
    )
    task_timeout_sec: float | None = Field(
        default=None,
        gt=0,
        le=86400,
        description="The agent's own time per task; unset, the task's own or 300 s.",
    )
    setup_timeout_sec: float = Field(default=120.0, gt=0, le=3600)
    sandbox_provider: str = "bwrap"
    cleanup_policy: CleanupPolicy = "always"
    runtime: Runtime = Field(default_factory=Runtime)
    max_steps: int = Field(
        default=30,
        ge=1,
        le=MAX_STEPS,
        description=(
            "The react agent's model calls per task (`task_config.max_steps` overrides it)."
        ),
    )

    def agent_command(self) -> list[str] | None:
        command = self.task_config.get("agent_command")
        if isinstance(command, list) and command and all(isinstance(a, str) for a in command):
            return command
        return None


class _SandboxLease:
    """The item's sandbox as a resource: made on enter, cleaned once, failures remembered."""

    def __init__(self, provider: SandboxProvider, limits: SandboxLimits, keep: bool) -> None:
        self._provider = provider
        self._limits = limits
        self.keep_files = keep
        self.sandbox: Sandbox | None = None
        self.start_s = 0.0
        self.cleanup_s: float | None = None
        self.cleanup_error: str | None = None

    async def __aenter__(self) -> _SandboxLease:
        started = time.monotonic()
        try:
            self.sandbox = await self._provider.create(self._limits)
        except SandboxError:
            self.sandbox = await self._provider.create(self._limits)
        self.start_s = time.monotonic() - started
        return self

    async def close(self) -> None:
        if self.sandbox is None or self.cleanup_s is not None:
            return
        started = time.monotonic()
        try:
            await self.sandbox.cleanup(keep_files=self.keep_files)
        except SandboxError as exc:
            self.cleanup_error = exc.message
        self.cleanup_s = time.monotonic() - started

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
        if self.cleanup_error is not None:
            raise SandboxError(self.cleanup_error)


class TaskBenchmarkKind(Kind[TaskBenchmarkParams]):
    name = "task_benchmark"
    Params = TaskBenchmarkParams
    reports_phases = True

    def validate_params(self, params: dict[str, Any]) -> TaskBenchmarkParams:
        parsed = super().validate_params(params)
        steps = parsed.task_config.get("max_steps")
        if steps is not None:
            if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
                raise ValidationFailed.for_field(
                    ("task_config", "max_steps"),
                    f"the react agent's model calls per task: a whole number from 1 to {MAX_STEPS}",
                )
            parsed.max_steps = steps
        if parsed.agent_type == "react":
            if parsed.model is None:
                raise ValidationFailed.for_field(("model",), "the react agent needs a model")
            ModelRef.parse(parsed.model)
        if parsed.sandbox_provider not in known_providers():
            raise ValidationFailed.for_field(
                ("sandbox_provider",),
                f"unknown provider {parsed.sandbox_provider!r}; known: {', '.join(known_providers())}",
            )
        if parsed.agent_type == "command" and parsed.agent_command() is None:
            raise ValidationFailed.for_field(
                ("task_config", "agent_command"),
                "the command agent needs agent_command: a non-empty list of strings",
            )
        return parsed

    def plan(self, spec: EvaluationSpec) -> list[ItemPlan]:
        params = self.validate_params(spec.params)
        tasks = params.dataset.load()
        if params.task_names is not None:
            names = {t.name for t in tasks}
            unknown = [n for n in params.task_names if n not in names]
            if unknown:
                raise ValidationFailed.for_field(
                    ("task_names",), f"not in the dataset: {', '.join(unknown)}"
                )
            wanted = set(params.task_names)
            tasks = [t for t in tasks if t.name in wanted]
        if params.capability is not None:
            tasks = [t for t in tasks if t.capability == params.capability]
        if not tasks:
            raise ValidationFailed.for_field(("dataset",), "no task left to run")
        return [ItemPlan(input={"task": t.model_dump(mode="json")}) for t in tasks]

    def item_keys(
        self, spec: EvaluationSpec, inputs: Sequence[dict[str, Any]]
    ) -> list[ItemKey | None]:
        """A task by its name, grouped by its capability."""
        del spec
        return [
            ItemKey(str(value["task"]["name"]), value["task"].get("capability")) for value in inputs
        ]

    async def run_item(self, item: ItemPlan, ctx: ItemContext) -> Outcome | Suspend:
        params = self.item_params(ctx)
        task = Task.model_validate(item.input["task"])
        env = {str(k): str(v) for k, v in ctx.secrets.items()}
        timings: dict[str, float] = {}

        await ctx.phase(ItemState.PROVISIONING)
        started = time.monotonic()
        lease = await ctx.resources.enter(_lease(params, ctx))
        assert lease.sandbox is not None
        sandbox = lease.sandbox
        timings["sandbox_start_s"] = lease.start_s
        await provision(sandbox, task, env, params.setup_timeout_sec)
        timings["provisioning_s"] = time.monotonic() - started

        await ctx.phase(ItemState.AGENT_RUNNING)
        started = time.monotonic()
        run = await self._agent(params, task, sandbox, env, ctx)
        timings["agent_s"] = time.monotonic() - started
        await ctx.phase(ItemState.AGENT_FINISHED)

        await ctx.phase(ItemState.VERIFYING)
        started = time.monotonic()
        verdict = await verify(sandbox, task, env, lambda: _verifier_sandbox(params, ctx, timings))
        timings["verifying_s"] = time.monotonic() - started
        if verdict.result is not None:
            await ctx.log("verifier", task_agents.step_view(verdict.result))
        if verdict.passed and params.cleanup_policy == "on_success":
            lease.keep_files = False
        await lease.close()
        timings["cleanup_s"] = lease.cleanup_s or 0.0
        return Outcome(
            passed=verdict.passed,
            scores=[
                Score(
                    name="task",
                    value=1.0 if verdict.passed else 0.0,
                    scale="binary",
                    passed=verdict.passed,
                    reason=verdict.reason,
                )
            ],
            metrics=Metrics(
                latency_ms=timings["agent_s"] * 1000,
                input_tokens=run.usage.input_tokens,
                output_tokens=run.usage.output_tokens,
                cost_usd=ctx.cost(run.model, run.usage),
            ),
            trace={
                "verifier": None
                if verdict.result is None
                else task_agents.step_view(verdict.result)
            },
            data={
                "task": task.name,
                "capability": task.capability,
                "difficulty": task.difficulty.value,
                "agent": {
                    "type": params.agent_type,
                    "steps": run.steps,
                    "exit_code": run.exit_code,
                },
                "timings": {k: round(v, 4) for k, v in timings.items()},
                "cleanup": {
                    "failed": lease.cleanup_error is not None,
                    "error": lease.cleanup_error,
                    "kept_files": lease.keep_files,
                },
            },
        )

    async def _agent(
        self,
        params: TaskBenchmarkParams,
        task: Task,
        sandbox: Sandbox,
        env: dict[str, str],
        ctx: ItemContext,
    ) -> task_agents.AgentRun:
        """The agent under its own deadline: past it, TimeoutError (the item is timed_out)."""
        budget = params.task_timeout_sec or task.agent_timeout_sec or DEFAULT_AGENT_TIMEOUT_S
        deadline = asyncio.get_running_loop().time() + budget
        async with asyncio.timeout(budget):
            if params.agent_type == "oracle":
                return await task_agents.run_oracle(sandbox, task, env, deadline, ctx.log)
            if params.agent_type == "command":
                argv = params.agent_command()
                assert argv is not None
                return await task_agents.run_command(sandbox, task, env, deadline, ctx.log, argv)
            if ctx.llm is None or params.model is None:
                raise ConfigurationError("the react agent needs ctx.llm and a model")
            llm = ctx.llm(ModelRef.parse(params.model))
            return await task_agents.run_react(
                sandbox, task, env, deadline, ctx.log, llm, params.max_steps
            )

    def summarise(self, spec: EvaluationSpec, items: Sequence[ItemRecord]) -> dict[str, Any]:  # noqa: ARG002
        return summarise_tasks(items)

    @override
    def item_view(
        self,
        outcome: dict[str, Any] | None,
        events: Sequence[RecordedEvent],
        item_input: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The task, the verdict's reason, phase timings, verifier output, agent and cleanup.

        The task comes from the plan until an outcome exists, so a queued item has its name.
        """
        del events
        task = (item_input or {}).get("task") or {}
        done = outcome or {}
        data = done.get("data") or {}
        scores = done.get("scores") or []
        return {
            "task_name": data.get("task", task.get("name")),
            "capability": data.get("capability", task.get("capability")),
            "difficulty": data.get("difficulty", task.get("difficulty")),
            "reason": scores[0].get("reason") if scores else None,
            "timings": data.get("timings", {}),
            "verifier": (done.get("trace") or {}).get("verifier"),
            "agent": data.get("agent"),
            "cleanup": data.get("cleanup"),
        }


def _lease(
    params: TaskBenchmarkParams, ctx: ItemContext, keep: bool | None = None
) -> _SandboxLease:
    """The item's sandbox, from the provider the engine gives under the server's policy."""
    if ctx.sandbox_provider is None:
        raise ConfigurationError("task benchmarks run through the engine, which gives sandboxes")
    provider = ctx.sandbox_provider(params.sandbox_provider)
    if keep is None:
        keep = params.cleanup_policy != "always"
    return _SandboxLease(provider, params.runtime.limits(), keep=keep)


@asynccontextmanager
async def _verifier_sandbox(
    params: TaskBenchmarkParams, ctx: ItemContext, timings: dict[str, float]
) -> AsyncIterator[Sandbox]:
    """A fresh sandbox for the test verifier, an engine resource removed when it is done."""
    lease = await ctx.resources.enter(_lease(params, ctx, keep=False))
    timings["verifier_start_s"] = lease.start_s
    assert lease.sandbox is not None
    try:
        yield lease.sandbox
    finally:
        await lease.close()
