"""Personas and scenarios of a project (seed 004); evals are in ``services/evals.py``.

Personas belong to scenarios (``persona_ids``), scenarios to evals (``scenario_ids``).
References are checked when they are written (an unknown id is NotFound) and kept intact
afterwards: deleting a persona or scenario that is still referenced is a Conflict naming what
refers to it, so an eval never silently loses a part.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from assay.core.errors import Conflict, NotFound, ValidationFailed
from assay.core.ids import new_id
from assay.core.principal import Principal, Role
from assay.core.text import LANGUAGE_MAX
from assay.services.access import require_role
from assay.services.container import Container
from assay.services.projects import project_in
from assay.store.repositories import simulations as rows
from assay.store.tables import Persona, Scenario

PERSONA_NOT_FOUND = "Persona not found"
SCENARIO_NOT_FOUND = "Scenario not found"
Level = Literal["low", "medium", "high"]


class Traits(BaseModel):
    """How a simulated user behaves; every trait is optional."""

    model_config = ConfigDict(extra="forbid")

    patience: Level | None = None
    verbosity: Level | None = None
    language: str | None = Field(
        default=None,
        min_length=1,
        max_length=LANGUAGE_MAX,
        description="The language the user writes in, e.g. `English`, `de`.",
    )
    tech_savviness: Level | None = None


class PersonaFields(BaseModel):
    name: str | None = None
    description: str | None = None
    traits: Traits | None = None


class PersonaView(BaseModel):
    id: str
    name: str
    description: str
    traits: Traits | None
    created_at: datetime
    updated_at: datetime


class ScenarioFields(BaseModel):
    name: str | None = None
    instructions: str | None = None
    max_messages: int | None = Field(default=None, ge=1, le=100)
    success_criteria: str | None = None
    failure_criteria: str | None = None
    persona_ids: list[str] | None = None


class ScenarioView(BaseModel):
    id: str
    name: str
    instructions: str
    max_messages: int
    success_criteria: str | None
    failure_criteria: str | None
    persona_ids: list[str]
    created_at: datetime
    updated_at: datetime


def persona_view(p: Persona) -> PersonaView:
    return PersonaView(
        id=p.id,
        name=p.name,
        description=p.description,
        traits=Traits.model_validate(p.traits) if p.traits is not None else None,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def scenario_view(s: Scenario) -> ScenarioView:
    return ScenarioView(
        id=s.id,
        name=s.name,
        instructions=s.instructions,
        max_messages=s.max_messages,
        success_criteria=s.success_criteria,
        failure_criteria=s.failure_criteria,
        persona_ids=list(s.persona_ids),
        created_at=s.created_at,
        updated_at=s.updated_at,
    )


def require_text(value: str | None, field: str, *, given: bool = True) -> str | None:
    """The trimmed-non-empty value; a given blank one (or a missing required one) is an error."""
    if value is None or not value.strip():
        if given:
            raise ValidationFailed.for_field((field,), "is required", "missing")
        return None
    return value


def require_ids(
    values: list[str] | None, field: str, *, required: bool = False, allow_empty: bool = False
) -> list[str] | None:
    """A list of ids without repeats (None when not given).

    Missing or empty is "required" when ``required``; empty is "cannot be empty" unless
    ``allow_empty``.
    """
    if not values:
        if required:
            raise ValidationFailed.for_field((field,), "is required", "missing")
        if values is not None and not allow_empty:
            raise ValidationFailed.for_field((field,), "cannot be empty", "empty")
        return values
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValidationFailed.for_field((field,), f"lists {value!r} twice")
        seen.add(value)
    return values


async def check_exist(
    session: AsyncSession,
    model: type[rows.Row],
    project_id: str,
    ids: Sequence[str],
    message: str,
) -> None:
    found: dict[str, Any] = await rows.get_many(session, model, project_id, ids)
    if any(i not in found for i in ids):
        raise NotFound(message)


# -- personas -------------------------------------------------------------------------------


async def create_persona(
    container: Container, principal: Principal, project_ref: str, fields: PersonaFields
) -> PersonaView:
    require_role(principal, Role.MEMBER)
    async with container.sessions.begin() as session:
        project = await project_in(session, principal, project_ref)
        name = require_text(fields.name, "name")
        description = require_text(fields.description, "description")
        assert name is not None and description is not None
        now = datetime.now(UTC)
        persona = Persona(
            id=new_id(),
            org_id=principal.org_id,
            project_id=project.id,
            name=name,
            description=description,
            traits=fields.traits.model_dump(exclude_none=True) if fields.traits else None,
            created_at=now,
            updated_at=now,
        )
        session.add(persona)
        await session.flush()
        return persona_view(persona)


async def list_personas(
    container: Container, principal: Principal, project_ref: str
) -> list[PersonaView]:
    async with container.sessions() as session:
        project = await project_in(session, principal, project_ref)
        return [persona_view(p) for p in await rows.list_rows(session, Persona, project.id)]


async def get_persona(
    container: Container, principal: Principal, project_ref: str, persona_id: str
) -> PersonaView:
    async with container.sessions() as session:
        project = await project_in(session, principal, project_ref)
        persona = await rows.require_row(
            session, Persona, project.id, persona_id, PERSONA_NOT_FOUND
        )
        return persona_view(persona)


async def update_persona(
    container: Container,
    principal: Principal,
    project_ref: str,
    persona_id: str,
    fields: PersonaFields,
) -> PersonaView:
    """Change the given fields; ``traits: null`` removes the traits."""
    require_role(principal, Role.MEMBER)
    async with container.sessions.begin() as session:
        project = await project_in(session, principal, project_ref)
        given = fields.model_fields_set
        name = require_text(fields.name, "name", given="name" in given)
        description = require_text(fields.description, "description", given="description" in given)
        persona = await rows.require_row(
            session, Persona, project.id, persona_id, PERSONA_NOT_FOUND
        )
        persona.name = name or persona.name
        persona.description = description or persona.description
        if "traits" in given:
            persona.traits = fields.traits.model_dump(exclude_none=True) if fields.traits else None
        persona.updated_at = datetime.now(UTC)
        await session.flush()
        return persona_view(persona)


async def delete_persona(
    container: Container, principal: Principal, project_ref: str, persona_id: str
) -> None:
    require_role(principal, Role.MEMBER)
    async with container.sessions.begin() as session:
        project = await project_in(session, principal, project_ref)
        persona = await rows.require_row(
            session, Persona, project.id, persona_id, PERSONA_NOT_FOUND
        )
        users = await rows.scenarios_using_persona(session, project.id, persona_id)
        if users:
            names = ", ".join(repr(s.name) for s in users)
            raise Conflict(f"Persona is used by scenarios {names}; remove it from them first")
        await rows.delete_row(session, persona)


# -- scenarios ------------------------------------------------------------------------------


async def create_scenario(
    container: Container, principal: Principal, project_ref: str, fields: ScenarioFields
) -> ScenarioView:
    require_role(principal, Role.MEMBER)
    async with container.sessions.begin() as session:
        project = await project_in(session, principal, project_ref)
        name = require_text(fields.name, "name")
        instructions = require_text(fields.instructions, "instructions")
        assert name is not None and instructions is not None
        persona_ids = require_ids(fields.persona_ids, "persona_ids", allow_empty=True) or []
        now = datetime.now(UTC)
        await check_exist(session, Persona, project.id, persona_ids, PERSONA_NOT_FOUND)
        scenario = Scenario(
            id=new_id(),
            org_id=principal.org_id,
            project_id=project.id,
            name=name,
            instructions=instructions,
            max_messages=fields.max_messages or 10,
            success_criteria=fields.success_criteria or None,
            failure_criteria=fields.failure_criteria or None,
            persona_ids=persona_ids,
            created_at=now,
            updated_at=now,
        )
        session.add(scenario)
        await session.flush()
        return scenario_view(scenario)


async def list_scenarios(
    container: Container, principal: Principal, project_ref: str
) -> list[ScenarioView]:
    async with container.sessions() as session:
        project = await project_in(session, principal, project_ref)
        return [scenario_view(s) for s in await rows.list_rows(session, Scenario, project.id)]


async def get_scenario(
    container: Container, principal: Principal, project_ref: str, scenario_id: str
) -> ScenarioView:
    async with container.sessions() as session:
        project = await project_in(session, principal, project_ref)
        scenario = await rows.require_row(
            session, Scenario, project.id, scenario_id, SCENARIO_NOT_FOUND
        )
        return scenario_view(scenario)


async def update_scenario(
    container: Container,
    principal: Principal,
    project_ref: str,
    scenario_id: str,
    fields: ScenarioFields,
) -> ScenarioView:
    """Change the given fields; null criteria are removed, ``personaIds: []`` unlinks all."""
    require_role(principal, Role.MEMBER)
    async with container.sessions.begin() as session:
        project = await project_in(session, principal, project_ref)
        given = fields.model_fields_set
        name = require_text(fields.name, "name", given="name" in given)
        instructions = require_text(
            fields.instructions, "instructions", given="instructions" in given
        )
        if "max_messages" in given and fields.max_messages is None:
            raise ValidationFailed.for_field(("max_messages",), "must be between 1 and 100")
        persona_ids = require_ids(fields.persona_ids, "persona_ids", allow_empty=True)
        scenario = await rows.require_row(
            session, Scenario, project.id, scenario_id, SCENARIO_NOT_FOUND
        )
        if persona_ids is not None:
            await check_exist(session, Persona, project.id, persona_ids, PERSONA_NOT_FOUND)
            scenario.persona_ids = list(persona_ids)
        scenario.name = name or scenario.name
        scenario.instructions = instructions or scenario.instructions
        scenario.max_messages = fields.max_messages or scenario.max_messages
        for field in ("success_criteria", "failure_criteria"):
            if field in given:
                setattr(scenario, field, getattr(fields, field) or None)
        scenario.updated_at = datetime.now(UTC)
        await session.flush()
        return scenario_view(scenario)


async def delete_scenario(
    container: Container, principal: Principal, project_ref: str, scenario_id: str
) -> None:
    require_role(principal, Role.MEMBER)
    async with container.sessions.begin() as session:
        project = await project_in(session, principal, project_ref)
        scenario = await rows.require_row(
            session, Scenario, project.id, scenario_id, SCENARIO_NOT_FOUND
        )
        users = await rows.evals_using_scenario(session, project.id, scenario_id)
        if users:
            names = ", ".join(repr(e.name) for e in users)
            raise Conflict(f"Scenario is used by evals {names}; remove it from them first")
        await rows.delete_row(session, scenario)
