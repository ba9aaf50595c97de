"""Connectors (seed 004): a project's agents under test, each one a target of some kind.

A connector is stored as it was given (``type``, ``base_url``, the type's own ``config``,
``headers``) with its credentials encrypted, and becomes a :class:`TargetSpec` whenever an
eval runs. It is validated by building that target's configuration with
``validate_agent_config`` on every create and update, so errors name the connector's own
fields (``base_url``, ``config.assistant_id``, ``credentials.api_key``), never a target's.

==============  ==============  =====================================================
type            target kind     ``base_url`` becomes / credentials
==============  ==============  =====================================================
``langgraph``   ``langgraph``   ``base_url``; ``api_key`` is the target's ``api_key``
``openai-chat`` ``openai-chat`` ``base_url``; ``api_key`` is the target's ``api_key``
``http``        ``http``        ``url``; ``api_key`` is sent as ``Authorization:
                                Bearer``, ``headers`` are secret headers
==============  ==============  =====================================================

A connector is also *checked* when it is created or updated, and on ``test``: its platform is
asked whether the key and the agent it names are right, running nothing (a ``langgraph``
deployment is asked for the assistant; the other types have nothing to ask). A definite no
(the key refused, no such assistant) is a ValidationFailed naming the field, so the mistake
is a 400 then instead of every run failing later. A platform that cannot be reached does not
stop a create or an update (it may not be deployed yet); ``test`` reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pydantic import BaseModel

from assay.core.errors import (
    AssayError,
    ConfigurationError,
    Conflict,
    OutboundRefused,
    ProviderRejected,
    ValidationFailed,
)
from assay.core.ids import new_id
from assay.core.outbound import OutboundPolicy
from assay.core.principal import Principal, Role
from assay.core.spec import TargetSpec
from assay.services.access import require_role
from assay.services.container import Container
from assay.services.projects import project_in
from assay.store.repositories import simulations as rows
from assay.store.tables import Connector
from assay.targets._registry import create_target, validate_agent_config

CONNECTOR_NOT_FOUND = "Connector not found"
#: Seconds a check waits for the connector's platform (a create must not hang on it).
CHECK_SECONDS = 10.0
#: Connector type -> the target kind it runs as.
CONNECTOR_TYPES: dict[str, str] = {
    "langgraph": "langgraph",
    "openai-chat": "openai-chat",
    "http": "http",
}


class ConnectorFields(BaseModel):
    """A connector's fields; an update changes only those in ``model_fields_set``."""

    name: str | None = None
    type: str | None = None
    base_url: str | None = None
    config: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    #: ``api_key`` (and for ``http``, ``headers``); None in an update removes them.
    credentials: dict[str, Any] | None = None


class ConnectorView(BaseModel):
    id: str
    project_id: str
    name: str
    type: str
    base_url: str
    config: dict[str, Any]
    headers: dict[str, str]
    has_credentials: bool
    created_at: datetime
    updated_at: datetime


class ConnectorTarget(NamedTuple):
    spec: TargetSpec
    secrets: dict[str, Any]


def view_of(connector: Connector) -> ConnectorView:
    return ConnectorView(
        id=connector.id,
        project_id=connector.project_id,
        name=connector.name,
        type=connector.type,
        base_url=connector.base_url,
        config=dict(connector.config),
        headers=dict(connector.headers),
        has_credentials=connector.credentials_enc is not None,
        created_at=connector.created_at,
        updated_at=connector.updated_at,
    )


def _target_settings(
    type_: str,
    base_url: str,
    config: dict[str, Any],
    headers: dict[str, str],
    creds: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The target's config and secrets for a connector (not yet validated)."""
    url_field = "url" if type_ == "http" else "base_url"
    target_config = {**config, url_field: base_url, "headers": dict(headers)}
    secrets = dict(creds)
    if type_ == "http":
        api_key = secrets.pop("api_key", None)
        secret_headers = dict(secrets.pop("headers", None) or {})
        if api_key:
            secret_headers.setdefault("Authorization", f"Bearer {api_key}")
        if secret_headers:
            secrets["headers"] = secret_headers
    return target_config, secrets


def _connector_loc(loc: Sequence[Any], type_: str) -> list[Any]:
    """A target's error location in the connector's own terms."""
    head, rest = (loc[0], list(loc[1:])) if loc else ("", [])
    if head == "kind":
        return ["type"]
    if head == "secrets":
        if type_ == "http" and rest[:2] == ["headers", "Authorization"]:
            return ["credentials", "api_key"]
        return ["credentials", *rest]
    if rest and rest[0] in ("base_url", "url"):
        return ["base_url", *rest[1:]]
    if rest and rest[0] == "headers":
        return rest
    return ["config", *rest]


def validate_connector(
    type_: str,
    base_url: str,
    config: dict[str, Any],
    headers: dict[str, str],
    creds: dict[str, Any],
    outbound: OutboundPolicy,
) -> None:
    """Build the connector's target configuration once; raises ValidationFailed naming the field.

    ``base_url`` must be a URL the outbound policy allows.
    """
    if type_ not in CONNECTOR_TYPES:
        raise ValidationFailed.for_field(
            ("type",), f"must be one of {', '.join(CONNECTOR_TYPES)}, got {type_!r}"
        )
    target_config, secrets = _target_settings(type_, base_url, config, headers, creds)
    try:
        validate_agent_config(CONNECTOR_TYPES[type_], target_config, secrets, outbound)
    except ValidationFailed as exc:
        errors = [e | {"loc": _connector_loc(e["loc"], type_)} for e in exc.errors]
        message = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
        raise ValidationFailed(message or exc.message, errors) from None


async def check_connector(
    type_: str,
    base_url: str,
    config: dict[str, Any],
    headers: dict[str, str],
    creds: dict[str, Any],
    outbound: OutboundPolicy,
    *,
    require_reachable: bool,
) -> None:
    """Ask the connector's platform whether its key and agent are right (see the module).

    Raises:
        ValidationFailed: the key was refused (``credentials.api_key``), the agent is not
            there (``config.assistant_id``), or, with ``require_reachable``, the platform
            could not be asked (``base_url``).
    """
    target_config, secrets = _target_settings(type_, base_url, config, headers, creds)
    if CONNECTOR_TYPES[type_] == "langgraph":
        target_config["timeout"] = CHECK_SECONDS
    spec = TargetSpec(kind=CONNECTOR_TYPES[type_], config=target_config)
    try:
        target = create_target(spec, secrets, _no_provider, outbound)
    except ConfigurationError:
        return  # a model-backed type (openai-chat): no platform of its own to ask up front
    try:
        await target.check()
    except OutboundRefused as exc:
        raise ValidationFailed.for_field(("base_url",), exc.message) from None
    except ProviderRejected as exc:
        answer = "is missing" if not creds.get("api_key") else "was refused"
        raise ValidationFailed.for_field(
            ("credentials", "api_key"), f"{answer} (HTTP {exc.status_code}): {exc.message}"
        ) from None
    except ConfigurationError as exc:
        raise ValidationFailed.for_field(
            ("config", "assistant_id"), f"names nothing the deployment has: {exc.message}"
        ) from None
    except AssayError as exc:
        if require_reachable:
            raise ValidationFailed.for_field(
                ("base_url",), f"could not be asked: {exc.message}"
            ) from None
    finally:
        await target.aclose()


async def _validate_and_check(
    container: Container,
    type_: str,
    base_url: str,
    config: dict[str, Any],
    headers: dict[str, str],
    creds: dict[str, Any],
) -> None:
    """What a create and an update require: a valid connector its platform does not refuse."""
    outbound = container.settings.outbound_policy
    validate_connector(type_, base_url, config, headers, creds, outbound)
    if container.settings.check_connectors:
        await check_connector(
            type_, base_url, config, headers, creds, outbound, require_reachable=False
        )


def _no_provider(*_args: Any) -> Any:
    """A check builds no model provider: a type that needs one is not checked."""
    raise ConfigurationError("a model-backed connector is not checked")


def target_of(container: Container, connector: Connector) -> ConnectorTarget:
    """The connector as an evaluation target, with its decrypted credentials as secrets."""
    creds = container.secrets.open(connector.credentials_enc)
    config, secrets = _target_settings(
        connector.type, connector.base_url, connector.config, connector.headers, creds
    )
    spec = TargetSpec(kind=CONNECTOR_TYPES[connector.type], name=connector.name, config=config)
    return ConnectorTarget(spec, secrets)


def _require(value: str | None, field: str) -> str:
    if value is None or not value.strip():
        raise ValidationFailed.for_field((field,), "is required", "missing")
    return value


async def create_connector(
    container: Container, principal: Principal, project_ref: str, fields: ConnectorFields
) -> ConnectorView:
    """Validate and store a connector; its credentials are encrypted.

    Raises:
        NotFound: no such project for the caller.
        ValidationFailed: a missing or wrong field, named (never echoing a credential).
    """
    require_role(principal, Role.MEMBER)
    async with container.sessions.begin() as session:
        project = await project_in(session, principal, project_ref)
        name = _require(fields.name, "name")
        type_ = _require(fields.type, "type")
        base_url = _require(fields.base_url, "base_url")
        config, headers, creds = fields.config or {}, fields.headers or {}, fields.credentials or {}
        await _validate_and_check(container, type_, base_url, config, headers, creds)
        now = datetime.now(UTC)
        connector = Connector(
            id=new_id(),
            org_id=principal.org_id,
            project_id=project.id,
            name=name,
            type=type_,
            base_url=base_url,
            config=config,
            headers=headers,
            credentials_enc=container.secrets.seal(creds),
            created_at=now,
            updated_at=now,
        )
        session.add(connector)
        await session.flush()
        return view_of(connector)


async def get_connector(
    container: Container, principal: Principal, project_ref: str, connector_id: str
) -> ConnectorView:
    async with container.sessions() as session:
        project = await project_in(session, principal, project_ref)
        connector = await rows.require_row(
            session, Connector, project.id, connector_id, CONNECTOR_NOT_FOUND
        )
        return view_of(connector)


async def list_connectors(
    container: Container, principal: Principal, project_ref: str
) -> list[ConnectorView]:
    async with container.sessions() as session:
        project = await project_in(session, principal, project_ref)
        return [view_of(c) for c in await rows.list_rows(session, Connector, project.id)]


async def update_connector(
    container: Container,
    principal: Principal,
    project_ref: str,
    connector_id: str,
    fields: ConnectorFields,
) -> ConnectorView:
    """Change the given fields; the result is validated as a whole before it is stored."""
    require_role(principal, Role.MEMBER)
    async with container.sessions.begin() as session:
        project = await project_in(session, principal, project_ref)
        given = fields.model_fields_set
        for field in ("name", "type", "base_url"):
            if field in given:
                _require(getattr(fields, field), field)
        connector = await rows.require_row(
            session, Connector, project.id, connector_id, CONNECTOR_NOT_FOUND
        )
        creds = (
            fields.credentials or {}
            if "credentials" in given
            else container.secrets.open(connector.credentials_enc)
        )
        type_ = fields.type if fields.type is not None else connector.type
        base_url = fields.base_url if fields.base_url is not None else connector.base_url
        config = fields.config if fields.config is not None else connector.config
        headers = fields.headers if fields.headers is not None else connector.headers
        await _validate_and_check(container, type_, base_url, config, headers, creds)
        connector.name = fields.name if fields.name is not None else connector.name
        connector.type, connector.base_url = type_, base_url
        connector.config, connector.headers = dict(config), dict(headers)
        connector.credentials_enc = container.secrets.seal(creds)
        connector.updated_at = datetime.now(UTC)
        await session.flush()
        return view_of(connector)


async def test_connector(
    container: Container, principal: Principal, project_ref: str, connector_id: str
) -> ConnectorView:
    """Check a stored connector now (see the module); its view when all is well.

    Raises:
        NotFound: no such project or connector for the caller.
        ValidationFailed: the key was refused, the agent is not there, or the platform could
            not be reached, naming the field.
    """
    require_role(principal, Role.MEMBER)
    async with container.sessions() as session:
        project = await project_in(session, principal, project_ref)
        connector = await rows.require_row(
            session, Connector, project.id, connector_id, CONNECTOR_NOT_FOUND
        )
        view = view_of(connector)
        creds = container.secrets.open(connector.credentials_enc)
    await check_connector(
        view.type,
        view.base_url,
        view.config,
        view.headers,
        creds,
        container.settings.outbound_policy,
        require_reachable=True,
    )
    return view


async def delete_connector(
    container: Container, principal: Principal, project_ref: str, connector_id: str
) -> None:
    """Delete a connector; one that an eval still uses is a Conflict naming those evals."""
    require_role(principal, Role.MEMBER)
    async with container.sessions.begin() as session:
        project = await project_in(session, principal, project_ref)
        connector = await rows.require_row(
            session, Connector, project.id, connector_id, CONNECTOR_NOT_FOUND
        )
        users = await rows.evals_using_connector(session, project.id, connector_id)
        if users:
            names = ", ".join(repr(e.name) for e in users)
            raise Conflict(f"Connector is used by evals {names}; change or delete them first")
        await rows.delete_row(session, connector)
