"""The catalogue of target kinds: validating an agent's configuration, and building targets.

Kind ``model`` is a bare model (``TargetSpec.model``); every other kind is an *agent kind*
described by an :class:`AgentKind`: a ``Config`` model of its non-secret settings, a
``Secrets`` model, and a factory. The built-ins are ``openai-chat``, ``http``, ``langgraph`` and
``python``.
A name that is not built in is looked up in the ``assay.targets`` entry-point group (name =
kind name, value = ``pkg.module:attribute`` naming an ``AgentKind``); the group is read only
on such a miss. Built-in names win; two entry points with one name are an error naming both.

Configuration is validated twice: when an agent is registered (``validate_agent_config``,
raising ``ValidationFailed`` for the API), and again when a worker builds the target from the
stored snapshot (``create_target``, raising ``ConfigurationError``: a snapshot that passed once
but fails here means this worker differs, e.g. a plugin or agent module is missing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, SecretStr
from pydantic import ValidationError as PydanticValidationError

from assay.core.errors import AssayError, ConfigurationError, ValidationFailed
from assay.core.outbound import OutboundPolicy
from assay.core.registry import Builtin, Registry
from assay.core.spec import ModelRef, TargetSpec
from assay.providers.base import ModelProvider, ProviderConfig
from assay.targets.base import Target

ENTRY_POINT_GROUP = "assay.targets"
#: The kind whose target is ``TargetSpec.model`` rather than a registered agent.
MODEL_KIND = "model"

MakeProvider = Callable[[ModelRef, ProviderConfig], ModelProvider]
"""Builds (or reuses) a provider; the caller owns it and closes it, never the target."""


@dataclass(frozen=True)
class TargetTools:
    """What a target factory gets from the engine; calling it builds a provider, as before.

    ``outbound`` is the policy the target's own HTTP clients must connect under (None: not
    guarded, for targets built outside the engine); providers from ``make_provider`` are
    already guarded by the engine's pool.
    """

    make_provider: MakeProvider
    outbound: OutboundPolicy | None = None

    def __call__(self, ref: ModelRef, config: ProviderConfig) -> ModelProvider:
        return self.make_provider(ref, config)


C = TypeVar("C", bound=BaseModel)
S = TypeVar("S", bound=BaseModel)


@dataclass(frozen=True)
class AgentKind(Generic[C, S]):
    """One agent kind: what its configuration looks like and how to build its target."""

    config: type[C]
    """Non-secret settings, stored in plain text and shown back; should forbid extra keys."""
    secrets: type[S]
    """Credentials, stored encrypted and never shown back."""
    create: Callable[[C, S, TargetTools], Target]
    url_fields: tuple[str, ...] = ()
    """Config fields that hold a URL Assay connects to, checked against the outbound policy
    when the agent is saved (and guarded again on every connection)."""


class AgentConfig(NamedTuple):
    """An agent's validated settings as plain JSON, ready to store."""

    config: dict[str, Any]
    secrets: dict[str, Any]


# Each built-in kind's module is imported when a spec first names it: ``http`` and
# ``langgraph`` bring httpx, which a run against a model never needs.


def _openai_chat_kind() -> AgentKind[Any, Any]:
    from assay.targets.openai_chat import OpenAIChatConfig, OpenAIChatSecrets, OpenAIChatTarget

    def create(config: OpenAIChatConfig, secrets: OpenAIChatSecrets, tools: TargetTools) -> Target:
        ref = ModelRef(provider="openai", model=config.model, base_url=config.base_url)
        provider_config = ProviderConfig(
            api_key=secrets.api_key, base_url=config.base_url, headers=config.headers
        )
        return OpenAIChatTarget(
            tools(ref, provider_config),
            system_prompt=config.system_prompt,
            temperature=config.temperature,
            max_tokens=config.max_tokens,
        )

    return AgentKind(OpenAIChatConfig, OpenAIChatSecrets, create, url_fields=("base_url",))


def _http_kind() -> AgentKind[Any, Any]:
    from assay.targets.http import HTTPConfig, HTTPSecrets, HTTPTarget

    def create(config: HTTPConfig, secrets: HTTPSecrets, tools: TargetTools) -> Target:
        return HTTPTarget(
            config,
            secret_headers={k: v.get_secret_value() for k, v in secrets.headers.items()},
            outbound=tools.outbound,
        )

    return AgentKind(HTTPConfig, HTTPSecrets, create, url_fields=("url",))


def _langgraph_kind() -> AgentKind[Any, Any]:
    from assay.targets.langgraph import LangGraphConfig, LangGraphSecrets, LangGraphTarget

    def create(config: LangGraphConfig, secrets: LangGraphSecrets, tools: TargetTools) -> Target:
        api_key = secrets.api_key.get_secret_value() if secrets.api_key else None
        return LangGraphTarget(config, api_key=api_key, outbound=tools.outbound)

    return AgentKind(LangGraphConfig, LangGraphSecrets, create, url_fields=("base_url",))


def _python_kind() -> AgentKind[Any, Any]:
    from assay.targets.python import PythonConfig, PythonSecrets, PythonTarget

    def create(config: PythonConfig, _secrets: PythonSecrets, _: TargetTools) -> Target:
        return PythonTarget(config.callable)

    return AgentKind(PythonConfig, PythonSecrets, create)


_BUILTINS: dict[str, Builtin] = {
    "openai-chat": Builtin(_openai_chat_kind),
    "http": Builtin(_http_kind),
    "langgraph": Builtin(_langgraph_kind),
    "python": Builtin(_python_kind),
}


def _accept(loaded: object, name: str, source: str) -> AgentKind[Any, Any]:
    if not isinstance(loaded, AgentKind):
        raise ConfigurationError(
            f"target kind {name!r} ({source}) is a {type(loaded).__name__}, not an AgentKind"
        )
    return loaded


def _unknown(name: str, known: list[str]) -> AssayError:
    return ValidationFailed.for_field(
        ("kind",), f"unknown agent kind {name!r}; known kinds: {', '.join(known)}"
    )


AGENT_KINDS: Registry[AgentKind[Any, Any]] = Registry(
    "target kind",
    ENTRY_POINT_GROUP,
    _BUILTINS,
    _accept,
    _unknown,
)


def known_target_kinds() -> list[str]:
    """Every kind a ``TargetSpec`` may name, ``model`` included, sorted; imports nothing."""
    return sorted({MODEL_KIND, *AGENT_KINDS.names()})


def validate_agent_config(
    kind: str,
    config: dict[str, Any],
    secrets: dict[str, Any],
    outbound: OutboundPolicy | None = None,
) -> AgentConfig:
    """Check an agent's settings before they are stored.

    Returns the config with every default filled in (a complete snapshot) and the secrets
    that were given, both as plain JSON. With ``outbound``, the kind's ``url_fields`` must
    be URLs that policy allows.

    Raises:
        ValidationFailed: the kind is unknown (loc ``kind``, listing the known kinds), or a
            field is wrong (loc ``config.<field>`` or ``secrets.<field>``; a ``python``
            callable that does not import is ``config.callable``; a refused URL names its
            field and the reason). Messages never contain secret values.
    """
    agent_kind = _agent_kind(kind)
    parsed_config = _parse(agent_kind.config, config, "config")
    parsed_secrets = _parse(agent_kind.secrets, secrets, "secrets")
    if outbound is not None:
        _check_urls(parsed_config, agent_kind.url_fields, outbound)
    return AgentConfig(
        config=parsed_config.model_dump(mode="json"),
        secrets=_reveal(parsed_secrets.model_dump(exclude_defaults=True)),
    )


def _check_urls(config: BaseModel, fields: tuple[str, ...], outbound: OutboundPolicy) -> None:
    for field in fields:
        value = getattr(config, field, None)
        outbound.check_field(("config", field), value if isinstance(value, str) else None)


def create_target(
    spec: TargetSpec,
    secrets: dict[str, Any],
    make_provider: MakeProvider,
    outbound: OutboundPolicy | None = None,
) -> Target:
    """Build the target a spec describes; the caller closes it with ``aclose``.

    ``outbound`` guards the connections of the target's own HTTP clients (None: unguarded).

    For kind ``model``, ``secrets`` may hold provider credentials (``api_key``,
    ``base_url``); for an agent kind it holds the agent's own secrets.

    Raises:
        ConfigurationError: the kind is unknown here, ``model`` has no ``spec.model``, or
            the stored configuration no longer validates on this worker.
    """
    if spec.kind == MODEL_KIND:
        return _create_model(spec, secrets, make_provider)
    try:
        agent_kind = _agent_kind(spec.kind)
        config = _parse(agent_kind.config, spec.config, "config")
        parsed_secrets = _parse(agent_kind.secrets, secrets, "secrets")
    except ValidationFailed as exc:
        raise ConfigurationError(f"target {spec.kind!r}: {exc.message}") from exc
    return agent_kind.create(config, parsed_secrets, TargetTools(make_provider, outbound))


def _create_model(spec: TargetSpec, secrets: dict[str, Any], make_provider: MakeProvider) -> Target:
    ref = spec.model
    if ref is None:
        raise ConfigurationError("target.model is required when target.kind is 'model'")
    api_key = secrets.get("api_key")
    provider_config = ProviderConfig(
        api_key=SecretStr(str(api_key)) if api_key else None,
        base_url=secrets.get("base_url") or ref.base_url,
    )
    from assay.targets.model import ModelTarget

    return ModelTarget(
        make_provider(ref, provider_config),
        system_prompt=ref.system_prompt,
        temperature=ref.temperature,
        max_tokens=ref.max_tokens,
    )


def _parse(model: type[C], data: dict[str, Any], prefix: str) -> C:
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationFailed.from_pydantic(exc, prefix=(prefix,), model=model) from exc


def _reveal(value: Any) -> Any:
    """Secret values as plain strings, for encrypted storage (the only place they go)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal(v) for v in value]
    return value


def _agent_kind(name: str) -> AgentKind[Any, Any]:
    return AGENT_KINDS.get(name)
