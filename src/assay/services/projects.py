"""Projects (seed 004): the organization's projects and each one's simulator and judge models.

A project is addressed by its id or its slug (``default``); another organization's project,
or one outside a workspace-scoped key's workspace, is NotFound. The LLM settings say which
models simulate users and judge conversations; unset, both are the server's judge model
(``ASSAY_JUDGE_MODEL``). Their API key is stored encrypted and never returned.

A project may also name an ``attacker`` model: the default attacker of the trust
evaluations filed in it (multi-turn and tap attack probes) when an evaluation names none.
It has its own optional API key, stored encrypted beside the project's key (one sealed
``llm_api_key_enc`` holds both, so key rotation reaches it) and never returned. That key
belongs to the endpoint it was given for: changing the attacker's provider or base URL
without a new key drops it, so a stored key never follows a model to another URL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from assay.core.errors import NotFound, ValidationFailed
from assay.core.principal import Principal, Role
from assay.core.spec import ModelRef
from assay.providers._registry import is_known_provider, known_providers
from assay.services.access import require_role
from assay.services.container import Container
from assay.store.repositories import projects as project_rows
from assay.store.tables import Project

PROJECT_NOT_FOUND = "Project not found"


class ModelSettings(BaseModel):
    """One model of a project: ``provider`` and ``model``, and an optional server URL."""

    model_config = ConfigDict(extra="forbid")

    provider: str = Field(
        min_length=1, description="A provider name: `openai`, `anthropic`, `mock`, ..."
    )
    model: str = Field(min_length=1)
    base_url: str | None = Field(
        default=None,
        description="For OpenAI-compatible servers (vLLM, Ollama, ...): the API base URL.",
    )

    def ref(self) -> ModelRef:
        return ModelRef(provider=self.provider, model=self.model, base_url=self.base_url)


class AttackerSettings(ModelSettings):
    has_api_key: bool = False


class LLMSettings(BaseModel):
    simulator: ModelSettings
    judge: ModelSettings
    has_api_key: bool = False
    attacker: AttackerSettings | None = None


class ProjectView(BaseModel):
    id: str
    slug: str
    name: str
    workspace_id: str
    llm_settings: LLMSettings
    created_at: datetime
    updated_at: datetime


class ProjectUpdate(BaseModel):
    """What a partial update changes; fields left out of ``model_fields_set`` stay as they are."""

    name: str | None = None
    simulator: ModelSettings | None = None
    judge: ModelSettings | None = None
    #: A new key; None in ``model_fields_set`` removes the stored one.
    api_key: str | None = None
    #: The default attacker; None in ``model_fields_set`` removes it (and its key).
    attacker: ModelSettings | None = None
    #: The attacker's own key; None in ``model_fields_set`` removes it.
    attacker_api_key: str | None = None


#: Names in the sealed ``llm_api_key_enc`` mapping.
_KEY = "api_key"
_ATTACKER_KEY = "attacker_api_key"


async def project_in(session: AsyncSession, principal: Principal, ref: str) -> Project:
    """The caller's project named by id or slug; anything else is NotFound."""
    project = await project_rows.find_project(
        session, principal.org_id, ref, principal.workspace_id
    )
    if project is None:
        raise NotFound(PROJECT_NOT_FOUND)
    return project


def _default_model(container: Container) -> ModelSettings:
    ref = ModelRef.parse(container.settings.judge_model, field="ASSAY_JUDGE_MODEL")
    return ModelSettings(provider=ref.provider, model=ref.model, base_url=ref.base_url)


def _stored_keys(container: Container, project: Project) -> dict[str, str]:
    """The project's sealed keys: ``api_key`` (simulator and judge), ``attacker_api_key``."""
    if project.llm_api_key_enc is None:
        return {}
    return {k: v for k, v in container.secrets.open(project.llm_api_key_enc).items() if v}


def llm_settings_of(container: Container, project: Project) -> LLMSettings:
    stored = project.llm_settings or {}
    default = _default_model(container)
    keys = _stored_keys(container, project)
    return LLMSettings(
        simulator=ModelSettings.model_validate(stored["simulator"])
        if "simulator" in stored
        else default,
        judge=ModelSettings.model_validate(stored["judge"]) if "judge" in stored else default,
        has_api_key=_KEY in keys,
        attacker=AttackerSettings(**stored["attacker"], has_api_key=_ATTACKER_KEY in keys)
        if "attacker" in stored
        else None,
    )


def provider_secrets(container: Container, project: Project) -> dict[str, dict[str, Any]]:
    """The project's API key for the providers of its simulator and judge (secrets["providers"])."""
    key = _stored_keys(container, project).get(_KEY)
    if key is None:
        return {}
    settings = llm_settings_of(container, project)
    return {m.provider: {"api_key": key} for m in (settings.simulator, settings.judge)}


def attacker_of(
    container: Container, project: Project
) -> tuple[ModelRef, dict[str, dict[str, Any]]] | None:
    """The project's default attacker and its key as ``secrets["roles"]``; None if unset.

    Under its role, the key goes to the attacker alone (``engine/runtime.py``), never to
    the judge or another model of the same provider.
    """
    stored = (project.llm_settings or {}).get("attacker")
    if stored is None:
        return None
    model = ModelSettings.model_validate(stored)
    key = _stored_keys(container, project).get(_ATTACKER_KEY)
    return model.ref(), ({"attacker": {"api_key": key}} if key else {})


def _view(container: Container, project: Project) -> ProjectView:
    return ProjectView(
        id=project.id,
        slug=project.slug,
        name=project.name,
        workspace_id=project.workspace_id,
        llm_settings=llm_settings_of(container, project),
        created_at=project.created_at,
        updated_at=project.updated_at or project.created_at,
    )


def _check_provider(model: ModelSettings, field: str) -> None:
    if not is_known_provider(model.provider):
        known = known_providers()
        raise ValidationFailed.for_field(
            ("llm_settings", field, "provider"),
            f"unknown provider {model.provider!r}; known providers: {', '.join(known)}",
        )


async def list_projects(container: Container, principal: Principal) -> list[ProjectView]:
    async with container.sessions() as session:
        rows = await project_rows.list_projects(session, principal.org_id, principal.workspace_id)
        return [_view(container, p) for p in rows]


async def get_project(container: Container, principal: Principal, ref: str) -> ProjectView:
    async with container.sessions() as session:
        return _view(container, await project_in(session, principal, ref))


async def update_project(
    container: Container, principal: Principal, ref: str, update: ProjectUpdate
) -> ProjectView:
    """Rename a project or change its models; the API keys are replaced or removed only if given.

    Raises:
        NotFound: no such project for the caller.
        ValidationFailed: an unknown provider (loc ``llm_settings.<model>.provider``), a
            base URL the outbound policy refuses (``llm_settings.<model>.base_url``), or an
            attacker key without an attacker (``llm_settings.attacker.api_key``).
    """
    require_role(principal, Role.MEMBER)
    given = update.model_fields_set
    async with container.sessions.begin() as session:
        project = await project_in(session, principal, ref)
        for field in ("simulator", "judge", "attacker"):
            model = getattr(update, field)
            if model is not None:
                _check_provider(model, field)
                container.settings.outbound_policy.check_field(
                    ("llm_settings", field, "base_url"), model.base_url
                )
        if update.name is not None:
            project.name = update.name
        stored = dict(project.llm_settings or {})
        keys = _stored_keys(container, project)
        if "attacker" in given:
            _replace_attacker(stored, keys, update.attacker)
        if update.attacker_api_key and "attacker" not in stored:
            raise ValidationFailed.for_field(
                ("llm_settings", "attacker", "api_key"), "needs an attacker model to belong to"
            )
        for field in ("simulator", "judge"):
            model = getattr(update, field)
            if model is not None:
                stored[field] = model.model_dump(mode="json", exclude_none=True)
        project.llm_settings = stored or None
        for field, name in (("api_key", _KEY), ("attacker_api_key", _ATTACKER_KEY)):
            if field in given:
                keys.pop(name, None)
                value = getattr(update, field)
                if value:
                    keys[name] = value
        project.llm_api_key_enc = container.secrets.seal(keys) if keys else None
        project.updated_at = datetime.now(UTC)
        await session.flush()
        return _view(container, project)


def _replace_attacker(
    stored: dict[str, Any], keys: dict[str, str], attacker: ModelSettings | None
) -> None:
    """Set or remove the attacker in ``stored``; its key goes unless the endpoint is the same."""
    before = stored.pop("attacker", None)
    if attacker is None:
        keys.pop(_ATTACKER_KEY, None)
        return
    stored["attacker"] = attacker.model_dump(mode="json", exclude_none=True)
    same = before is not None and (before.get("provider"), before.get("base_url")) == (
        attacker.provider,
        attacker.base_url,
    )
    if not same:
        keys.pop(_ATTACKER_KEY, None)
