"""Local runs of an evaluation file (``assay run FILE.yaml``, ``assay quickstart``).

A run file names one target and a list of checks (an evaluation kind, its params and an
optional threshold). The checks run through the same engine and store as the service, in
this process, and each gets a verdict so CI can fail the build on a regression.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assay.core.errors import InvalidTransition, ValidationFailed
from assay.core.evaluation import EvaluationView
from assay.core.principal import Principal, Role
from assay.core.spec import EvaluationSpec, ModelRef, TargetSpec
from assay.core.validation_messages import did_you_mean
from assay.core.verdict import CheckVerdict, Thresholds
from assay.core.yamlio import load_yaml
from assay.engine.planner import plan_evaluation
from assay.providers._registry import is_known_provider, known_providers
from assay.services import agents as agent_service
from assay.services import evaluations as evaluation_service
from assay.services import harnesses as harness_service
from assay.services.case_files import with_case_files
from assay.services.container import Container
from assay.services.verdicts import verdict_for
from assay.store.repositories import tenancy
from assay.targets._registry import validate_agent_config


class RunTarget(BaseModel):
    """Exactly one of: a registered ``agent`` id, a ``model`` (provider/model), or an inline agent ``kind``."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    agent: str | None = None
    model: str | None = None
    kind: str | None = Field(
        default=None, description="Inline agent kind: `openai-chat`, `http` or `python`."
    )
    name: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, Any] = Field(default_factory=dict)
    system_prompt: str | None = Field(
        default=None, description="For a model target: its system prompt."
    )
    base_url: str | None = Field(
        default=None,
        description=(
            "For a model target: the base URL of an OpenAI-compatible server (vLLM, Ollama, ...)."
        ),
    )


class Check(Thresholds):
    """One check of a run file: an evaluation kind, its params, and its thresholds."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(
        description=(
            "`accuracy`, `agent_as_judge`, `performance`, `reliability`, `match` or `harness`."
        )
    )
    name: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    cases_file: Path | None = Field(
        default=None,
        description=(
            "A `match` check's cases from a JSONL, CSV or YAML file, relative to the run file."
        ),
    )


class RunFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    target: RunTarget
    judge: str | None = Field(
        default=None, description="The judge as provider/model; defaults to ASSAY_JUDGE_MODEL."
    )
    checks: list[Check] = Field(min_length=1)


class CheckResult(BaseModel):
    check: Check
    evaluation: EvaluationView
    verdict: CheckVerdict


def load_run_file(path: Path) -> RunFile:
    """Parse and validate a YAML run file; errors name the file and the field."""
    try:
        data = load_yaml(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationFailed(f"{path}: cannot read it as YAML: {exc}") from None
    try:
        run = RunFile.model_validate(data)
    except ValidationError as exc:
        failure = ValidationFailed.from_pydantic(exc, model=RunFile)
        raise ValidationFailed(f"{path}: {failure.message}", failure.errors) from None
    return with_case_files(run, path.parent)


async def local_principal(container: Container) -> Principal:
    """The CLI acts as an admin of the default organization of the local database."""
    async with container.sessions.begin() as session:
        org = await tenancy.ensure_org(session, tenancy.DEFAULT_SLUG)
        workspace = await tenancy.ensure_workspace(session, org.id, tenancy.DEFAULT_SLUG)
        await tenancy.ensure_project(session, workspace, tenancy.DEFAULT_SLUG)
    return Principal(org_id=org.id, workspace_id=None, role=Role.ADMIN)


async def _target(
    container: Container, principal: Principal, target: RunTarget
) -> tuple[TargetSpec, dict[str, Any]]:
    chosen = [name for name in ("agent", "model", "kind") if getattr(target, name)]
    if len(chosen) != 1:
        raise ValidationFailed.for_field(("target",), "give exactly one of agent, model or kind")
    if target.agent:
        return await agent_service.resolve_target(
            container, principal, target.agent, "target.agent"
        )
    outbound = container.settings.outbound_policy
    if target.model:
        outbound.check_field(("target", "base_url"), target.base_url)
        ref = ModelRef.parse(target.model, field="target.model").model_copy(
            update={"system_prompt": target.system_prompt, "base_url": target.base_url}
        )
        return TargetSpec(kind="model", name=target.name or target.model, model=ref), target.secrets
    assert target.kind
    config, secrets = validate_agent_config(target.kind, target.config, target.secrets, outbound)
    return TargetSpec(kind=target.kind, name=target.name, config=config), secrets


async def _check_params(
    container: Container, principal: Principal, index: int, check: Check
) -> dict[str, Any]:
    """A check's params; a ``harness`` check may name only its harnesses, resolved here.

    Raises:
        ValidationFailed: a harness check without probes names no harness.
        HarnessNotFound: a name is neither built in nor a custom harness of the organization.
    """
    if check.kind != "harness" or "probes" in check.params:
        return check.params
    names = check.params.get("harnesses")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ValidationFailed.for_field(
            ("checks", index, "params", "harnesses"), "name at least one harness, or give probes"
        )
    from assay.probes.catalog import CATALOG_VERSION

    probes = await harness_service.resolve_probes(container, principal, names)
    return check.params | {
        "probes": [p.model_dump(mode="json") for p in probes],
        "catalog_version": CATALOG_VERSION,
    }


def _check_provider(ref: ModelRef | None, field: tuple[str, ...]) -> None:
    """A provider name that no provider has is a typo: refuse it before anything is stored."""
    if ref is not None and not is_known_provider(ref.provider):
        known = known_providers()
        raise ValidationFailed.for_field(
            field, f"unknown provider {ref.provider!r}{did_you_mean(ref.provider, known)}"
        )


async def start_checks(
    container: Container, run: RunFile
) -> tuple[Principal, list[EvaluationView]]:
    """Validate every check first (nothing is stored if one is bad), then create them all."""
    principal = await local_principal(container)
    target, secrets = await _target(container, principal, run.target)
    judge = ModelRef.parse(run.judge, field="judge") if run.judge else None
    _check_provider(target.model, ("target", "model"))
    _check_provider(judge or ModelRef.parse(container.settings.judge_model), ("judge",))
    specs = [
        EvaluationSpec(
            kind=check.kind,
            name=check.name or run.name,
            target=target,
            judge=judge,
            params=await _check_params(container, principal, index, check),
        )
        for index, check in enumerate(run.checks)
    ]
    for index, spec in enumerate(specs):
        try:
            plan_evaluation(spec, container.settings.judge_model, container.default_limits())
        except ValidationFailed as exc:
            errors = [e | {"loc": ["checks", index, *e["loc"]]} for e in exc.errors]
            raise ValidationFailed(
                f"checks[{index}] ({spec.kind}): {exc.message}", errors
            ) from None
    views = [
        await evaluation_service.create_evaluation(
            container, principal, spec, secrets={"target": secrets}, collection="cli"
        )
        for spec in specs
    ]
    return principal, views


class RunInterrupted(Exception):
    """The run was stopped (Ctrl-C, SIGTERM) and its evaluations cancelled.

    ``results`` hold every check as it ended: finished items are kept and counted, and no
    later process runs the rest.
    """

    def __init__(self, results: list[CheckResult]) -> None:
        super().__init__("the run was interrupted")
        self.results = results


#: Seconds between progress updates while the run's evaluations are running.
PROGRESS_INTERVAL = 0.1
#: How long an interrupted run waits for its running items to stop and be summarised.
INTERRUPT_GRACE_SECONDS = 15.0


async def run_checks(
    container: Container,
    run: RunFile,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[CheckResult]:
    """Run every check to completion in this process; ``on_progress(finished, total)`` items.

    Raises:
        RunInterrupted: the task was cancelled (the CLI cancels it on SIGINT and SIGTERM);
            the evaluations were cancelled first, so nothing of this run is left running.
    """
    principal, views = await start_checks(container, run)
    total = sum(v.total_items for v in views)
    ids = [v.id for v in views]
    del views  # their specs hold every case; the engine has its own copy, the database one
    try:
        while True:
            if on_progress is not None:
                on_progress(await evaluation_service.finished_items(container, ids), total)
            running = [
                i for i in ids if not await evaluation_service.is_finished(container, principal, i)
            ]
            if not running:
                break
            # Woken as soon as the engine finishes it, which a one-item run is waiting for.
            await container.wait_for_change(running[0], PROGRESS_INTERVAL)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
        raise RunInterrupted(await _interrupt(container, principal, run, ids)) from None
    if on_progress is not None:
        on_progress(total, total)
    return await _results(container, principal, run, ids)


async def _interrupt(
    container: Container, principal: Principal, run: RunFile, ids: list[str]
) -> list[CheckResult]:
    """Cancel the run's evaluations and wait for their running items to stop."""
    for evaluation_id in ids:
        with contextlib.suppress(InvalidTransition):
            await evaluation_service.cancel_evaluation(
                container, principal, evaluation_id, reason="the local run was interrupted"
            )
    async with asyncio.timeout(INTERRUPT_GRACE_SECONDS):
        for evaluation_id in ids:
            await evaluation_service.wait_for_evaluation(container, principal, evaluation_id)
    return await _results(container, principal, run, ids)


async def _results(
    container: Container, principal: Principal, run: RunFile, ids: list[str]
) -> list[CheckResult]:
    # Without the data sets: the run has its cases, and 100,000 of them read back would be
    # decoded and validated (tens of megabytes) only to be counted.
    finished = [
        await evaluation_service.get_evaluation(
            container, principal, i, with_counts=True, without_item_fields=True
        )
        for i in ids
    ]
    return [
        CheckResult(check=c, evaluation=v, verdict=verdict_for(v, c))
        for c, v in zip(run.checks, finished, strict=True)
    ]
