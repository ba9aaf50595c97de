"""Workspace resources of task benchmarks (seed 002): datasets, runtimes, sandbox secrets.

Every call takes a principal already narrowed to one workspace
(``tenancy.workspace_principal``); rows of other workspaces are NotFound. A secret's value is
write-only: it is stored encrypted with the server's SecretBox, never returned, and reaches
sandboxes only as an environment variable of the evaluations that name it, where the
evaluation's redactor blanks it from every stored trace.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from assay.core.errors import ConfigurationError, Conflict, NotFound, ValidationFailed
from assay.core.ids import new_id
from assay.core.principal import Principal, Role
from assay.sandbox import get_provider as get_sandbox_provider
from assay.sandbox import known_providers
from assay.services.access import require_role
from assay.services.container import Container
from assay.store.repositories import bench_resources as rows
from assay.store.tables import BenchDataset, BenchRuntime, BenchSecret
from assay.tasks.format import Task

#: Secret names are environment variable names.
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")
_RESERVED_PREFIX = "ASSAY_"


@dataclass(frozen=True)
class DatasetInfo:
    id: str
    name: str
    version: str
    task_count: int
    task_names: list[str]
    created_at: datetime


@dataclass(frozen=True)
class RuntimeInfo:
    id: str
    name: str
    config: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class SecretInfo:
    """What anyone may see of a secret: never its value."""

    id: str
    name: str
    created_at: datetime


def _workspace(principal: Principal) -> str:
    assert principal.workspace_id is not None, "narrow the principal to a workspace first"
    return principal.workspace_id


def _dataset_info(row: BenchDataset) -> DatasetInfo:
    names = [str(t.get("name")) for t in row.tasks]
    return DatasetInfo(row.id, row.name, row.version, row.task_count, names, row.created_at)


async def create_dataset(
    container: Container, principal: Principal, name: str, version: str, tasks: Sequence[Any]
) -> DatasetInfo:
    """Store a dataset version; every task is validated first (the error names it).

    Raises:
        ValidationFailed: a task breaks the format (loc ``tasks.<i>.<field>``), or two tasks
            share a name.
        Conflict: this name and version exist already.
    """
    require_role(principal, Role.MEMBER)
    parsed: list[Task] = []
    for index, task in enumerate(tasks):
        try:
            parsed.append(Task.model_validate(task))
        except PydanticValidationError as exc:
            raise ValidationFailed.from_pydantic(exc, prefix=("tasks", index), model=Task) from None
    seen = [t.name for t in parsed]
    duplicated = sorted({n for n in seen if seen.count(n) > 1})
    if duplicated:
        raise ValidationFailed.for_field(("tasks",), f"task names repeat: {', '.join(duplicated)}")
    workspace_id = _workspace(principal)
    async with container.sessions.begin() as session:
        if await rows.name_taken(session, BenchDataset, workspace_id, name=name, version=version):
            raise Conflict(f"dataset {name!r} version {version!r} already exists")
        row = BenchDataset(
            id=new_id(),
            org_id=principal.org_id,
            workspace_id=workspace_id,
            name=name,
            version=version,
            tasks=[t.model_dump(mode="json") for t in parsed],
            task_count=len(parsed),
            created_at=datetime.now(UTC),
        )
        session.add(row)
    return _dataset_info(row)


async def list_datasets(container: Container, principal: Principal) -> list[DatasetInfo]:
    async with container.sessions.begin() as session:
        found = await rows.list_rows(session, BenchDataset, _workspace(principal))
    return [_dataset_info(r) for r in found]


async def dataset_tasks(
    container: Container, principal: Principal, dataset_id: str, version: str | None
) -> list[dict[str, Any]]:
    """The tasks of a workspace dataset (by id; ``version`` must match when given)."""
    async with container.sessions.begin() as session:
        row = await rows.get_row(session, BenchDataset, _workspace(principal), dataset_id)
    if row is None or (version is not None and version != row.version):
        raise ValidationFailed.for_field(
            ("dataset", "id"), f"no dataset {dataset_id!r} (version {version}) in this workspace"
        )
    return list(row.tasks)


async def create_runtime(
    container: Container, principal: Principal, name: str, config: dict[str, Any]
) -> RuntimeInfo:
    """Store a named sandbox configuration; its provider must exist (``sandbox_provider``)."""
    require_role(principal, Role.MEMBER)
    provider = str(config.get("provider"))
    if provider not in known_providers():
        known = ", ".join(known_providers())
        raise ValidationFailed.for_field(
            ("provider",), f"unknown provider {provider!r}; known: {known}"
        )
    workspace_id = _workspace(principal)
    async with container.sessions.begin() as session:
        if await rows.name_taken(session, BenchRuntime, workspace_id, name=name):
            raise Conflict(f"runtime {name!r} already exists")
        row = BenchRuntime(
            id=new_id(),
            org_id=principal.org_id,
            workspace_id=workspace_id,
            name=name,
            config=config,
            created_at=datetime.now(UTC),
        )
        session.add(row)
    return RuntimeInfo(row.id, row.name, row.config, row.created_at)


async def list_runtimes(container: Container, principal: Principal) -> list[RuntimeInfo]:
    async with container.sessions.begin() as session:
        found = await rows.list_rows(session, BenchRuntime, _workspace(principal))
    return [RuntimeInfo(r.id, r.name, r.config, r.created_at) for r in found]


async def runtime_config(
    container: Container, principal: Principal, runtime_id: str
) -> dict[str, Any]:
    async with container.sessions.begin() as session:
        row = await rows.get_row(session, BenchRuntime, _workspace(principal), runtime_id)
    if row is None:
        raise ValidationFailed.for_field(
            ("runtime_id",), f"no runtime {runtime_id!r} in this workspace"
        )
    return dict(row.config)


async def create_secret(
    container: Container, principal: Principal, name: str, value: str
) -> SecretInfo:
    """Store a secret encrypted; its name becomes the environment variable in sandboxes."""
    require_role(principal, Role.MEMBER)
    if not _ENV_NAME.match(name) or name.startswith(_RESERVED_PREFIX):
        raise ValidationFailed.for_field(
            ("name",),
            "must be an environment variable name (A-Z, 0-9, _), not starting with ASSAY_",
        )
    if not value:
        raise ValidationFailed.for_field(("value",), "must not be empty")
    workspace_id = _workspace(principal)
    sealed = container.secrets.seal({"value": value})
    assert sealed is not None
    async with container.sessions.begin() as session:
        if await rows.name_taken(session, BenchSecret, workspace_id, name=name):
            raise Conflict(f"secret {name!r} already exists")
        row = BenchSecret(
            id=new_id(),
            org_id=principal.org_id,
            workspace_id=workspace_id,
            name=name,
            value_enc=sealed,
            created_at=datetime.now(UTC),
        )
        session.add(row)
    return SecretInfo(row.id, row.name, row.created_at)


async def list_secrets(container: Container, principal: Principal) -> list[SecretInfo]:
    async with container.sessions.begin() as session:
        found = await rows.list_rows(session, BenchSecret, _workspace(principal))
    return [SecretInfo(r.id, r.name, r.created_at) for r in found]


async def secret_values(
    container: Container, principal: Principal, secret_ids: Sequence[str]
) -> dict[str, str]:
    """Environment variables for sandboxes: name -> decrypted value, for these secret ids."""
    if not secret_ids:
        return {}
    async with container.sessions.begin() as session:
        found = await rows.get_rows(session, BenchSecret, _workspace(principal), secret_ids)
    missing = sorted(set(secret_ids) - {r.id for r in found})
    if missing:
        raise ValidationFailed.for_field(
            ("secret_ids",), f"no secret {missing[0]!r} in this workspace"
        )
    return {r.name: str(container.secrets.open(r.value_enc)["value"]) for r in found}


_MODELS: dict[str, rows.Model] = {
    "dataset": BenchDataset,
    "runtime": BenchRuntime,
    "secret": BenchSecret,
}


async def delete_resource(
    container: Container, principal: Principal, resource: str, resource_id: str
) -> None:
    """Delete a dataset, runtime or secret of the workspace; NotFound when it has none."""
    require_role(principal, Role.MEMBER)
    async with container.sessions.begin() as session:
        deleted = await rows.delete_row(
            session, _MODELS[resource], _workspace(principal), resource_id
        )
    if not deleted:
        raise NotFound(f"{resource} {resource_id!r} not found")


def check_sandbox_provider(container: Container, name: str) -> None:
    """Refuse, before anything is stored, a sandbox provider this server's policy forbids.

    Raises:
        ValidationFailed: unknown provider, or one the policy refuses (``local`` unless
            ``ASSAY_SANDBOX_LOCAL_ENABLED``), naming ``sandbox_provider``.
    """
    try:
        get_sandbox_provider(name, container.settings.sandbox_policy)
    except ConfigurationError as exc:
        raise ValidationFailed.for_field(("sandbox_provider",), exc.message) from None
