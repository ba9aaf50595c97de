"""Harnesses: the built-in ones by name, and an organization's custom ones by id.

A custom harness is a named list of probes in the same shape as the built-in catalogue's.
Evaluations copy the probes they run into their spec when they are created, so editing or
deleting a harness later never changes an evaluation that already ran.

Like an agent, a custom harness belongs to one workspace or to the whole organization
(``workspace`` None), with the same visibility and change rules
(:mod:`assay.services.access`); ids and names are unique per organization.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from assay.core.errors import Conflict, HarnessNotFound, NotFound, ValidationFailed
from assay.core.principal import Principal, Role
from assay.probes.base import DetectorRef, Dimension, Probe, Severity
from assay.services.access import require_change, require_role
from assay.services.container import Container
from assay.services.tenancy import workspace_for_new
from assay.store.repositories import harnesses as harness_rows
from assay.store.tables import Harness

_HARNESS_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")
#: Most probes one custom harness may hold.
MAX_PROBES = 1000


class ProbeInput(BaseModel):
    """A custom probe as clients send it: ``prompt`` (one) or ``prompts`` (several)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Stable id; `<harness id>.<n>` when omitted.",
    )
    prompt: str | None = Field(default=None, min_length=1)
    prompts: list[str] | None = Field(default=None, min_length=1, max_length=10)
    system_prompt: str | None = Field(
        default=None,
        description=(
            "Planted before the prompt; `{canary}` in it is replaced by a per-probe secret token."
        ),
    )
    detector: DetectorRef = Field(
        description=(
            'How the answer is judged, e.g. `{"name": "refusal"}` or `{"name": "canary_leak"}`.'
        )
    )
    severity: Severity = Severity.MEDIUM
    category: Dimension = Field(
        description="The dimension it scores: `security`, `safety` or `reliability`."
    )
    subcategory: str = Field(default="custom", min_length=1, max_length=200)
    description: str | None = None

    @model_validator(mode="after")
    def _one_prompt_field(self) -> ProbeInput:
        if (self.prompt is None) == (self.prompts is None):
            raise ValueError("give exactly one of prompt or prompts")
        return self


class HarnessView(BaseModel):
    id: str
    name: str
    #: The slug of the workspace it belongs to; None: the whole organization.
    workspace: str | None
    description: str | None
    probe_count: int
    probes: list[Probe]
    created_at: datetime


def _view(harness: Harness) -> HarnessView:
    probes = [Probe.model_validate(p) for p in harness.probes]
    return HarnessView(
        id=harness.id,
        name=harness.name,
        workspace=harness.workspace.slug if harness.workspace else None,
        description=harness.description,
        probe_count=len(probes),
        probes=probes,
        created_at=harness.created_at,
    )


def probes_from_input(harness_id: str, raw: list[dict[str, Any]]) -> list[Probe]:
    """Validate custom probes; errors are located at ``probes.<i>...``.

    Raises:
        ValidationFailed: a probe is malformed, its detector is unknown or has bad
            parameters, or two probes share an id.
    """
    from assay.scoring.detectors import validate_detector

    if not raw:
        raise ValidationFailed.for_field(("probes",), "give at least one probe")
    if len(raw) > MAX_PROBES:
        raise ValidationFailed.for_field(("probes",), f"at most {MAX_PROBES} probes")
    probes: list[Probe] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        try:
            given = ProbeInput.model_validate(item)
        except PydanticValidationError as exc:
            raise ValidationFailed.from_pydantic(
                exc, prefix=("probes", index), model=ProbeInput
            ) from None
        try:
            validate_detector(given.detector.name, given.detector.params)
        except ValidationFailed as exc:
            errors = [e | {"loc": ["probes", index, *e["loc"]]} for e in exc.errors]
            message = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
            raise ValidationFailed(message or exc.message, errors) from None
        probe_id = given.id or f"{harness_id}.{index + 1:03d}"
        if probe_id in seen:
            raise ValidationFailed.for_field(
                ("probes", index, "id"), f"duplicates probes.{seen[probe_id]}.id {probe_id!r}"
            )
        seen[probe_id] = index
        probes.append(
            Probe(
                id=probe_id,
                category=given.category,
                subcategory=given.subcategory,
                severity=given.severity,
                prompts=given.prompts or [given.prompt or ""],
                system_prompt=given.system_prompt,
                detector=given.detector,
                description=given.description,
            )
        )
    return probes


async def create_harness(
    container: Container,
    principal: Principal,
    name: str,
    probes: list[dict[str, Any]],
    description: str | None = None,
    harness_id: str | None = None,
    workspace: str | None = None,
) -> HarnessView:
    """Validate and store a custom harness in ``workspace`` (a slug; default: the key's).

    Raises:
        ValidationFailed: a bad id, a built-in harness's name as id, a bad probe, or an
            unknown workspace.
        PermissionDenied: see :func:`assay.services.tenancy.workspace_for_new`.
        Conflict: the organization (in any workspace) has a harness with this id or name.
    """
    from assay.probes.catalog import BUILTIN_HARNESSES

    require_role(principal, Role.MEMBER)
    if harness_id is not None and not _HARNESS_ID.match(harness_id):
        raise ValidationFailed.for_field(
            ("id",),
            "must be 1-200 characters of letters, digits and . _ : - (starting with a letter or digit)",
        )
    if harness_id in BUILTIN_HARNESSES:
        raise ValidationFailed.for_field(("id",), f"{harness_id!r} is a built-in harness name")
    harness_id = harness_id or f"harness-{uuid.uuid4()}"
    parsed = probes_from_input(harness_id, probes)
    async with container.sessions.begin() as session:
        owner = await workspace_for_new(session, principal, workspace)
        if await harness_rows.find_conflict(session, principal.org_id, harness_id, name):
            raise Conflict(
                f"a harness with id {harness_id!r} or name {name!r} already exists in the "
                "organization"
            )
        harness = Harness(
            org_id=principal.org_id,
            id=harness_id,
            workspace_id=owner.id if owner else None,
            workspace=owner,
            name=name,
            description=description,
            probes=[p.model_dump(mode="json") for p in parsed],
        )
        session.add(harness)
    return _view(harness)


async def get_harness(container: Container, principal: Principal, harness_id: str) -> HarnessView:
    async with container.sessions() as session:
        harness = await harness_rows.get_harness(
            session, principal.org_id, harness_id, workspace_id=principal.workspace_id
        )
    if harness is None:
        raise HarnessNotFound(f"harness {harness_id!r} not found")
    return _view(harness)


async def list_harnesses(
    container: Container, principal: Principal, limit: int, offset: int
) -> tuple[list[HarnessView], int]:
    """A page of the custom harnesses the key sees, newest first, and their total."""
    async with container.sessions() as session:
        rows, total = await harness_rows.list_harnesses(
            session, principal.org_id, limit, offset, workspace_id=principal.workspace_id
        )
    return [_view(h) for h in rows], total


async def delete_harness(container: Container, principal: Principal, harness_id: str) -> None:
    """Delete a custom harness; evaluations that ran it keep their copy of its probes.

    Raises:
        HarnessNotFound: the key cannot see a harness with this id.
        PermissionDenied: a reviewer key, or an organization-wide harness and a key that
            is not an organization-wide admin key.
    """
    async with container.sessions.begin() as session:
        harness = await harness_rows.get_harness(
            session, principal.org_id, harness_id, workspace_id=principal.workspace_id
        )
        if harness is None:
            raise HarnessNotFound(f"harness {harness_id!r} not found")
        require_change(principal, harness.workspace_id, f"harness {harness_id!r}")
        await harness_rows.delete_harness(session, harness)


async def resolve_probes(
    container: Container, principal: Principal, names: list[str]
) -> list[Probe]:
    """The probes the named harnesses run, each probe once, in the order the names were given.

    A name is a built-in harness (``trust_score``, ``security``, ``reliability``,
    ``safety``) or the id of a custom harness the key sees (its workspace's or an
    organization-wide one). A custom probe whose
    id a different probe already took is renamed ``<harness id>:<probe id>``.

    Raises:
        HarnessNotFound: names that are neither (all of them are listed).
    """
    from assay.probes.catalog import BUILTIN_HARNESSES, probes_for_harness

    custom_ids = [n for n in names if n not in BUILTIN_HARNESSES]
    async with container.sessions() as session:
        custom = await harness_rows.get_many(
            session, principal.org_id, custom_ids, workspace_id=principal.workspace_id
        )
    unknown = [n for n in custom_ids if n not in custom]
    if unknown:
        raise HarnessNotFound(
            f"harnesses not found: {', '.join(repr(n) for n in unknown)}; built-in harnesses "
            f"are {', '.join(BUILTIN_HARNESSES)}, custom ones are referenced by id"
        )
    chosen: dict[str, Probe] = {}
    for name in dict.fromkeys(names):
        if name in custom:
            probes = [Probe.model_validate(p) for p in custom[name].probes]
        else:
            try:
                probes = probes_for_harness(name)
            except NotFound as exc:
                raise HarnessNotFound(exc.message) from None
        for probe in probes:
            existing = chosen.get(probe.id)
            if existing is None or existing == probe:
                chosen[probe.id] = probe
            else:
                renamed = probe.model_copy(update={"id": f"{name}:{probe.id}"})
                chosen[renamed.id] = renamed
    return list(chosen.values())
